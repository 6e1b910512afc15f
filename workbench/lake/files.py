"""Finding and scanning the data files of a lake: Parquet (hive partitions too), CSV, NDJSON.

Everything here is lazy: files are resolved, their schemas read (Parquet footers,
CSV headers, the first lines of NDJSON), and a polars ``LazyFrame`` is built.
Failures are turned into errors that name the file.
"""

from __future__ import annotations

import csv
import glob as _glob
import json
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from workbench.exceptions import (
    CorruptFileError,
    DataFileNotFoundError,
    UnsupportedFormatError,
)

__all__ = ["FORMATS", "DataFiles", "resolve_files", "scan_files", "parquet_scan_order", "read_table", "sanitize", "find_bad_line",
           "ragged_rows", "describe_ragged"]

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".ndjson": "ndjson",
           ".jsonl": "ndjson"}
_INFER_ROWS = 10_000


@dataclass(frozen=True)
class DataFiles:
    """The files behind one table of the lake, and their format."""

    what: str
    spec: str
    format: str
    paths: tuple[Path, ...]
    root: Path

    def rel(self, p: Path) -> str:
        try:
            return str(p.relative_to(self.root))
        except ValueError:
            return str(p)

    @property
    def hive(self) -> bool:
        """Whether the files sit in hive partitions (``key=value`` directories)."""
        return any(_hive_parts(p, self) for p in self.paths)


def resolve_files(root: Path, spec: str, *, what: str, required: bool = True) -> DataFiles | None:
    """Resolve a manifest path (file, directory or glob) to data files.

    Directories are searched recursively; files whose name starts with ``.`` or ``_``
    (``_SUCCESS``, ``.DS_Store``) are skipped, as Spark and Hive do.
    """
    base = Path(spec) if Path(spec).is_absolute() else root / spec
    if any(ch in spec for ch in "*?["):
        candidates = [Path(p) for p in sorted(_glob.glob(str(base), recursive=True))]
        candidates = [p for p in candidates if p.is_file()]
        explicit = False
    elif base.is_dir():
        candidates = sorted(p for p in base.rglob("*") if p.is_file())
        explicit = False
    elif base.is_file():
        candidates = [base]
        explicit = True
    else:
        candidates = []
        explicit = False
    candidates = [p for p in candidates if not _hidden(p, base)]
    data = [p for p in candidates if p.suffix.lower() in FORMATS]
    if explicit and not data:
        msg = f"cannot read the {what} file: unknown format"
        raise UnsupportedFormatError(msg, file=_rel(base, root),
                                     expected="a .parquet, .csv, .ndjson or .jsonl file",
                                     found=f"suffix {base.suffix or '(none)'}")
    if not data:
        if not required:
            return None
        found = ("nothing at that path" if not candidates
                 else "only " + ", ".join(sorted({p.suffix or p.name for p in candidates}))[:200])
        msg = f"no {what} files found"
        raise DataFileNotFoundError(
            msg, file=_rel(base, root), expected="Parquet, CSV or NDJSON files", found=found,
            hint=f"check `{what}:` in workbench.yaml; paths are relative to the lake root and may be globs.",
        )
    formats = {FORMATS[p.suffix.lower()] for p in data}
    if len(formats) > 1:
        examples = ", ".join(_rel(next(p for p in data if FORMATS[p.suffix.lower()] == f), root)
                             for f in sorted(formats))
        msg = f"{what} mixes file formats"
        raise UnsupportedFormatError(msg, file=_rel(base, root), expected="one format per table",
                                     found=f"{', '.join(sorted(formats))} ({examples})",
                                     hint="point the manifest at one format with a glob, e.g. predictions/*.parquet")
    return DataFiles(what=what, spec=spec, format=formats.pop(), paths=tuple(data), root=root)


def _hidden(p: Path, base: Path) -> bool:
    try:
        parts = p.relative_to(base).parts
    except ValueError:
        parts = (p.name,)
    return any(part.startswith((".", "_")) for part in parts)


def _rel(p: Path, root: Path) -> str:
    try:
        return str(p.relative_to(root))
    except ValueError:
        return str(p)


def scan_files(files: DataFiles, *, string_columns: frozenset[str] = frozenset(),
               numeric_columns: frozenset[str] = frozenset()) -> pl.LazyFrame:
    """A lazy scan of every file; files whose schemas differ are combined diagonally.

    ``string_columns`` are read as text from CSV (so codes like ``05`` and versions
    like ``1.10`` survive, and text parse errors cannot show a value).
    ``numeric_columns`` that a text file holds no value of (an all-empty column,
    which CSV inference calls text) are read as numbers.
    """
    if files.format == "parquet":
        return _scan_parquet(files)
    if files.format == "csv":
        return _scan_text(files, string_columns, numeric_columns, _scan_csv_one)
    return _scan_text(files, string_columns, numeric_columns, _scan_ndjson_one)


