"""The manifest, ``workbench.yaml``: roles of columns, features, segments, SLOs, lineage paths.

:func:`read_manifest` parses and validates it against the telemetry-lake contract
and fills in every default, so the rest of the package never looks at raw YAML.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from workbench.exceptions import LakeNotFoundError, ManifestError
from workbench.lake._suggest import did_you_mean

__all__ = [
    "MANIFEST_NAME",
    "TASKS",
    "ROLE_DEFAULTS",
    "REQUIRED_ROLES",
    "GENAI_ROLES",
    "FEEDBACK_ROLES",
    "Roles",
    "Features",
    "SLO",
    "LineagePaths",
    "Manifest",
    "SparkSource",
    "read_manifest",
    "parse_manifest",
    "is_uri",
    "lake_root",
]

MANIFEST_NAME = "workbench.yaml"

Task = Literal["binary_classification", "multiclass", "regression", "generation"]
TASKS: tuple[str, ...] = ("binary_classification", "multiclass", "regression", "generation")

#: role -> default column name (the contract's defaults).
ROLE_DEFAULTS: dict[str, str] = {
    "request_id": "request_id",
    "trace_id": "trace_id",
    "timestamp": "timestamp",
    "model_version": "model_version",
    "route": "route",
    "latency_ms": "latency_ms",
    "fallback": "is_fallback",
    "prediction": "prediction",
    "score": "score",
    "label": "label",
    "embedding": "embedding",
    "feature_set_version": "feature_set_version",
    # serving-path additions (any task)
    "cost": "cost",
    "router_decision": "router_decision",
    "router_score": "router_score",
    "shadow_of": "shadow_of",
    # generative-AI lakes (task: generation); names after the OpenTelemetry GenAI conventions
    "conversation_id": "conversation_id",
    "operation": "operation",
    "provider": "provider",
    "request_model": "request_model",
    "response_model": "response_model",
    "prompt_template": "prompt_template",
    "prompt_version": "prompt_version",
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_read_tokens": "cache_read_tokens",
    "reasoning_tokens": "reasoning_tokens",
    "time_to_first_token_ms": "time_to_first_token_ms",
    "finish_reason": "finish_reason",
    "prompt_text": "prompt_text",
    "response_text": "response_text",
    "retrieved_ids": "retrieved_ids",
    "retrieval_scores": "retrieval_scores",
    "context_text": "context_text",
    "index_version": "index_version",
    "policy_action": "policy_action",
    "policy_flags": "policy_flags",
    "query_embedding": "query_embedding",
    # delayed feedback in labels/ (generation lakes)
    "feedback": "feedback",
    "escalated": "escalated",
    "labeled_at": "labeled_at",
}

#: Roles of LLM calls: only a ``task: generation`` lake reads them (elsewhere such a column is "other").
GENAI_ROLES: tuple[str, ...] = (
    "conversation_id", "operation", "provider", "request_model", "response_model", "prompt_template",
    "prompt_version", "input_tokens", "output_tokens", "cache_read_tokens", "reasoning_tokens",
    "time_to_first_token_ms", "finish_reason", "prompt_text", "response_text", "retrieved_ids",
    "retrieval_scores", "context_text", "index_version", "policy_action", "policy_flags", "query_embedding")
#: Roles of labels/ in a generation lake (delayed feedback), beside request_id and labeled_at.
FEEDBACK_ROLES: tuple[str, ...] = ("feedback", "escalated")

#: Roles without which predictions cannot be analysed at all.
REQUIRED_ROLES: tuple[str, ...] = ("request_id", "timestamp", "model_version")

_TOP_KEYS = (
    "name", "task", "predictions", "labels", "columns", "features",
    "segments", "sensitive", "slo", "lineage",
)
_FEATURE_KEYS = ("numeric", "categorical")
_SLO_DEFAULTS = {"latency_p95_ms": 300.0, "fallback_rate": 0.01, "capture_rate": 0.99}
_LINEAGE_DEFAULTS = {
    "deployments": "lineage/deployments.csv",
    "features": "lineage/features.csv",
    "openlineage": "lineage/openlineage.ndjson",
    "dependencies": "lineage/dependencies.csv",
    "traffic": "metrics/traffic.csv",
    "prompts": "lineage/prompts.csv",
    "indexes": "lineage/indexes.csv",
    "prices": "lineage/prices.csv",
}


@dataclass(frozen=True)
class Roles:
    """Role -> column name in the lake's files, with the set of roles the manifest named."""

    request_id: str = "request_id"
    trace_id: str = "trace_id"
    timestamp: str = "timestamp"
    model_version: str = "model_version"
    route: str = "route"
    latency_ms: str = "latency_ms"
    fallback: str = "is_fallback"
    prediction: str = "prediction"
    score: str = "score"
    label: str = "label"
    embedding: str = "embedding"
    feature_set_version: str = "feature_set_version"
    cost: str = "cost"
    router_decision: str = "router_decision"
    router_score: str = "router_score"
    shadow_of: str = "shadow_of"
    conversation_id: str = "conversation_id"
    operation: str = "operation"
    provider: str = "provider"
    request_model: str = "request_model"
    response_model: str = "response_model"
    prompt_template: str = "prompt_template"
    prompt_version: str = "prompt_version"
    input_tokens: str = "input_tokens"
    output_tokens: str = "output_tokens"
    cache_read_tokens: str = "cache_read_tokens"
    reasoning_tokens: str = "reasoning_tokens"
    time_to_first_token_ms: str = "time_to_first_token_ms"
    finish_reason: str = "finish_reason"
    prompt_text: str = "prompt_text"
    response_text: str = "response_text"
    retrieved_ids: str = "retrieved_ids"
    retrieval_scores: str = "retrieval_scores"
    context_text: str = "context_text"
    index_version: str = "index_version"
    policy_action: str = "policy_action"
    policy_flags: str = "policy_flags"
    query_embedding: str = "query_embedding"
    feedback: str = "feedback"
    escalated: str = "escalated"
    labeled_at: str = "labeled_at"
    explicit: frozenset[str] = frozenset()

    def mapping(self) -> dict[str, str]:
        """Role -> source column name."""
        return {role: getattr(self, role) for role in ROLE_DEFAULTS}


