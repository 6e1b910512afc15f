"""The LLM lake generator: determinism, the contract, and every cause x variant doing what its truth says."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
import yaml

from workbench.synthetic import LLM_CAUSES, Truth, generate_llm_lake
from workbench.synthetic.llm.vocab import MODELS, NEW_TOPICS, REFUSALS
from workbench.synthetic.llm.writer import ROLES

ROWS, DAYS = 12_000, 10
REASK = ("That didn't answer my question.", "Again:", "Sorry, to be clear:", "I still need help.", "Let me rephrase.")
_CITE = r"\[((?:kb|doc)-\d{4})\]"
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}"


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


class Lake:
    """A generated lake read back with polars, columns under their role names."""

    def __init__(self, root: Path, truth: Truth):
        self.root, self.truth = root, truth
        self.manifest = yaml.safe_load((root / "workbench.yaml").read_text())
        back = {v: k for k, v in self.manifest["columns"].items()}
        self.preds = pl.read_parquet(root / "predictions", hive_partitioning=True).rename(
            {c: back[c] for c in back if c in pl.read_parquet_schema(next((root / "predictions").rglob("*.parquet")))})
        self.labels = pl.read_parquet(root / "labels").rename(
            {c: back[c] for c in back if c in ("thumbs",)})
        self.lineage = {p.stem: pl.read_csv(p, infer_schema_length=0) for p in (root / "lineage").glob("*.csv")}
        self.traffic = pl.read_csv(root / "metrics" / "traffic.csv", try_parse_dates=True)

    def window(self, before: bool, hours: float = 72, at=None, frame: pl.DataFrame | None = None) -> pl.DataFrame:
        at = at or self.truth.onset
        frame = self.preds if frame is None else frame
        t = pl.col("timestamp")
        if before:
            return frame.filter(t < at, t >= at - timedelta(hours=hours))
        return frame.filter(t >= at, t < at + timedelta(hours=hours))


_CACHE: dict[tuple, Lake] = {}


def lake_for(tmp_path_factory, cause: str, variant: int = 0, seed: int = 11, **kw) -> Lake:
    key = (cause, variant, seed, tuple(sorted(kw.items())))
    if key not in _CACHE:
        root = tmp_path_factory.mktemp(f"llm-{cause}-{variant}")
        truth = generate_llm_lake(root, cause=cause, variant=variant, seed=seed,
                                  rows=kw.pop("rows", ROWS), days=kw.pop("days", DAYS), **kw)
        _CACHE[key] = Lake(root, truth)
    return _CACHE[key]


# ---- measures (the injected symptoms, computed from the data alone) -------------------------------

def grounded(frame: pl.DataFrame) -> float:
    """Share of answer sentences found verbatim in the retrieved context (answers, not refusals)."""
    s = (frame.filter(pl.col("policy_action") == "allowed", ~pl.col("response_text").is_in(list(REFUSALS)))
         .select("request_id", "context_text",
                 sent=pl.col("response_text").str.replace_all(r" \[(?:kb|doc)-\d{4}\]", "").str.split(". "))
         .explode("sent").filter(pl.col("sent").str.len_chars() > 40, ~pl.col("sent").str.starts_with("Thanks"),
                                 ~pl.col("sent").str.starts_with("I have noted"))
         .with_columns(hit=pl.col("context_text").str.contains(pl.col("sent").str.strip_chars_end("."), literal=True)))
    return float(s["hit"].mean())


def refusal_rate(frame: pl.DataFrame) -> float:
    return float(frame["response_text"].is_in(list(REFUSALS)).mean())


def thumbs_down(lake: Lake, frame: pl.DataFrame) -> float:
    joined = frame.join(lake.labels, on="request_id").filter(pl.col("feedback").is_not_null())
    return float((joined["feedback"] == -1).mean())


def cited_share(frame: pl.DataFrame) -> float:
    return float(frame["response_text"].str.contains(_CITE).mean())


def wrong_citation_share(frame: pl.DataFrame) -> float:
    x = frame.select("retrieved_ids", cites=pl.col("response_text").str.extract_all(_CITE)
                     .list.eval(pl.element().str.strip_chars("[]")))
    x = x.filter(pl.col("cites").list.len() > 0)
    return float(x.select((pl.col("cites").list.set_difference("retrieved_ids").list.len() > 0).mean()).item())


def reask_rate(frame: pl.DataFrame) -> float:
    later = frame.filter(pl.col("turn") > 0)
    return float(later.select(pl.any_horizontal(pl.col("prompt_text").str.starts_with(p) for p in REASK)
                              .mean()).item())


def leaked_emails(frame: pl.DataFrame) -> int:
    x = frame.select(r=pl.col("response_text").str.extract_all(_EMAIL), p=pl.col("prompt_text").str.extract_all(_EMAIL))
    return int(x.select(pl.col("r").list.set_difference("p").list.len().sum()).item())


def _priced(frame: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    """Each call with the price row in force for its request model at its timestamp."""
    table = prices.select(pl.col("model").alias("request_model"),
                          pl.col("valid_from").str.to_datetime(time_zone="UTC").dt.cast_time_unit("us"),
                          pl.col("input_per_1k").cast(pl.Float64), pl.col("output_per_1k").cast(pl.Float64))
    return frame.sort("timestamp").join_asof(table.sort("valid_from"), left_on="timestamp", right_on="valid_from",
                                             by="request_model", check_sortedness=False)  # sorted above


# ---- API -----------------------------------------------------------------------------------------

def test_exports_and_causes():
    assert set(LLM_CAUSES) == {"none", "prompt_regression", "provider_model_change", "retrieval_regression",
                               "safety_regression", "cost_regression", "routing_regression", "latency_regression",
                               "telemetry_loss", "pii_leak", "data_drift"}
    assert LLM_CAUSES["prompt_regression"] >= 3


@pytest.mark.parametrize("kwargs, match", [
    ({"cause": "nope"}, "unknown cause"), ({"cause": "prompt_regression", "variant": 3}, "variant"),
    ({"rows": 10}, "rows"), ({"days": 3}, "days"), ({"app": "chatbot"}, "unknown app"),
    ({"cause": "routing_regression", "app": "support_rag"}, "needs app"), ({"seed": -1}, "seed"),
])
def test_bad_arguments_are_named(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_llm_lake(tmp_path / "x", **kwargs)


def test_refuses_to_overwrite_without_permission(tmp_path):
    generate_llm_lake(tmp_path / "a", rows=2_000, days=7)
    with pytest.raises(FileExistsError, match="overwrite"):
        generate_llm_lake(tmp_path / "a", rows=2_000, days=7)
    generate_llm_lake(tmp_path / "a", rows=2_000, days=7, overwrite=True)


def test_same_arguments_same_bytes(tmp_path):
    a = generate_llm_lake(tmp_path / "a", cause="retrieval_regression", seed=4, rows=4_000, days=7)
    b = generate_llm_lake(tmp_path / "b", cause="retrieval_regression", seed=4, rows=4_000, days=7)
    assert a == b
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    c = generate_llm_lake(tmp_path / "c", cause="retrieval_regression", seed=5, rows=4_000, days=7)
    assert c.onset != a.onset and _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_truth_round_trips_with_prompt_and_index_keys(tmp_path_factory):
    lake = lake_for(tmp_path_factory, "prompt_regression")
    truth = lake.truth
    assert Truth.from_json(lake.root / "truth.json") == truth
    raw = json.loads((lake.root / "truth.json").read_text())
    assert raw["task"] == "generation" and raw["theme"] in ("support_rag", "search_router")
    assert set(raw["subject"]) == {"feature", "column", "model_version", "segment", "dependency", "dataset",
                                   "route", "prompt", "index"}
    assert raw["subject"]["prompt"] == truth.subject["prompt"]


def test_old_truth_files_stay_readable_and_byte_stable(tmp_path):
    old = {"cause": "none", "variant": 0, "seed": 1, "rows": 10, "start": "2026-01-01T00:00:00Z",
           "end": "2026-01-08T00:00:00Z", "onset": None,
           "subject": {k: None for k in ("feature", "column", "model_version", "segment", "dependency", "dataset",
                                         "route")}, "description": "x"}
    truth = Truth.from_dict(old)
    assert "prompt" not in truth.to_dict()["subject"]  # lakes of other tasks keep their truth.json bytes
    assert truth.to_dict()["subject"] == old["subject"]


# ---- the contract --------------------------------------------------------------------------------

@pytest.mark.parametrize("app", ["support_rag", "search_router"])
def test_contract(tmp_path_factory, app):
    lake = lake_for(tmp_path_factory, "none", seed=3, app=app)
    m, p = lake.manifest, lake.preds
    assert m["task"] == "generation" and lake.truth.task == "generation" and lake.truth.theme == app
    for key in ("prompts", "indexes", "prices", "deployments", "dependencies", "traffic"):
        assert (lake.root / m["lineage"][key]).is_file()
    need = {"request_id", "trace_id", "timestamp", "model_version", "route", "latency_ms", "conversation_id",
            "operation", "provider", "request_model", "response_model", "prompt_template", "prompt_version",
            "input_tokens", "output_tokens", "time_to_first_token_ms", "finish_reason", "prompt_text",
            "response_text", "context_text", "retrieved_ids", "retrieval_scores", "index_version", "policy_action",
            "policy_flags"}
    assert need <= set(p.columns)
    assert set(m["columns"]) <= set(ROLES)
    assert p.schema["retrieved_ids"] == pl.List(pl.String) and p.schema["retrieval_scores"] == pl.List(pl.Float64)
    assert p.schema["policy_flags"] == pl.List(pl.String) and p.schema["input_tokens"] == pl.Int64
    assert p["request_id"].n_unique() == p.height
    assert abs(p.height - ROWS) / ROWS < 0.12
    if app == "search_router":
        assert set(p["router_decision"].unique()) == {"big", "small"} and p["router_score"].is_between(0, 1).all()
    else:
        assert "router_decision" not in p.columns

    # text sizes and realism
    plen, rlen, clen = (p[c].str.len_chars() for c in ("prompt_text", "response_text", "context_text"))
    assert 90 <= plen.median() <= 400 and plen.max() <= 600
    assert 200 <= rlen.filter(p["finish_reason"] == "stop").median() <= 1200
    assert 300 <= clen.filter(clen > 0).median() <= 1500
    assert cited_share(p) > 0.8 and wrong_citation_share(p) < 0.05
    assert p["retrieved_ids"].list.eval(pl.element().str.contains(r"^(kb|doc)-\d{4}$")).list.all().all()
    assert (p["retrieved_ids"].list.len() == p["retrieval_scores"].list.len()).all()
    assert p["prompt_text"].str.contains(_EMAIL).sum() > 0  # users paste their own e-mail: not a leak
    assert leaked_emails(p) == 0

    # finish reasons, policy, refusals
    assert 0 < p["finish_reason"].null_count() < 0.01 * p.height  # a few streams cut off mid-answer
    share = p["finish_reason"].drop_nulls().value_counts(normalize=True)
    shares = dict(zip(share["finish_reason"], share["proportion"]))
    assert shares["stop"] > 0.95 and 0 < shares.get("content_filter", 0) < 0.01 and 0 < shares.get("length", 0) < 0.01
    assert set(p["policy_action"].unique()) <= {"allowed", "blocked", "rewritten"}
    assert ((p["policy_action"] == "allowed") == (p["policy_flags"].list.len() == 0)).all()
    assert 0.001 < refusal_rate(p) < 0.03

    # tokens follow text (~4 characters a token) plus the system prompt
    stop = p.filter(pl.col("finish_reason") == "stop", pl.col("response_text").str.len_chars() >= 100)
    ratio = stop["output_tokens"] / (stop["response_text"].str.len_chars() / 4)
    assert ratio.is_between(0.9, 1.12).all()
    sys_tokens = p["input_tokens"] - (p["prompt_text"].str.len_chars() / 4).ceil() - (
        p["context_text"].str.len_chars() / 4).ceil()
    assert sys_tokens.filter(p["turn"] == 0).min() >= 150
    trunc = p.filter(pl.col("finish_reason") == "length")
    assert (trunc["response_text"].str.len_chars() == trunc["output_tokens"] * 4).all()

    # the response model is the dated snapshot of the request model; prices cover both names
    snapshots = {name: req for prov in MODELS.values() for req, spec in prov.items() for name in spec[0]}
    pairs = p.select("request_model", "response_model").unique()
    assert all(snapshots[r] == q for q, r in pairs.iter_rows())
    prices = lake.lineage["prices"]
    assert set(p["response_model"]) | set(p["request_model"]) <= set(prices["model"])
    if "cost" in p.columns:  # logged cost = tokens at the price in force that day
        priced = _priced(p, prices)
        expect = priced["input_tokens"] / 1000 * priced["input_per_1k"] + priced["output_tokens"] / 1000 * priced[
            "output_per_1k"]
        assert priced.height == p.height and ((priced["cost"] - expect).abs() < 1e-6).all()

    # latency depends on output tokens; ttft below latency
    assert (p["time_to_first_token_ms"] < p["latency_ms"]).all()
    assert p.select(pl.corr("latency_ms", "output_tokens")).item() > 0.3

    # conversations of 1-5 turns; some users re-ask
    turns = p.group_by("conversation_id").agg(pl.len(), pl.col("turn").max())
    assert turns["turn"].max() <= 4 and turns["len"].max() <= 5 and (turns["len"] > 1).mean() > 0.3
    assert reask_rate(p) > 0.01

    # delayed feedback on a minority of calls
    lab = lake.labels
    assert set(lab["feedback"].drop_nulls().unique()) <= {-1, 1, 0}
    coverage = lab["feedback"].drop_nulls().len() / p.height
    assert 0.15 < coverage < 0.5
    j = lab.join(p.select("request_id", "timestamp"), on="request_id")
    assert j.height == lab.height and (j["labeled_at"] > j["timestamp"]).all()
    assert (j["labeled_at"] - j["timestamp"]).dt.total_minutes().median() > 30

    # lineage tables and ingress
    assert list(lake.lineage["prompts"].columns) == ["prompt_template", "version", "changed_at", "text_sha256", "author"]
    assert list(lake.lineage["indexes"].columns) == ["index", "version", "built_at", "documents", "source_dataset"]
    assert list(lake.lineage["prices"].columns) == ["provider", "model", "valid_from", "input_per_1k",
                                                    "output_per_1k", "currency"]
    assert lake.lineage["dependencies"]["dependency"].str.contains(r"^[a-z]+:[a-z0-9.-]+$").all()
    assert set(p["prompt_version"]) <= set(lake.lineage["prompts"]["version"])
    assert set(p["index_version"]) <= set(lake.lineage["indexes"]["version"])
    assert set(p["model_version"]) <= set(lake.lineage["deployments"]["model_version"])
    assert lake.traffic["requests"].sum() >= p.height


def test_query_embeddings_cluster_by_topic(tmp_path_factory):
    for seed in range(20):
        lake = lake_for(tmp_path_factory, "none", seed=seed, rows=3_000, days=7)
        if "query_embedding" in lake.preds.columns:
            break
    else:
        pytest.fail("no seed of 20 wrote query embeddings")
    p = lake.preds
    dim = p["query_embedding"].list.len().unique().to_list()
    assert len(dim) == 1 and 16 <= dim[0] <= 32
    first = p.with_columns(q=_question())
    # the same query asked twice lands close; different queries less so
    import numpy as np
    vec = np.stack(first["query_embedding"].to_numpy())
    same = first.with_row_index().group_by("q").agg(pl.col("index")).filter(pl.col("index").list.len() > 1)
    a, b = zip(*[(i[0], i[1]) for i in same["index"].to_list()[:200]])
    close = (vec[list(a)] * vec[list(b)]).sum(axis=1).mean()
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, len(vec), 400), rng.integers(0, len(vec), 400)
    assert close > (vec[x] * vec[y]).sum(axis=1).mean() + 0.3


def test_some_seeds_rename_columns_and_drop_cost(tmp_path_factory):
    renamed = cost_missing = 0
    for seed in range(16):
        lake = lake_for(tmp_path_factory, "none", seed=seed, rows=2_000, days=7)
        cols = lake.manifest["columns"]
        moved = {k: v for k, v in cols.items() if k != v}
        if moved:
            renamed += 1
            assert 2 <= len(moved) <= 3
            files = pl.read_parquet_schema(next((lake.root / "predictions").rglob("*.parquet")))
            label_cols = set(pl.read_parquet(lake.root / "labels").columns)
            for role, column in moved.items():
                assert column in files or column in label_cols
        if "cost" not in cols:
            cost_missing += 1
    assert 1 <= renamed <= 9 and 2 <= cost_missing <= 11


# ---- every cause and variant: the data show what the truth says ----------------------------------

CASES = [(c, v) for c, n in LLM_CAUSES.items() for v in range(n) if c != "none"]


@pytest.mark.parametrize("cause, variant", CASES)
def test_cause_moves_its_symptom_at_the_onset(tmp_path_factory, cause, variant):
    lake = lake_for(tmp_path_factory, cause, variant)
    truth, p = lake.truth, lake.preds
    assert truth.cause == cause and truth.variant == variant and truth.onset is not None
    span = truth.end - truth.start
    assert truth.onset >= truth.start + span * 0.6 and truth.onset <= truth.end - timedelta(days=2)
    sub = {k: v for k, v in truth.subject.items() if v is not None}
    before, after = lake.window(True), lake.window(False)
    assert before.height > 500 and (after.height > 500 or cause == "telemetry_loss")
    if "model_version" in sub:  # a release carries it: compare its calls with the calls before
        after = lake.window(False, frame=p.filter(pl.col("model_version") == sub["model_version"]))
        before = lake.window(True, frame=p.filter(pl.col("model_version") != sub["model_version"]))
        first = p.filter(pl.col("model_version") == sub["model_version"])["timestamp"].min()
        # the onset is the canary deploy: with a 5% canary at night the first call can take hours
        assert first >= truth.onset and first - truth.onset < timedelta(hours=8)
    deploy = lake.lineage["deployments"]
    check = CHECKS[cause]
    check(lake, truth, before, after, variant, sub)
    if cause not in ("provider_model_change", "telemetry_loss", "data_drift"):
        # the incident's change is on record at the onset (lineage names it)
        stamp = truth.onset.strftime("%Y-%m-%dT%H:%M:%SZ")
        recorded = set(deploy["deployed_at"]) | set(lake.lineage["prompts"]["changed_at"]) | set(
            lake.lineage["indexes"]["built_at"])
        assert stamp in recorded


def _prompt_regression(lake, truth, before, after, variant, sub):
    template, version = sub["prompt"].split("@")
    assert template in set(lake.preds["prompt_template"])
    changed = lake.lineage["prompts"].filter(pl.col("version") == version)["changed_at"].item()
    assert changed == truth.onset.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert after["prompt_version"].unique().to_list() == [version]
    assert version not in set(before["prompt_version"])
    if variant == 0:
        assert grounded(after) < grounded(before) - 0.05
        assert thumbs_down(lake, after) > thumbs_down(lake, before)
    elif variant == 1:
        if truth.details["citations"] == "none":
            assert cited_share(after) < 0.2 < 0.8 < cited_share(before)
        else:
            assert wrong_citation_share(after) > 0.8 > 0.05 > wrong_citation_share(before)
    else:
        assert after["response_text"].str.len_chars().mean() > 1.6 * before["response_text"].str.len_chars().mean()
        length = [(f["finish_reason"] == "length").mean() for f in (before, after)]
        assert length[0] < 0.01 and length[1] > length[0] + 0.01
        assert reask_rate(after) > reask_rate(before)


def _provider_model_change(lake, truth, before, after, variant, sub):
    provider, model = sub["dependency"].split(":")
    new = truth.details["snapshot"]
    on = lambda f: f.filter(pl.col("request_model") == model)  # noqa: E731
    assert new in set(on(after)["response_model"]) and new not in set(on(before)["response_model"])
    first = lake.preds.filter(pl.col("response_model") == new)["timestamp"].min()
    assert timedelta(0) <= first - truth.onset < timedelta(hours=2)  # the next call to that model, even at night
    deps = lake.lineage["dependencies"].filter(pl.col("version") == new)
    assert deps.height == variant  # silent: no record; announced: one row
    if variant:
        assert deps["dependency"].item() == sub["dependency"]
    b, a = on(before), on(after)
    assert a["response_text"].str.len_chars().mean() < 0.9 * b["response_text"].str.len_chars().mean()
    assert refusal_rate(a) > refusal_rate(b) and grounded(a) < grounded(b) - 0.03


_LEADS = r"^(Hi, |Hello! |Hey, |Good morning, |Quick question: |That didn't answer my question\. |Again: " \
         r"|Sorry, to be clear: |I still need help\. |Let me rephrase\. )"


def _question() -> pl.Expr:
    """The canonical question of a prompt (without greeting or re-ask lead)."""
    return pl.col("prompt_text").str.extract(r"^([^?]*\?)").str.replace(_LEADS, "")


def _queries_of(truth: Truth, topics: list[str]) -> list[str]:
    from workbench.synthetic.llm.scenario import build_scenario

    sc = build_scenario(truth.seed, truth.cause, truth.variant, truth.theme, truth.params["days"])
    c = sc.corpus
    return [c.queries[i] for t in topics for i in c.topic_queries[c.topics.index(t)]]


def _retrieval_regression(lake, truth, before, after, variant, sub):
    name, version = sub["index"].split("@")
    assert after["index_version"].unique().to_list() == [version]
    built = lake.lineage["indexes"].filter(pl.col("version") == version)
    assert built["index"].item() == name
    if variant == 0:  # only the topics that lost documents
        before, after = (f.filter(_question().is_in(_queries_of(truth, truth.details["topics"])))
                         for f in (before, after))
    assert grounded(after) < grounded(before) - 0.03
    assert thumbs_down(lake, after) > thumbs_down(lake, before)
    top = [f["retrieval_scores"].list.first().mean() for f in (before, after)]
    assert top[1] < top[0] - 0.02
    if variant == 0:
        docs = lake.lineage["indexes"]["documents"].cast(pl.Int64).to_list()
        assert docs[-1] < docs[-2]
        empty = [(f["retrieved_ids"].list.len() == 0).mean() for f in (before, after)]
        count = [f["retrieved_ids"].list.len().mean() for f in (before, after)]
        assert empty[1] > empty[0] or count[1] < count[0] - 0.1
    else:
        # the same query retrieves other documents than before the rebuild
        q = _question()
        b = before.group_by(q.alias("q")).agg(pl.col("retrieved_ids").first().alias("b"))
        a = after.group_by(q.alias("q")).agg(pl.col("retrieved_ids").first().alias("a"))
        j = b.join(a, on="q")
        changed = j.select((pl.col("a").list.set_intersection("b").list.len() == 0).mean()).item()
        assert changed > 0.3


def _safety_regression(lake, truth, before, after, variant, sub):
    if variant == 0:
        blocked = [(f["policy_action"] != "allowed").mean() for f in (before, after)]
        assert blocked[1] > blocked[0] + 0.03
        assert (after["policy_action"] == "blocked").mean() > 0.01
    else:
        assert sub["prompt"].split("@")[1] == after["prompt_version"].unique().item()
        assert refusal_rate(after) > refusal_rate(before) + 0.02


def _cost_regression(lake, truth, before, after, variant, sub):
    if variant == 0:
        assert after["input_tokens"].mean() > 1.5 * before["input_tokens"].mean()
    else:
        assert set(after["request_model"]) - set(before["request_model"])
    def cost(f):
        f = _priced(f, lake.lineage["prices"])
        return (f["input_tokens"] * f["input_per_1k"] + f["output_tokens"] * f["output_per_1k"]).mean() / 1000
    assert cost(after) > 1.3 * cost(before)


def _routing_regression(lake, truth, before, after, variant, sub):
    assert sub["route"] == "small"
    small = [(f["router_decision"] == "small").mean() for f in (before, after)]
    assert small[1] > small[0] + 0.1
    assert thumbs_down(lake, after) > thumbs_down(lake, before)
    assert after["output_tokens"].mean() > 0 and (
        after.filter(pl.col("router_decision") == "small")["router_score"].max()
        > before.filter(pl.col("router_decision") == "small")["router_score"].max())


def _latency_regression(lake, truth, before, after, variant, sub):
    if variant == 0:
        assert after["latency_ms"].quantile(0.95) > 1.25 * before["latency_ms"].quantile(0.95)
    assert after["time_to_first_token_ms"].median() > 1.25 * before["time_to_first_token_ms"].median()


def _ingress(lake, at, after: bool, route: str | None = None):
    t = lake.traffic.filter((pl.col("timestamp") >= at) if after else (pl.col("timestamp") < at))
    p = lake.preds.filter((pl.col("timestamp") >= at) if after else (pl.col("timestamp") < at))
    if route:
        t, p = t.filter(pl.col("route") == route), p.filter(pl.col("route") == route)
    return p.height / t["requests"].sum()


def _telemetry_loss(lake, truth, before, after, variant, sub):
    at = truth.onset.replace(minute=0, second=0) + timedelta(hours=1)
    if variant == 0:
        assert _ingress(lake, at, True) < _ingress(lake, at, False) - 0.1
    else:
        assert sub["route"] == "canary"
        assert _ingress(lake, at, True, "canary") < 0.6 < 0.95 < _ingress(lake, at, True, "primary")


def _pii_leak(lake, truth, before, after, variant, sub):
    assert sub == {"column": "response_text"}
    assert leaked_emails(lake.preds.filter(pl.col("timestamp") < truth.onset)) == 0
    assert leaked_emails(after) > 5
    first = lake.preds.filter(pl.col("response_text").str.contains(_EMAIL)).with_columns(
        leak=pl.col("response_text").str.extract_all(_EMAIL).list.set_difference(
            pl.col("prompt_text").str.extract_all(_EMAIL)).list.len() > 0).filter("leak")["timestamp"].min()
    assert first >= truth.onset and first - truth.onset < timedelta(hours=6)


def _data_drift(lake, truth, before, after, variant, sub):
    assert sub == {"feature": "prompt_text"}
    nouns = NEW_TOPICS[truth.theme][truth.details["topic"]][0]
    pattern = "|".join(nouns)
    whole = lake.preds
    assert whole.filter(pl.col("timestamp") < truth.onset)["prompt_text"].str.contains(pattern).sum() == 0
    assert after["prompt_text"].str.contains(pattern).mean() > 0.03
    # no change event, and answer quality holds
    assert abs(grounded(after) - grounded(before)) < 0.05


CHECKS = {"prompt_regression": _prompt_regression, "provider_model_change": _provider_model_change,
          "retrieval_regression": _retrieval_regression, "safety_regression": _safety_regression,
          "cost_regression": _cost_regression, "routing_regression": _routing_regression,
          "latency_regression": _latency_regression, "telemetry_loss": _telemetry_loss, "pii_leak": _pii_leak,
          "data_drift": _data_drift}


@pytest.mark.parametrize("seed", [21, 22])
def test_healthy_lakes_benign_changes_move_nothing(tmp_path_factory, seed):
    lake = lake_for(tmp_path_factory, "none", seed=seed, rows=20_000, days=14)
    truth, p = lake.truth, lake.preds
    assert truth.onset is None and all(v is None for v in truth.subject.values())
    kinds = {c["kind"] for c in truth.confounders}
    assert kinds - {"price_change"} == {"rollout", "prompt_version", "index_build", "dependency_bump"}
    for c in truth.confounders:
        if c["kind"] == "price_change":  # a provider's price cut: the price table has it, calls do not change
            assert c["at"].strftime("%Y-%m-%dT%H:%M:%SZ") in set(lake.lineage["prices"]["valid_from"])
            continue
        b, a = lake.window(True, 48, c["at"]), lake.window(False, 48, c["at"])
        if c["kind"] == "rollout":  # compare the release's own calls
            a = a.filter(pl.col("model_version") == c["ref"])
        assert a.height > 300, c
        assert abs(grounded(a) - grounded(b)) < 0.04, c
        assert abs(refusal_rate(a) - refusal_rate(b)) < 0.01, c
        assert abs(cited_share(a) - cited_share(b)) < 0.04, c
        ratio = a["response_text"].str.len_chars().mean() / b["response_text"].str.len_chars().mean()
        assert 0.92 < ratio < 1.08, c
        ratio = a["input_tokens"].mean() / b["input_tokens"].mean()
        assert 0.9 < ratio < 1.1, c
        ratio = a["latency_ms"].median() / b["latency_ms"].median()
        assert 0.85 < ratio < 1.15, c
        top = a["retrieval_scores"].list.first().mean() - b["retrieval_scores"].list.first().mean()
        assert abs(top) < 0.02, c
        assert (a["retrieved_ids"].list.len() == 0).mean() < 0.01, c
        if c["kind"] == "dependency_bump":  # an announced snapshot: the response model changes, behaviour does not
            dep, name = c["ref"].split("@")
            assert name in set(a["response_model"]) and name not in set(b["response_model"])
            assert name in set(lake.lineage["dependencies"]["version"])
    assert leaked_emails(p) == 0


def test_benign_changes_land_near_the_onset_in_about_half_the_seeds(tmp_path):
    from workbench.synthetic.llm.scenario import build_scenario

    near = 0
    for seed in range(40):
        sc = build_scenario(seed, "prompt_regression", 0, None, 14)
        close = [c for c in sc.confounders if c["near"]]
        near += bool(close)
        for c in close:
            assert 6 * 3600e6 <= abs(c["at"] - sc.onset_us) <= 36 * 3600e6
            if c["kind"] == "prompt_version":  # of the incident's own kind: before it
                assert c["at"] < sc.onset_us
    assert 10 <= near <= 30


def test_forced_apps_and_seed_choice(tmp_path):
    from workbench.synthetic.llm.scenario import build_scenario

    assert build_scenario(1, "routing_regression", 0, None, 14).app == "search_router"
    assert build_scenario(1, "pii_leak", 0, None, 14).app == "support_rag"
    apps = {build_scenario(s, "none", 0, None, 14).app for s in range(12)}
    assert apps == {"support_rag", "search_router"}
    topics = [len(build_scenario(s, "none", 0, None, 14).corpus.topics) - 1 for s in range(12)]
    assert min(topics) >= 8 and max(topics) <= 15


@pytest.mark.parametrize("seed", [3, 7])
def test_open_lake_loads_it(tmp_path_factory, seed):
    """The lake loader reads the lake with canonical role names, labels and lineage (seed 3 renames
    columns, seed 7 logs no cost)."""
    import workbench as wb

    lake = lake_for(tmp_path_factory, "prompt_regression", seed=seed)
    opened = wb.open_lake(lake.root)
    assert opened.manifest.task == "generation"
    frame = opened.predictions(with_labels=True).collect()
    need = {"prompt_text", "response_text", "context_text", "input_tokens", "output_tokens", "prompt_version",
            "index_version", "retrieved_ids", "finish_reason", "conversation_id", "feedback", "escalated",
            "labeled_at"}
    assert need <= set(frame.columns)
    assert frame.height == lake.preds.height
    # text is read as written (not masked): detectors analyse it in memory
    raw = lake.preds.sort("request_id")
    got = frame.sort("request_id")
    for role in ("prompt_text", "response_text", "context_text"):
        assert got[role].equals(raw[role], check_names=False)
    assert frame["input_tokens"].sum() == lake.preds["input_tokens"].sum()
    assert frame.schema["feedback"] == pl.Float64 and frame["feedback"].drop_nulls().is_in([-1.0, 0.0, 1.0]).all()
    assert frame["feedback"].drop_nulls().len() == lake.labels["feedback"].drop_nulls().len()
    lin = opened.lineage
    assert lin.warnings == ()
    assert lin.prompts.height == lake.lineage["prompts"].height
    assert lin.indexes.height == lake.lineage["indexes"].height and lin.prices.height > 0
    timeline = lin.timeline()
    template, version = lake.truth.subject["prompt"].split("@")
    hit = timeline.filter(pl.col("kind") == "prompt_version", pl.col("subject") == lake.truth.subject["prompt"])
    assert hit["at"].item() == lake.truth.onset
    assert {"rollout", "prompt_version", "index_build", "dependency_change"} <= set(timeline["kind"])


def test_rca_suite_llm_cases_cover_every_cause_and_leave_the_old_cases_alone(tmp_path):
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "rca_suite.py"
    spec = importlib.util.spec_from_file_location("rca_suite_llm", path)
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    cases = suite.llm_cases(2, healthy=3)
    assert {c["task"] for c in cases} == {"generation"}
    assert {(c["cause"], c["variant"]) for c in cases} == {(c, v) for c, n in LLM_CAUSES.items() for v in range(n)}
    assert sum(c["cause"] == "none" for c in cases) == 3 and len({c["seed"] for c in cases}) == len(cases)
    assert suite.llm_cases(2, healthy=3) == cases  # seeded
    assert all(c["task"] != "generation" for c in suite.cases(1))
    # the culprit check knows every LLM cause's subject fields: the truth's own subject passes,
    # the same subject with its named value changed fails
    from workbench.synthetic.llm.scenario import build_scenario

    for cause, variants in LLM_CAUSES.items():
        for variant in range(variants if cause != "none" else 0):
            sc = build_scenario(5, cause, variant, None, 14)
            truth = Truth(cause, variant, 5, 0, None, None, None, sc.subject, "")
            assert suite.culprit_ok(dict(sc.subject), truth), (cause, variant)
            named = [k for k, v in sc.subject.items() if v is not None]
            if named:
                wrong = {**sc.subject, named[0]: "something-else"}
                assert not suite.culprit_ok(wrong, truth), (cause, variant)


def test_a_price_cut_lowers_logged_cost_on_its_date(tmp_path_factory):
    from workbench.synthetic.llm.scenario import build_scenario

    seed = next(s for s in range(40) if build_scenario(s, "none", 0, None, 7).price_cut is not None
                and build_scenario(s, "none", 0, None, 7).has_cost)
    lake = lake_for(tmp_path_factory, "none", seed=seed, rows=4_000, days=7)
    cut = next(c for c in lake.truth.confounders if c["kind"] == "price_change")
    model = cut["ref"].split(":")[1]
    calls = lake.preds.filter(pl.col("request_model") == model).with_columns(
        per_token=pl.col("cost") / (pl.col("input_tokens") + pl.col("output_tokens")))
    before = calls.filter(pl.col("timestamp") < cut["at"])["per_token"].mean()
    after = calls.filter(pl.col("timestamp") >= cut["at"])["per_token"].mean()
    assert after < 0.85 * before
    assert lake.lineage["prices"].filter(pl.col("model") == model).height == 2
