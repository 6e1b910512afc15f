"""Templates and their parameters as the launcher's forms see them.

Template names come only from the registry (:func:`workbench.report.templates.list_templates`):
a client never names a notebook file. Parameters arrive as JSON and are checked one by one with
the rules of ``workbench report`` (:func:`workbench.report.params.validate_params`), so every
bad field gets its own message.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from workbench.exceptions import LakeNotFoundError, ManifestError, UsageError
from workbench.jupyter.errors import ApiError
from workbench.jupyter.paths import Root

__all__ = ["check_lake", "check_params", "get_template", "template_dirs", "template_json", "templates"]


def template_dirs(root: Root, templates_dir) -> Path | None:
    """The user's templates directory (relative to the root, confined), or None."""
    if templates_dir in (None, ""):
        return None
    return root.resolve(templates_dir, field="templates_dir", kind="dir")


def templates(root: Root, templates_dir=None) -> dict[str, Any]:
    """Every template by name: the user's directory first, then installed packs, then the built-in ones."""
    from workbench.report.templates import list_templates

    return {t.name: t for t in list_templates(template_dirs(root, templates_dir))}


def get_template(root: Root, name, templates_dir=None):
    """The registered template called ``name``, or a 404 listing the names there are."""
    found = templates(root, templates_dir)
    if not isinstance(name, str) or name not in found:
        raise ApiError(404, f"unknown template {name!r}; templates: {', '.join(sorted(found)) or '(none)'}",
                       field="template")
    return found[name]


def template_json(t) -> dict[str, Any]:
    """The contract's view of a template: parameters a user sets (the runner fills ``output_dir``);
    ``source`` is its origin: ``builtin``, ``user`` or ``pack:<distribution>``."""
    from workbench.report.params import RUNNER_PARAMS

    source = t.origin
    params = {k: {"type": v["type"], "default": v["default"], "help": v["help"] or ""}
              for k, v in t.parameters.items() if k not in RUNNER_PARAMS}
    return {"name": t.name, "description": t.description, "source": source, "parameters": params}


def check_lake(root: Root, rel, *, field: str = "lake") -> Path:
    """A lake folder under the root: 404 outside it, 400 when it holds no valid ``workbench.yaml``."""
    from workbench.lake.manifest import read_manifest

    path = root.resolve(rel, field=field, kind="dir")
    try:
        read_manifest(path)
    except (LakeNotFoundError, ManifestError) as exc:
        raise ApiError(400, str(exc), field=field, type=type(exc).__name__, hint=exc.hint) from None
    return path


def _field_message(exc: UsageError) -> str:
    parts = [exc.message]
    if exc.found:
        parts.append(f"found {exc.found}")
    if exc.expected and len(exc.expected) <= 120:  # the list of every parameter is too long for one field
        parts.append(f"expected {exc.expected}")
    return "; ".join(parts)


def check_params(root: Root, template, params, *, base: str = "") -> dict[str, Any]:
    """Validate ``params`` against ``template``; return the values to run with.

    Path-valued parameters (``lake``, ``*_file``) are relative to ``base`` (a folder relative
    to the root) and confined to the root; they are returned absolute, as the runner wants them.
    Raises a 400 whose ``errors`` maps each bad field to its message.
    """
    from workbench.report.params import FILE_PARAM, validate_params

    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ApiError(400, "`params` must be an object {name: value}", field="params")
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, value in params.items():
        try:
            if isinstance(value, str) and value and (name == "lake" or FILE_PARAM.search(name)):
                rel = posixpath.normpath(Root.join(base, value)) if base else value
                value = str(check_lake(root, rel, field=name) if name == "lake"
                            else root.resolve(rel, field=name, kind="file"))
            out.update(validate_params(template, {name: value}))
        except UsageError as exc:
            errors[name] = _field_message(exc)
        except ApiError as exc:
            errors[name] = exc.message
    if errors:
        first = next(iter(errors))
        raise ApiError(400, f"parameter {first!r}: {errors[first]}", field=first, errors=errors, ok=False)
    return out
