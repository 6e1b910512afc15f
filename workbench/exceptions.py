"""Errors and warnings raised by the workbench.

Every error a user can cause is a :class:`WorkbenchError`; each also subclasses
the matching builtin so ``except ValueError`` keeps working::

    WorkbenchError (Exception)
    ├── LakeNotFoundError (FileNotFoundError)       no lake, no workbench.yaml
    ├── ManifestError (ValueError)                  invalid workbench.yaml
    ├── DataFileNotFoundError (FileNotFoundError)   a path or glob matches no file
    ├── UnsupportedFormatError (ValueError)         a file that is not Parquet, CSV or NDJSON
    │   └── ImportFormatError                       `workbench import`: telemetry that breaks its format
    ├── CorruptFileError (OSError)                  a file that cannot be read (names the file)
    ├── TelemetrySchemaError (ValueError)           columns of a table break the contract
    │   ├── ColumnNotFoundError                     a role, feature or segment column is missing
    │   ├── ColumnTypeError (TypeError)             a column has the wrong dtype
    │   └── ColumnCollisionError                    a role would overwrite another column
    ├── TimestampError (ValueError)                 unparsable or tz-mixed timestamps
    ├── EmptyDataError (ValueError)                 no prediction rows
    ├── InvalidValueError (ValueError)              NaN, ±inf (or null) score, latency_ms, prediction or label
    ├── LineageError (ValueError)                   lineage/ tables break the contract
    │   └── OpenLineageError                        a line of openlineage.ndjson (names the line)
    ├── LabelJoinError (ValueError)                 labels that join no prediction
    ├── RequestNotFoundError (LookupError)          lineage_of() for an unknown request id
    ├── ArtifactError (ValueError)                  a model artifact that cannot be loaded or used
    │   └── UntrustedArtifactError (PermissionError) pickle/joblib, or skops types not trusted
    ├── MissingDependencyError (ImportError)        an optional extra (alibi, skops) is not installed
    │   └── SparkNotInstalledError                  engine="spark" without pyspark (the `spark` extra)
    ├── UsageError (ValueError)                     a function argument or command option out of range
    ├── SummaryMismatchError (ValueError)           summaries made with other binning, keys or bucket
    ├── FeatureNotFoundError (KeyError)             a result asked for a feature it does not hold
    ├── InsufficientDataError (ValueError)          too few rows, labels or vectors for an analysis
    ├── HypothesisError (TypeError)                 a hypothesis plugin that is neither a class nor a callable
    ├── FindingError (ValueError)                   a finding with a score outside [0, 1] or an unknown subject key
    ├── VerdictsFileError (ValueError)              a verdicts.json that cannot be read (kept, never overwritten)
    └── ReportError (RuntimeError)                  a template cell failed (names the cell; partial notebook kept)

    WorkbenchWarning (UserWarning)
    ├── DuplicateRequestIdWarning                   request ids seen more than once (with a count)
    ├── LakeValidationWarning                       a contract detail worth knowing, not fatal
    └── HypothesisWarning                           a hypothesis failed or could not load; triage went on

Messages follow one shape: what went wrong (lower case), the file, column or
line, what was expected and what was found, then a hint after a blank line.
Messages never contain values of sensitive columns.
"""

from __future__ import annotations

__all__ = [
    "WorkbenchError",
    "ArtifactError",
    "UntrustedArtifactError",
    "MissingDependencyError",
    "SparkNotInstalledError",
    "LakeNotFoundError",
    "ManifestError",
    "DataFileNotFoundError",
    "UnsupportedFormatError",
    "ImportFormatError",
    "CorruptFileError",
    "TelemetrySchemaError",
    "ColumnNotFoundError",
    "ColumnTypeError",
    "ColumnCollisionError",
    "TimestampError",
    "EmptyDataError",
    "InvalidValueError",
    "LineageError",
    "OpenLineageError",
    "LabelJoinError",
    "RequestNotFoundError",
    "UsageError",
    "SummaryMismatchError",
    "FeatureNotFoundError",
    "InsufficientDataError",
    "HypothesisError",
    "FindingError",
    "VerdictsFileError",
    "ReportError",
    "ChromiumNotFoundError",
    "WorkbenchWarning",
    "DuplicateRequestIdWarning",
    "LakeValidationWarning",
    "HypothesisWarning",
]


