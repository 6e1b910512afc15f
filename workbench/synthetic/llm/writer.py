"""Writing an LLM lake: predictions and labels (Parquet, one file a day), lineage tables, ingress
traffic and the manifest, in the layout of the telemetry-lake contract (``task: generation``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import yaml

from workbench.synthetic.ids import hex_digest
from workbench.synthetic.llm.rows import Calls
from workbench.synthetic.llm.scenario import Scenario
from workbench.synthetic.llm.vocab import MODELS
from workbench.synthetic.traffic import BIN_US
from workbench.synthetic.world import stream
from workbench.synthetic.writer import iso

__all__ = ["ROLES", "write_lake"]

#: every role an LLM lake's predictions or labels may carry, in manifest order
ROLES = ("request_id", "trace_id", "timestamp", "model_version", "route", "latency_ms", "conversation_id",
         "operation", "provider", "request_model", "response_model", "prompt_template", "prompt_version",
         "input_tokens", "output_tokens", "cost", "time_to_first_token_ms", "finish_reason", "prompt_text",
         "response_text", "context_text", "retrieved_ids", "retrieval_scores", "index_version", "policy_action",
         "policy_flags", "query_embedding", "router_decision", "router_score", "feedback", "escalated", "labeled_at")


def _csv(rows: list[dict], time_columns: tuple[str, ...], path: Path) -> None:
    frame = pl.DataFrame([{k: (iso(v) if k in time_columns else v) for k, v in row.items()} for row in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)


def _rename(frame: pl.DataFrame, sc: Scenario) -> pl.DataFrame:
    return frame.rename({k: v for k, v in sc.columns.items() if k in frame.columns})


def _deployments(sc: Scenario) -> list[dict]:
    rng = stream(sc.seed, "llm", "deployments")
    rows = []
    for r in sc.releases:
        common = {"model_version": r.version, "training_dataset": "", "artifact_digest": hex_digest(rng, 64),
                  "serving_commit": hex_digest(rng, 40), "artifact_uri": ""}
        if r.canary_pct == 0.0:
            rows.append({**common, "deployed_at": r.at_us, "route": "primary", "traffic_pct": 100.0,
                         "notes": r.notes})
            continue
        rows.append({**common, "deployed_at": r.at_us, "route": "canary", "traffic_pct": r.canary_pct,
                     "notes": f"{r.notes}: canary {r.canary_pct:.0f}%"})
        if r.promote_us is not None:
            rows.append({**common, "deployed_at": r.promote_us, "route": "primary", "traffic_pct": 100.0,
                         "notes": "promote to 100%"})
            rows.append({**common, "deployed_at": r.promote_us, "route": "canary", "traffic_pct": 0.0,
                         "notes": "close canary"})
    order = ["model_version", "deployed_at", "route", "traffic_pct", "training_dataset", "artifact_digest",
             "serving_commit", "artifact_uri", "notes"]
    return sorted(({k: row[k] for k in order} for row in rows), key=lambda x: x["deployed_at"])


def _prices(sc: Scenario) -> list[dict]:
    rows = []
    for provider, model in sc.models:
        names, p_in, p_out = MODELS[provider][model][:3]
        for name in (model, *names):
            rows.append({"provider": provider, "model": name, "valid_from": sc.start_us - 400 * 86_400_000_000,
                         "input_per_1k": p_in, "output_per_1k": p_out, "currency": "USD"})
    if sc.price_cut is not None:
        m, at, p_in, p_out = sc.price_cut
        provider, model = sc.models[m]
        for name in (model, *MODELS[provider][model][0]):
            rows.append({"provider": provider, "model": name, "valid_from": at, "input_per_1k": p_in,
                         "output_per_1k": p_out, "currency": "USD"})
    return rows


def write_lake(root: Path, sc: Scenario, calls: Calls) -> None:
    """Write every file of the lake under ``root`` (an empty directory)."""
    preds = calls.predictions
    if not sc.has_cost:
        preds = preds.drop("cost")
    day = pl.col("timestamp").dt.date()
    for (date,), part in preds.with_columns(_d=day).partition_by("_d", as_dict=True, maintain_order=True).items():
        target = root / "predictions" / f"date={date.isoformat()}" / "part-0.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        _rename(part.drop("_d"), sc).write_parquet(target, statistics=True)
    labels = calls.labels.with_columns(_d=pl.col("labeled_at").dt.date())
    (root / "labels").mkdir(parents=True, exist_ok=True)
    for (date,), part in labels.partition_by("_d", as_dict=True, maintain_order=True).items():
        _rename(part.drop("_d"), sc).write_parquet(root / "labels" / f"part-{date.isoformat()}.parquet")

    lineage = root / "lineage"
    _csv(_deployments(sc), ("deployed_at",), lineage / "deployments.csv")
    _csv([{"prompt_template": sc.template, "version": p.version, "changed_at": p.at_us, "text_sha256": p.sha,
           "author": p.author} for p in sc.prompts], ("changed_at",), lineage / "prompts.csv")
    _csv([{"index": sc.index_name, "version": b.version, "built_at": b.at_us, "documents": int(b.present.sum()),
           "source_dataset": sc.source_dataset} for b in sc.indexes], ("built_at",), lineage / "indexes.csv")
    _csv(_prices(sc), ("valid_from",), lineage / "prices.csv")
    deps = [{"dependency": f"{sc.models[s.model][0]}:{sc.models[s.model][1]}", "version": s.name,
             "changed_at": s.at_us, "consumers": "response_text"} for s in sc.snapshots if s.announced]
    _csv(sorted(deps, key=lambda d: d["changed_at"]), ("changed_at",), lineage / "dependencies.csv")

    per = sc.traffic_interval_s * 1_000_000 // BIN_US
    counts = calls.ingress.reshape(-1, per, 2).sum(axis=1)
    starts = sc.start_us + np.arange(counts.shape[0], dtype=np.int64) * per * BIN_US
    _csv([{"timestamp": int(starts[i]), "interval_s": sc.traffic_interval_s, "requests": int(counts[i, r]),
           "route": ("primary", "canary")[r]} for i, r in zip(*np.nonzero(counts))], ("timestamp",),
         root / "metrics" / "traffic.csv")

    present = set(preds.columns) | set(calls.labels.columns)
    manifest = {
        "name": sc.name,
        "task": "generation",
        "predictions": "predictions/",
        "labels": "labels/",
        "columns": {role: sc.columns.get(role, role) for role in ROLES if role in present},
        # prompts hold users' own contact details, but masking them (what `sensitive` does) would
        # hide the text the detectors read: a leak is personal data in an answer that the prompt lacks
        "sensitive": [],
        "slo": {"latency_p95_ms": float(np.round(preds["latency_ms"].head(preds.height // 2).quantile(0.95) * 1.8, -2)),
                "capture_rate": 0.99},
        "lineage": {"deployments": "lineage/deployments.csv", "dependencies": "lineage/dependencies.csv",
                    "prompts": "lineage/prompts.csv", "indexes": "lineage/indexes.csv",
                    "prices": "lineage/prices.csv", "traffic": "metrics/traffic.csv"},
    }
    text = yaml.safe_dump(manifest, sort_keys=False, default_flow_style=None, width=100)
    (root / "workbench.yaml").write_text(text, encoding="utf-8")