@dataclass(frozen=True)
class Features:
    """Feature columns by kind."""

    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.numeric + self.categorical


@dataclass(frozen=True)
class SLO:
    """Service-level objectives (the contract's defaults when not given)."""

    latency_p95_ms: float = 300.0
    fallback_rate: float = 0.01
    capture_rate: float = 0.99


@dataclass(frozen=True)
class LineagePaths:
    """Paths (or globs) of the lineage tables, relative to the lake root.

    ``explicit`` holds the tables the manifest named: a missing explicit table is an
    error, a missing default one only means the lake has no such lineage.
    """

    deployments: str = _LINEAGE_DEFAULTS["deployments"]
    features: str = _LINEAGE_DEFAULTS["features"]
    openlineage: str = _LINEAGE_DEFAULTS["openlineage"]
    dependencies: str = _LINEAGE_DEFAULTS["dependencies"]
    traffic: str = _LINEAGE_DEFAULTS["traffic"]
    prompts: str = _LINEAGE_DEFAULTS["prompts"]
    indexes: str = _LINEAGE_DEFAULTS["indexes"]
    prices: str = _LINEAGE_DEFAULTS["prices"]
    explicit: frozenset[str] = frozenset()


#: formats Spark reads from a URI (``format:`` of a ``{path: ...}`` entry); by default the URI's
#: extension decides, else parquet
SPARK_FORMATS: tuple[str, ...] = ("parquet", "csv", "json", "orc", "delta")
_URI_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".ndjson": "json", ".jsonl": "json",
                ".json": "json", ".orc": "orc"}


@dataclass(frozen=True)
class SparkSource:
    """A table the lake reads through Spark only: a Spark/Hive catalog table (``kind="table"``,
    ``name`` like ``db.preds``) or an object-store URI (``kind="uri"``: ``s3a://``, ``gs://``,
    ``abfss://``, ``hdfs://``, ``file://``) read with ``format``."""

    kind: Literal["table", "uri"]
    name: str
    format: str | None = None

    def describe(self) -> str:
        return f"table {self.name}" if self.kind == "table" else self.name