class WorkbenchError(Exception):
    """Base of every error a user of the workbench can cause.

    Parameters
    ----------
    message : str
        What went wrong, in lower case.
    file, column, line : optional
        Where: the file (relative to the lake when possible), the column, the line.
    expected, found : str, optional
        The contract and what the data had instead.
    hint : str, optional
        How to fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        line: int | None = None,
        expected: str | None = None,
        found: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.column = column
        self.line = line
        self.expected = expected
        self.found = found
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file: {self.file}")
        if self.line is not None:
            where.append(f"line: {self.line}")
        if self.column is not None:
            where.append(f"column: {self.column}")
        msg = self.message
        if where:
            msg += f" ({', '.join(where)})"
        details = []
        if self.expected is not None:
            details.append(f"Expected: {self.expected}")
        if self.found is not None:
            details.append(f"Found: {self.found}")
        if details:
            msg += "\n\n" + "\n".join(details)
        if self.hint:
            msg += "\n\n" + f"Hint: {self.hint}"
        return msg

    def __str__(self) -> str:
        return self._format()

    def __reduce__(self):  # pragma: no cover - exercised by pickling in multiprocessing
        kwargs = dict(
            file=self.file, column=self.column, line=self.line,
            expected=self.expected, found=self.found, hint=self.hint,
        )
        return (_rebuild, (type(self), self.message, kwargs))


def _rebuild(cls, message, kwargs):  # pragma: no cover
    return cls(message, **kwargs)


class LakeNotFoundError(WorkbenchError, FileNotFoundError):
    """The lake directory or its ``workbench.yaml`` does not exist."""


class ManifestError(WorkbenchError, ValueError):
    """``workbench.yaml`` is not valid YAML or breaks the manifest contract."""


class DataFileNotFoundError(WorkbenchError, FileNotFoundError):
    """A path or glob of the manifest matches no data file."""


class UnsupportedFormatError(WorkbenchError, ValueError):
    """A data file whose format the workbench cannot read."""


class ImportFormatError(UnsupportedFormatError):
    """Telemetry given to ``workbench import`` that breaks its format: a span without a required field
    (names the file, the line and the field), or a file in none of the formats the importer reads."""


class CorruptFileError(WorkbenchError, OSError):
    """A data file that exists but cannot be read (truncated, not Parquet, ...)."""


class TelemetrySchemaError(WorkbenchError, ValueError):
    """The columns of a table break the contract."""


class ColumnNotFoundError(TelemetrySchemaError):
    """A column the manifest names is not in the table."""


class ColumnTypeError(TelemetrySchemaError, TypeError):
    """A column has a dtype the contract does not allow."""


class ColumnCollisionError(TelemetrySchemaError):
    """Mapping a role onto a column would overwrite another column of the same name."""


class TimestampError(WorkbenchError, ValueError):
    """Timestamps that cannot be parsed, or that mix time-zone-aware and naive values."""


class EmptyDataError(WorkbenchError, ValueError):
    """A table that must have rows has none."""


class InvalidValueError(WorkbenchError, ValueError):
    """Rows whose score or latency_ms is null, NaN or ±inf, or whose prediction or label is NaN or
    ±inf: the analyses that need the value leave them out (and count them)."""


class LineageError(WorkbenchError, ValueError):
    """A lineage table (deployments, features, dependencies, traffic) breaks the contract."""


class OpenLineageError(LineageError):
    """A line of the OpenLineage file is not a valid RunEvent."""


class LabelJoinError(WorkbenchError, ValueError):
    """Labels exist but none of them joins a prediction on ``request_id``."""


class RequestNotFoundError(WorkbenchError, LookupError):
    """No prediction has the requested ``request_id``."""


class ArtifactError(WorkbenchError, ValueError):
    """A model artifact named by the deployments cannot be found, loaded or used."""


class UntrustedArtifactError(ArtifactError, PermissionError):
    """Loading the artifact could run code: pickle/joblib, or skops types outside the trusted set."""


class MissingDependencyError(WorkbenchError, ImportError):
    """An optional dependency is not installed (the message names the extra to install)."""


class SparkNotInstalledError(MissingDependencyError):
    """``engine="spark"`` was asked for but pyspark is not importable (the ``spark`` extra)."""


class UsageError(WorkbenchError, ValueError):
    """An argument or command-line option with a value that cannot be used."""


class WorkbenchWarning(UserWarning):
    """Base of the workbench's warnings."""


class DuplicateRequestIdWarning(WorkbenchWarning):
    """Some request ids occur more than once in the predictions."""


class LakeValidationWarning(WorkbenchWarning):
    """A detail of the lake worth knowing that does not stop the analysis."""


class VerdictsFileError(WorkbenchError, ValueError):
    """A verdicts file (``HypothesisBoard``) that exists but cannot be read as verdicts: it is
    left as it is, never overwritten, until it is fixed or moved aside."""


class SummaryMismatchError(WorkbenchError, ValueError):
    """Summaries that must share binning, keys and bucket (to be merged or compared) do not."""


class FeatureNotFoundError(WorkbenchError, KeyError):
    """A result was asked for a feature it holds no statistics of."""


class InsufficientDataError(WorkbenchError, ValueError):
    """A detector was given too little data to answer (no rows of a version, no labels, too few
    vectors): the caller (triage) leaves that check out and says so, instead of guessing."""


class HypothesisError(WorkbenchError, TypeError):
    """A plugin registered under ``workbench.hypotheses`` is neither a Hypothesis nor a callable."""


class FindingError(WorkbenchError, ValueError):
    """A hypothesis built an invalid :class:`~workbench.rca.finding.Finding` (score outside
    [0, 1], a subject key outside the taxonomy)."""


class ReportError(WorkbenchError, RuntimeError):
    """A template cell failed; the partial notebook is kept and the cell is named."""


class ChromiumNotFoundError(ReportError, FileNotFoundError):
    """``--pdf`` needs a headless Chromium and none was found; the message says how to install one."""


class HypothesisWarning(WorkbenchWarning):
    """A hypothesis (usually a plugin) failed or could not be loaded; triage went on without it."""
