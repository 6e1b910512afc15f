"""A small hand-written lake in every file format: frames, lineage tables and ``write_lake``.

Imported by tests (``from handmade_lake import write_lake``) and by tests/conftest.py's fixtures;
a module of its own, not conftest, so a sub-folder's conftest.py (tests/jupyter) cannot shadow it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import yaml

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
RAW_EMAILS = ["alice.liddell@example.org", "bob.builder@example.net", "carol.danvers@example.com"]
RAW_PHONES = ["+44 20 7946 0958", "+1 415 555 0134", "+49 30 901820"]


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def predictions_frame(n: int = 288) -> pl.DataFrame:
    """One row every 10 minutes over two days; 1.1.0 canary from +20 h, primary from +26 h."""
    rows = []
    for i in range(n):
        t = T0 + dt.timedelta(minutes=10 * i)
        hours = (t - T0).total_seconds() / 3600
        if hours >= 26:
            version, route = "1.1.0", "primary"
        elif hours >= 20 and i % 10 == 0:
            version, route = "1.1.0", "canary"
        else:
            version, route = "1.0.0", "primary"
        rows.append({
            "request_id": f"req-{i:05d}",
            "trace_id": f"{i:032x}",
            "timestamp": t.replace(tzinfo=None),
            "model_version": version,
            "route": route,
            "latency_ms": 20.0 + (i % 17),
            "is_fallback": i % 50 == 0,
            "prediction": int(i % 3 == 0),
            "score": (i % 100) / 100,
            "amount": 10.0 + (i % 23) * 3.5,
            "account_age_days": float(i % 400),
            "country": ["GB", "US", "DE"][i % 3],
            "device": ["ios", "android", "web"][(i // 2) % 3],
            "region": ["north", "south"][i % 2],
            "email": RAW_EMAILS[i % 3],
            "phone": RAW_PHONES[i % 3],
            "client_tag": f"web-{i % 4}.{i % 7}",
            "embedding": [float(i % 5), 0.5, -1.0],
            "feature_set_version": "fs-3" if hours < 30 else "fs-4",
        })
    return pl.DataFrame(rows).with_columns(pl.col("embedding").cast(pl.List(pl.Float32)))


def labels_frame(preds: pl.DataFrame) -> pl.DataFrame:
    return preds.select(
        "request_id",
        ((pl.col("score") > 0.5).cast(pl.Int64)).alias("label"),
        (pl.col("timestamp") + pl.duration(days=1)).alias("labeled_at"),
    ).filter(pl.col("request_id").str.slice(-1).is_in(["0", "2", "4", "6", "8"]))


DEPLOYMENTS = """model_version,deployed_at,route,traffic_pct,training_dataset,artifact_digest,serving_commit,artifact_uri,notes
1.0.0,2026-02-20T09:00:00Z,primary,100,train@2026-02-15,aaaa1111,c0ffee01,,initial
1.1.0,2026-03-01T20:00:00Z,canary,10,train@2026-02-28,bbbb2222,c0ffee02,,canary
1.1.0,2026-03-02T02:00:00Z,primary,100,train@2026-02-28,bbbb2222,c0ffee02,,promote
1.1.0,2026-03-02T02:00:00Z,canary,0,train@2026-02-28,bbbb2222,c0ffee02,,canary off
"""

FEATURES = """feature,version,valid_from,source_dataset,source_field,transform
amount,1,2026-01-01T00:00:00Z,warehouse/payments,amount_usd,identity
account_age_days,1,2026-01-01T00:00:00Z,warehouse/accounts,age_days,identity
account_age_days,2,2026-03-01T12:00:00Z,warehouse/accounts,age_days,"clip(0, 3650)"
country,1,2026-01-01T00:00:00Z,warehouse/accounts,country_code,upper
device,1,2026-01-01T00:00:00Z,events/sessions,device_type,
"""

DEPENDENCIES = """dependency,version,changed_at,consumers
embedding-api,2.4.0,2026-01-01T00:00:00Z,embedding
embedding-api,2.4.1,2026-03-01T15:00:00Z,embedding
geo-api,1.0.0,2026-01-01T00:00:00Z,country;region
"""


def _ol_event(etype, t, run_id, job, dataset, fields):
    return {
        "eventType": etype, "eventTime": _iso(t), "run": {"runId": run_id},
        "job": {"namespace": "etl", "name": job},
        "inputs": [{"namespace": "raw", "name": "events"}],
        "outputs": [{"namespace": dataset.split("/")[0], "name": dataset.split("/")[1],
                     "facets": {"schema": {"_producer": "test", "fields": [
                         {"name": n, "type": ty} for n, ty in fields]},
                         "dataQualityMetrics": {"rowCount": 100}}}],
        "producer": "https://example.invalid/test", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json",
    }


def openlineage_events() -> list[dict]:
    pay = [("amount_usd", "DOUBLE"), ("merchant", "STRING")]
    acc = [("age_days", "BIGINT"), ("country_code", "STRING")]
    events = []
    for day in range(3):
        t = T0 - dt.timedelta(days=1) + dt.timedelta(days=day, hours=3)
        pay_fields = pay if day < 2 else [("amount_cents", "DOUBLE"), ("merchant", "STRING")]
        acc_fields = acc if day < 2 else [("age_days", "INTEGER"), ("country_code", "STRING"), ("tier", "STRING")]
        for job, ds, fields in (("load_payments", "warehouse/payments", pay_fields),
                                ("load_accounts", "warehouse/accounts", acc_fields)):
            rid = f"{day:08d}-0000-4000-8000-{abs(hash(job)) % 10**12:012d}"
            events.append(_ol_event("START", t, rid, job, ds, []))
            events.append(_ol_event("COMPLETE", t + dt.timedelta(minutes=20), rid, job, ds, fields))
    return events


TRAFFIC = "timestamp,interval_s,requests,route\n" + "".join(
    f"{_iso(T0 + dt.timedelta(hours=h))},3600,{6},primary\n" for h in range(48))


def write_lake(root: Path, *, fmt: str = "parquet", hive: bool = False, manifest: dict | None = None,
               preds: pl.DataFrame | None = None, labels: bool = True) -> Path:
    """Write the small lake to ``root`` in ``fmt`` (parquet | csv | ndjson)."""
    root.mkdir(parents=True, exist_ok=True)
    preds = predictions_frame() if preds is None else preds
    (root / "predictions").mkdir(exist_ok=True)
    (root / "lineage").mkdir(exist_ok=True)
    (root / "metrics").mkdir(exist_ok=True)
    text = preds.with_columns(
        pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    if fmt == "parquet":
        if hive:
            for day, part in preds.with_columns(pl.col("timestamp").dt.date().alias("_d")).group_by(
                    "_d", maintain_order=True):
                d = root / "predictions" / f"date={day[0]}"
                d.mkdir(parents=True, exist_ok=True)
                part.drop("_d").write_parquet(d / "part-0.parquet")
        else:
            half = preds.height // 2
            preds[:half].write_parquet(root / "predictions" / "part-0.parquet")
            preds[half:].write_parquet(root / "predictions" / "part-1.parquet")
    elif fmt == "csv":
        text.with_columns(pl.col("embedding").map_elements(lambda v: json.dumps(list(v)),
                                                           return_dtype=pl.String)).write_csv(
            root / "predictions" / "predictions.csv")
    elif fmt == "ndjson":
        text.write_ndjson(root / "predictions" / "predictions.ndjson")
    else:
        raise ValueError(fmt)
    if labels:
        (root / "labels").mkdir(exist_ok=True)
        lab = labels_frame(preds)
        if fmt == "parquet":
            lab.write_parquet(root / "labels" / "labels.parquet")
        else:
            lab.with_columns(pl.col("labeled_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_csv(
                root / "labels" / "labels.csv")
    (root / "lineage" / "deployments.csv").write_text(DEPLOYMENTS)
    (root / "lineage" / "features.csv").write_text(FEATURES)
    (root / "lineage" / "dependencies.csv").write_text(DEPENDENCIES)
    (root / "lineage" / "openlineage.ndjson").write_text(
        "\n".join(json.dumps(e) for e in openlineage_events()) + "\n")
    (root / "metrics" / "traffic.csv").write_text(TRAFFIC)
    m = {
        "name": "tiny-scorer",
        "task": "binary_classification",
        "predictions": "predictions/",
        "labels": "labels/" if labels else None,
        "features": {"numeric": ["amount", "account_age_days"], "categorical": ["country", "device"]},
        "segments": ["region"],
        "sensitive": ["email", "phone"],
        "slo": {"latency_p95_ms": 250},
    }
    if not labels:
        m.pop("labels")
    if manifest:
        m.update(manifest)
    (root / "workbench.yaml").write_text(yaml.safe_dump(m, sort_keys=False))
    return root