@dataclass(frozen=True)
class Manifest:
    """A validated ``workbench.yaml`` with every default filled in."""

    name: str
    task: Task = "binary_classification"
    predictions: str = "predictions/"
    labels: str | None = None
    labels_explicit: bool = False
    columns: Roles = field(default_factory=Roles)
    features: Features = field(default_factory=Features)
    segments: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    slo: SLO = field(default_factory=SLO)
    lineage: LineagePaths = field(default_factory=LineagePaths)
    path: str | None = None
    #: predictions / labels read through Spark only (a catalog table or an object-store URI)
    spark_sources: dict[str, SparkSource] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, shaped like the YAML it came from."""
        d = asdict(self)
        d["columns"] = self.columns.mapping()
        d["features"] = {"numeric": list(self.features.numeric),
                         "categorical": list(self.features.categorical)}
        d["segments"] = list(self.segments)
        d["sensitive"] = list(self.sensitive)
        d["lineage"] = {k: getattr(self.lineage, k) for k in _LINEAGE_DEFAULTS}
        d.pop("labels_explicit")
        d.pop("spark_sources")
        for what, src in self.spark_sources.items():
            d[what] = {"table": src.name} if src.kind == "table" else {"path": src.name, "format": src.format}
        return d


def lake_root(path: str | Path) -> Path:
    """The lake directory a user meant: ``path`` itself, or its folder when ``path`` is the manifest.

    Passing ``workbench.yaml`` instead of its folder is a common slip and is accepted; any other
    file is refused with :class:`LakeNotFoundError` saying a lake is a directory.
    """
    p = Path(path)
    if p.is_file():
        if p.name == MANIFEST_NAME:
            return p.parent
        lake = next((a for a in list(p.resolve().parents)[:4] if (a / MANIFEST_NAME).is_file()), None)
        msg = "a lake is a directory, not a file"
        raise LakeNotFoundError(
            msg, file=str(p), expected=f"the directory holding {MANIFEST_NAME}",
            found=f"the file {p.name}",
            hint=f"pass the lake's root folder: {lake}" if lake is not None
            else f"pass the lake's root folder (the one holding {MANIFEST_NAME}).",
        )
    return p


def read_manifest(root: str | Path) -> Manifest:
    """Read and validate ``<root>/workbench.yaml``.

    Parameters
    ----------
    root : str or Path
        The lake directory.

    Returns
    -------
    Manifest

    Raises
    ------
    LakeNotFoundError
        When ``root`` or its manifest does not exist.
    ManifestError
        When the manifest is not valid YAML or breaks the contract.

    Examples
    --------
    >>> m = read_manifest("datasets/demo-lake")  # doctest: +SKIP
    >>> m.columns.score
    'score'
    """
    root = Path(root)
    if root.exists():
        root = lake_root(root)
    if not root.exists():
        msg = "no telemetry lake at this path"
        raise LakeNotFoundError(
            msg, file=str(root), expected=f"a directory holding {MANIFEST_NAME}",
            found="nothing", hint="check the path; `workbench synth OUT` makes a sample lake.",
        )
    path = root / MANIFEST_NAME
    if not path.is_file():
        msg = f"the lake has no {MANIFEST_NAME}"
        raise LakeNotFoundError(
            msg, file=str(path), expected=f"{MANIFEST_NAME} at the lake root",
            found=_listing(root),
            hint="every lake needs a manifest; see docs/telemetry-lake.md for its fields.",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = "cannot read the manifest"
        raise ManifestError(msg, file=str(path), found=type(exc).__name__,
                            hint="the manifest must be a UTF-8 text file.") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "invalid YAML"
        msg = "the manifest is not valid YAML"
        raise ManifestError(msg, file=str(path), line=line, found=str(problem),
                            hint="fix the YAML syntax at that line.") from None
    return parse_manifest(raw, source=str(path), default_name=root.resolve().name)


def parse_manifest(raw: Any, *, source: str = MANIFEST_NAME, default_name: str = "lake") -> Manifest:
    """Validate a manifest already loaded from YAML (a mapping) and fill defaults."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        msg = "the manifest must be a mapping of keys to values"
        raise ManifestError(msg, file=source, expected="a YAML mapping such as `name: my-model`",
                            found=_typename(raw))
    _check_keys(raw, _TOP_KEYS, source, where="top level")

    name = _opt_str(raw, "name", source) or default_name
    task = raw.get("task", "binary_classification")
    if task not in TASKS:
        msg = "unknown task"
        raise ManifestError(msg, file=source, column="task", expected=" | ".join(TASKS),
                            found=repr(task), hint=did_you_mean(task, TASKS))
    sources = {what: src for what in ("predictions", "labels")
               if (src := _spark_source(raw.get(what), what, source)) is not None}
    predictions = (sources["predictions"].describe() if "predictions" in sources
                   else _opt_str(raw, "predictions", source) or "predictions/")
    labels_explicit = raw.get("labels") is not None
    labels = (sources["labels"].describe() if "labels" in sources
              else _opt_str(raw, "labels", source) if labels_explicit else "labels/")

    columns = _parse_columns(raw.get("columns"), source)
    features = _parse_features(raw.get("features"), source)
    segments = _str_list(raw.get("segments"), "segments", source)
    sensitive = _str_list(raw.get("sensitive"), "sensitive", source)
    slo = _parse_slo(raw.get("slo"), source)
    lineage = _parse_lineage(raw.get("lineage"), source)

    dup = sorted(set(features.numeric) & set(features.categorical))
    if dup:
        msg = "a feature is listed as both numeric and categorical"
        raise ManifestError(msg, file=source, column=dup[0],
                            expected="each feature under one kind", found=", ".join(dup))
    return Manifest(
        name=name, task=task, predictions=predictions, labels=labels,
        labels_explicit=labels_explicit, columns=columns, features=features,
        segments=segments, sensitive=sensitive, slo=slo, lineage=lineage, path=source, spark_sources=sources,
    )