def _parquet_groups(files: DataFiles) -> dict[tuple, list[Path]]:
    """The Parquet files grouped by schema, in the order a scan of the table yields them."""
    groups: dict[tuple, list[Path]] = {}
    for p in files.paths:
        try:
            schema = pl.read_parquet_schema(p)
        except Exception as exc:  # polars raises ComputeError/OSError for many corruptions
            msg = f"cannot read a Parquet file of {files.what}"
            raise CorruptFileError(msg, file=files.rel(p), expected="a valid Parquet file",
                                   found=sanitize(str(exc)),
                                   hint="the file is truncated or not Parquet; rewrite or remove it.") from None
        groups.setdefault(tuple(schema.items()), []).append(p)
    return groups


def parquet_scan_order(files: DataFiles) -> tuple[list[Path], dict[str, pl.DataType]]:
    """The Parquet files in the order :func:`scan_files` yields their rows, and the columns
    whose type every file agrees on (a row's position in the scan is its offset in that order)."""
    groups = _parquet_groups(files)
    schemas = [dict(k) for k in groups]
    agreed = {c: t for c, t in schemas[0].items() if all(s.get(c) == t for s in schemas[1:])}
    return [p for paths in groups.values() for p in paths], agreed


def _scan_parquet(files: DataFiles) -> pl.LazyFrame:
    groups = _parquet_groups(files)
    hive = files.hive
    frames = []
    for paths in groups.values():
        kwargs = {"hive_partitioning": True} if hive else {}
        frames.append(pl.scan_parquet([str(p) for p in paths], **kwargs))
    if len(frames) == 1:
        return frames[0]
    return pl.concat(frames, how="diagonal_relaxed")


def _scan_csv_one(p: Path, overrides: dict) -> pl.LazyFrame:
    return pl.scan_csv(p, infer_schema_length=_INFER_ROWS, schema_overrides=overrides or None)


def _scan_ndjson_one(p: Path, overrides: dict) -> pl.LazyFrame:
    return pl.scan_ndjson(p, infer_schema_length=_INFER_ROWS, schema_overrides=overrides or None)


def _scan_text(files: DataFiles, string_columns, numeric_columns, scan_one) -> pl.LazyFrame:
    frames = []
    for p in files.paths:
        try:
            names = _text_columns(p, files.format, files.rel(p))
            overrides = {c: pl.String for c in names if c in string_columns}
            lf = scan_one(p, overrides)
            schema = lf.collect_schema()
            empty = [c for c in numeric_columns if schema.get(c) == pl.String
                     and not lf.select(pl.col(c).is_not_null().any()).collect().item()]
            if empty:
                lf = scan_one(p, overrides | {c: pl.Float64 for c in empty})
        except CorruptFileError:
            raise
        except Exception as exc:
            raise corrupt_text_file(files, p, exc) from None
        if hive_parts := _hive_parts(p, files):
            lf = lf.with_columns(pl.lit(v).alias(k) for k, v in hive_parts.items())
        frames.append(lf)
    if len(frames) == 1:
        return frames[0]
    return pl.concat(frames, how="diagonal_relaxed")


def corrupt_text_file(files: DataFiles, p: Path, exc: BaseException) -> CorruptFileError:
    """The error for a CSV/NDJSON file polars could not read, naming the file and, when a line
    breaks the format, that line and what is wrong with it (never its values)."""
    bad = find_bad_line(p, files.format) if files.format in ("csv", "ndjson") else None
    msg = f"cannot read a {files.format.upper()} file of {files.what}"
    if bad is None:
        return CorruptFileError(msg, file=files.rel(p), found=sanitize(str(exc)),
                                hint="check that the file is complete and well-formed.")
    line, found, expected = bad
    return CorruptFileError(msg, file=files.rel(p), line=line, expected=expected, found=found,
                            hint="fix or remove that line (the writer may have been cut off mid-row).")


