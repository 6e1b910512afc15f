"""Loading model artifacts named by the deployments' ``artifact_uri``, safely.

skops files are preferred: they are loaded without unpickling, and only types that skops trusts
by default (scikit-learn, numpy, scipy) or that the workbench ships are accepted unless the caller
passes ``trust_artifacts=True``. Pickle and joblib files can run arbitrary code when loaded, so
they are refused without ``trust_artifacts=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from workbench.exceptions import ArtifactError, UntrustedArtifactError

__all__ = ["TRUSTED_PREFIXES", "load_artifact", "resolve_artifact"]

#: Types whose module starts with one of these load from skops files without ``trust_artifacts``.
TRUSTED_PREFIXES = ("workbench.synthetic.artifact.",)
_PICKLE = (".pkl", ".pickle", ".joblib", ".sav")


def resolve_artifact(uri: str, *, root: str | Path | None = None) -> Path:
    """A local path for ``uri``: relative to the lake root, absolute, or ``file://``.

    Remote URIs (s3://, gs://, http://) are refused: the workbench never reaches the network at
    run time; copy the artifact next to the lake and point ``artifact_uri`` at it.
    """
    if not uri:
        raise ArtifactError("the deployment names no artifact (artifact_uri is empty)",
                            hint="fill artifact_uri in lineage/deployments.csv with a path to the model file")
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file") and len(parsed.scheme) > 1:  # (a Windows drive letter is one char)
        raise ArtifactError(f"artifact {uri!r} is remote ({parsed.scheme}://); the workbench does not download",
                            expected="a local path, relative to the lake or absolute",
                            hint="copy the file next to the lake and point artifact_uri at it")
    path = Path(parsed.path if parsed.scheme == "file" else uri)
    if not path.is_absolute() and root is not None:
        path = Path(root) / path
    if not path.is_file():
        raise ArtifactError(f"artifact not found: {path}", file=str(path),
                            hint="check artifact_uri in lineage/deployments.csv (relative paths start at the lake)")
    return path


def load_artifact(uri: str | Path, *, root: str | Path | None = None, trust_artifacts: bool = False) -> Any:
    """Load a model artifact.

    Parameters
    ----------
    uri : str or Path
        ``artifact_uri`` from the deployments (relative to ``root``) or a path.
    trust_artifacts : bool, default False
        Allow pickle/joblib files and skops types outside the trusted set. Only for artifacts
        from a source you trust: loading them can run code.

    Raises
    ------
    UntrustedArtifactError
        A pickle/joblib file, or a skops file with untrusted types, without ``trust_artifacts``.
    ArtifactError
        The file is missing, remote, or not a model the workbench can read.
    """
    path = resolve_artifact(str(uri), root=root)
    suffix = path.suffix.lower()
    if suffix == ".skops":
        import skops.io as sio

        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:
            raise ArtifactError(f"cannot read skops artifact: {exc}", file=str(path)) from None
        refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
        if refused and not trust_artifacts:
            raise UntrustedArtifactError(
                "the artifact holds types skops does not trust by default", file=str(path),
                found=", ".join(refused),
                hint="inspect them (skops.io.get_untrusted_types) and, if you trust the source, pass "
                     "trust_artifacts=True")
        try:
            return sio.load(path, trusted=untrusted)
        except Exception as exc:
            raise ArtifactError(f"cannot load skops artifact: {exc}", file=str(path)) from None
    if suffix in _PICKLE:
        if not trust_artifacts:
            raise UntrustedArtifactError(
                "pickle and joblib artifacts can run arbitrary code when loaded", file=str(path),
                expected="a .skops file", found=suffix,
                hint="convert the model with skops.io.dump, or pass trust_artifacts=True if you trust its source")
        try:
            if suffix == ".joblib":
                import joblib

                return joblib.load(path)
            import pickle

            with open(path, "rb") as fh:
                return pickle.load(fh)  # noqa: S301 - the caller trusted this file explicitly
        except Exception as exc:
            raise ArtifactError(f"cannot load artifact: {type(exc).__name__}: {exc}", file=str(path)) from None
    raise ArtifactError(f"unknown artifact format {suffix or '(no suffix)'!r}", file=str(path),
                        expected=".skops (preferred), or .pkl/.joblib with trust_artifacts=True")