def is_uri(spec: str) -> bool:
    """Whether a manifest path is a URI (``scheme://...``) rather than a local path or glob."""
    head, sep, _ = spec.partition("://")
    return bool(sep) and head.replace("+", "").replace("-", "").replace(".", "").isalnum() and len(head) > 1


def _spark_source(value: Any, key: str, source: str) -> SparkSource | None:
    """``predictions:`` / ``labels:`` as a Spark source: a URI string, ``{path: URI, format: ...}``
    or ``{table: db.name}``; None for a local path (a string without a scheme)."""
    if isinstance(value, str):
        return SparkSource("uri", value.strip(), _uri_format(value)) if is_uri(value.strip()) else None
    if not isinstance(value, dict):
        return None
    _check_keys(value, ("table", "path", "format"), source, where=key)
    table, path, fmt = value.get("table"), value.get("path"), value.get("format")
    if (table is None) == (path is None):
        msg = f"`{key}` names a table or a path, exactly one"
        raise ManifestError(msg, file=source, column=key, expected="{table: db.name} or {path: s3a://bucket/dir/}",
                            found=", ".join(sorted(value)) or "an empty mapping")
    for k, v in (("table", table), ("path", path), ("format", fmt)):
        if v is not None and (not isinstance(v, str) or not v.strip()):
            msg = f"`{key}.{k}` must be a non-empty string"
            raise ManifestError(msg, file=source, column=f"{key}.{k}", expected="a string", found=_typename(v))
    if fmt is not None and fmt not in SPARK_FORMATS:
        msg = f"unknown format of `{key}`"
        raise ManifestError(msg, file=source, column=f"{key}.format", expected=" | ".join(SPARK_FORMATS),
                            found=repr(fmt), hint=did_you_mean(fmt, SPARK_FORMATS))
    if table is not None:
        if fmt is not None:
            msg = f"`{key}.format` applies to a path, not a table (the catalog knows a table's format)"
            raise ManifestError(msg, file=source, column=f"{key}.format", expected="no format with `table`",
                                found=repr(fmt))
        if not all(part.strip() for part in table.split(".")) or any(c.isspace() for c in table.strip()):
            msg = f"`{key}.table` is not a table name"
            raise ManifestError(msg, file=source, column=f"{key}.table", expected="name or db.name (catalog.db.name)",
                                found=repr(table)[:80])
        return SparkSource("table", table.strip())
    path = path.strip()
    if not is_uri(path):
        msg = f"`{key}.path` must be a URI (a local path is written as `{key}: {path}`)"
        raise ManifestError(msg, file=source, column=f"{key}.path",
                            expected="s3a://, gs://, abfss://, hdfs:// or file:// URI", found=repr(path)[:80])
    return SparkSource("uri", path, fmt or _uri_format(path))


def _uri_format(uri: str) -> str:
    tail = uri.rstrip("/").rsplit("/", 1)[-1].lower()
    return next((f for ext, f in _URI_FORMATS.items() if tail.endswith(ext)), "parquet")


def _parse_columns(value: Any, source: str) -> Roles:
    if value is None:
        return Roles()
    if not isinstance(value, dict):
        msg = "`columns` must map roles to column names"
        raise ManifestError(msg, file=source, column="columns",
                            expected="a mapping such as `score: proba`", found=_typename(value))
    _check_keys(value, tuple(ROLE_DEFAULTS), source, where="columns")
    mapped = {}
    for role, col in value.items():
        if not isinstance(col, str) or not col:
            msg = "a role must map to a column name"
            raise ManifestError(msg, file=source, column=f"columns.{role}",
                                expected="a non-empty string", found=_typename(col))
        mapped[role] = col
    inverse: dict[str, str] = {}
    for role in ROLE_DEFAULTS:
        col = mapped.get(role, ROLE_DEFAULTS[role])
        if col in inverse and (role in mapped or inverse[col] in mapped):
            msg = "two roles map to the same column"
            raise ManifestError(msg, file=source, column=col,
                                expected="one column per role",
                                found=f"{inverse[col]} and {role} both -> {col}")
        inverse.setdefault(col, role)
    return Roles(**mapped, explicit=frozenset(mapped))