def find_bad_line(p: Path, fmt: str) -> tuple[int, str, str] | None:
    """The first line of a CSV or NDJSON file that breaks its format, as ``(line, found,
    expected)``, or None. Only counts and positions are described, never values."""
    if fmt == "ndjson":
        with open(p, encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    return lineno, f"not JSON: {exc.msg} at character {exc.pos}", "one JSON object per line"
                if not isinstance(obj, dict):
                    return lineno, f"a JSON {type(obj).__name__}, not an object", "one JSON object per line"
        return None
    if fmt != "csv":
        return None
    for problem in _csv_problems(p, limit=1, short=False):
        return problem
    return None


def ragged_rows(files: DataFiles, *, limit: int = 3) -> dict[str, object]:
    """CSV rows whose field count differs from their file's header, over every file.

    Polars reads a short row's missing fields as null and may skip a long row's extra fields
    when they are not selected, so neither is noticed by a scan. Returns ``{"short": n,
    "long": n, "examples": [(file, line, what), ...]}`` (up to ``limit`` examples). Files without
    a quote character are checked by counting separators per line (fast); others with ``csv``.
    """
    out: dict[str, object] = {"short": 0, "long": 0, "examples": []}
    if files.format != "csv":
        return out
    examples: list[tuple[str, int, str]] = []
    for p in files.paths:
        for line, found, expected in _csv_problems(p, limit=None, short=True):
            if "fields" not in found:
                continue  # an open quote: reading the file fails and names the line
            kind = "short" if int(found.split()[0]) < int(expected.split()[0]) else "long"
            out[kind] = int(out[kind]) + 1
            if len(examples) < limit:
                examples.append((files.rel(p), line, f"{found} where the header has {expected.split()[0]}"))
    out["examples"] = examples
    return out


def describe_ragged(r: dict[str, object], what: str = "predictions") -> str | None:
    """One line on ragged CSV rows (None when there are none), naming the first files and lines."""
    n_short, n_long = int(r["short"]), int(r["long"])
    if not n_short and not n_long:
        return None
    parts = []
    if n_short:
        parts.append(f"{n_short} row{'s' if n_short > 1 else ''} of {what} with fewer fields than the header "
                     "(missing values read as null)")
    if n_long:
        parts.append(f"{n_long} row{'s' if n_long > 1 else ''} with more fields than the header")
    where = "; ".join(f"{f} line {line}: {w}" for f, line, w in r["examples"])
    return " and ".join(parts) + f" — {where}"


def _csv_problems(p: Path, *, limit: int | None, short: bool, long: bool = True) -> list[tuple[int, str, str]]:
    """``(line, found, expected)`` for records whose field count differs from the header's
    (too many when ``long``, too few when ``short``) and for a quote left open."""
    out: list[tuple[int, str, str]] = []
    raw = p.read_bytes()
    if b'"' not in raw:  # no quoting: a record is a line and its fields are its commas + 1
        lines = raw.split(b"\n")
        n = lines[0].count(b",") + 1 if lines else 0
        for i, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            k = line.count(b",") + 1
            if (long and k > n) or (short and k < n):
                out.append((i, f"{k} fields", f"{n} fields, as in the header"))
                if limit is not None and len(out) >= limit:
                    break
        return out
    text = raw.decode("utf-8", errors="replace")
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return out
    n, start = len(header), reader.line_num + 1
    try:
        for rec in reader:
            k = len(rec)
            if rec and ((long and k > n) or (short and k < n)):
                out.append((start, f"{k} fields", f"{n} fields, as in the header"))
                if limit is not None and len(out) >= limit:
                    break
            start = reader.line_num + 1
    except csv.Error as exc:
        if long:
            out.append((start, f"a malformed quoted field ({exc})" if "end of data" not in str(exc)
                        else "a quote opened on this line is never closed",
                        "quotes that open and close within a field"))
    return out


def _hive_parts(p: Path, files: DataFiles) -> dict[str, str]:
    try:
        parts = p.relative_to(files.root).parts[:-1]
    except ValueError:
        return {}
    out = {}
    for part in parts:
        if "=" in part:
            k, _, v = part.partition("=")
            out[k] = v
    return out


def _text_columns(p: Path, fmt: str, name: str) -> list[str]:
    """Column names from a CSV header or the keys of the first NDJSON objects."""
    if fmt == "csv":
        try:
            return list(pl.scan_csv(p, n_rows=0, infer_schema_length=0).collect_schema().names())
        except Exception:
            return []
    names: list[str] = []
    with open(p, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if lineno > 200:
                break
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                msg = "a line of an NDJSON file is not JSON"
                raise CorruptFileError(msg, file=name, line=lineno,
                                       expected="one JSON object per line",
                                       found=f"{exc.msg} at character {exc.pos}",
                                       hint="fix or remove that line.") from None
            if not isinstance(obj, dict):
                msg = "a line of an NDJSON file is not a JSON object"
                raise CorruptFileError(msg, file=name, line=lineno,
                                       expected="one JSON object per line", found=type(obj).__name__)
            names.extend(k for k in obj if k not in names)
    return names


def read_table(files: DataFiles, *, string_columns: frozenset[str] = frozenset()) -> pl.DataFrame:
    """Read a small table (lineage) eagerly, naming the file when it fails."""
    lf = scan_files(files, string_columns=string_columns)
    try:
        return lf.collect()
    except Exception as exc:
        if len(files.paths) == 1 and files.format in ("csv", "ndjson"):
            raise corrupt_text_file(files, files.paths[0], exc) from None
        msg = f"cannot read {files.what}"
        raise CorruptFileError(msg, file=files.rel(files.paths[0]) if len(files.paths) == 1 else files.spec,
                               found=sanitize(str(exc)),
                               hint="check that the file is complete and well-formed.") from None


_QUOTED = re.compile(r"(`[^`]*`|'[^']*'|\"[^\"]*\")")


def sanitize(text: str, *, limit: int = 300) -> str:
    """A library's error message made safe to show: quoted values redacted, one line, short.

    Polars quotes offending values in its messages; those may be personal data.
    """
    first = text.strip().splitlines()[0] if text.strip() else text
    first = _QUOTED.sub("<value>", first)
    return first[:limit]