def _parse_features(value: Any, source: str) -> Features:
    if value is None:
        return Features()
    if not isinstance(value, dict):
        msg = "`features` must have `numeric` and/or `categorical` lists"
        raise ManifestError(msg, file=source, column="features",
                            expected="numeric: [...], categorical: [...]", found=_typename(value))
    _check_keys(value, _FEATURE_KEYS, source, where="features")
    return Features(
        numeric=_str_list(value.get("numeric"), "features.numeric", source),
        categorical=_str_list(value.get("categorical"), "features.categorical", source),
    )


def _parse_slo(value: Any, source: str) -> SLO:
    if value is None:
        return SLO()
    if not isinstance(value, dict):
        msg = "`slo` must be a mapping"
        raise ManifestError(msg, file=source, column="slo",
                            expected="latency_p95_ms / fallback_rate / capture_rate",
                            found=_typename(value))
    _check_keys(value, tuple(_SLO_DEFAULTS), source, where="slo")
    out = {}
    for key, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v < 0:
            msg = "an SLO must be a non-negative number"
            raise ManifestError(msg, file=source, column=f"slo.{key}",
                                expected="a number >= 0", found=repr(v) if _is_scalar(v) else _typename(v))
        if key in ("fallback_rate", "capture_rate") and v > 1:
            msg = "a rate SLO must be a share between 0 and 1"
            raise ManifestError(msg, file=source, column=f"slo.{key}", expected="0 <= value <= 1",
                                found=repr(v), hint="write 0.99, not 99.")
        out[key] = float(v)
    return SLO(**out)


def _parse_lineage(value: Any, source: str) -> LineagePaths:
    if value is None:
        return LineagePaths()
    if not isinstance(value, dict):
        msg = "`lineage` must map lineage tables to paths"
        raise ManifestError(msg, file=source, column="lineage",
                            expected=" / ".join(_LINEAGE_DEFAULTS),
                            found=_typename(value))
    _check_keys(value, tuple(_LINEAGE_DEFAULTS), source, where="lineage")
    out = {}
    for key, v in value.items():
        if not isinstance(v, str) or not v:
            msg = "a lineage path must be a string"
            raise ManifestError(msg, file=source, column=f"lineage.{key}",
                                expected="a path relative to the lake root", found=_typename(v))
        if is_uri(v):
            msg = "lineage and metrics tables are read from the lake directory, not through Spark"
            raise ManifestError(msg, file=source, column=f"lineage.{key}",
                                expected="a path relative to the lake root", found=repr(v)[:80],
                                hint="copy the (small) lineage tables into the lake directory.")
        out[key] = v
    return LineagePaths(**out, explicit=frozenset(out))


def _check_keys(d: dict, valid: tuple[str, ...], source: str, *, where: str) -> None:
    unknown = [k for k in d if k not in valid]
    if unknown:
        first = unknown[0]
        msg = f"unknown key{'s' if len(unknown) > 1 else ''} in the manifest ({where})"
        raise ManifestError(
            msg, file=source, column=", ".join(map(str, unknown)),
            expected="one of " + ", ".join(valid), found=", ".join(map(repr, unknown)),
            hint=did_you_mean(first, valid) or "remove the key or fix its spelling.",
        )


def _opt_str(raw: dict, key: str, source: str) -> str | None:
    v = raw.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or not v.strip():
        msg = f"`{key}` must be a non-empty string"
        raise ManifestError(msg, file=source, column=key, expected="a string", found=_typename(v))
    return v


def _str_list(value: Any, key: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        msg = f"`{key}` must be a list of column names"
        raise ManifestError(msg, file=source, column=key, expected="a list of strings, e.g. [a, b]",
                            found=_typename(value))
    dup = sorted({v for v in value if value.count(v) > 1})
    if dup:
        msg = f"`{key}` lists a column twice"
        raise ManifestError(msg, file=source, column=key, expected="each column once",
                            found=", ".join(dup))
    return tuple(value)


def _typename(v: Any) -> str:
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if v is None:
        return "nothing (null)"
    return f"{type(v).__name__} {v!r}"[:80]


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (int, float, str, bool)) or v is None


def _listing(root: Path) -> str:
    try:
        names = sorted(p.name for p in root.iterdir())[:12]
    except OSError:
        return "an unreadable directory"
    return ", ".join(names) if names else "an empty directory"
