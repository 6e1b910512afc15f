"""The one error type the handlers answer with: an HTTP status and the contract's JSON body.

``{"message": str, "field": str | None, "errors": {field: message} | None}``, plus ``type`` and
``hint`` when the cause is a named :class:`~workbench.exceptions.WorkbenchError`.
"""

from __future__ import annotations

from typing import Any

from tornado.web import HTTPError

__all__ = ["ApiError", "error_entry", "from_workbench_error"]


class ApiError(HTTPError):
    """A refused request: ``status`` and what to show the user (``field`` names the input at fault)."""

    def __init__(self, status: int, message: str, *, field: str | None = None,
                 errors: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(status, "%s", message)
        self.message = message
        self.field = field
        self.errors = errors
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "field": self.field, "errors": self.errors, **self.extra}


def error_entry(exc: BaseException) -> dict[str, Any]:
    """``{"type", "message", "hint"}`` of an exception: the message without its hint, the hint apart."""
    hint = getattr(exc, "hint", None)
    text = str(exc)
    if hint and text.endswith(f"Hint: {hint}"):
        text = text[: -len(f"Hint: {hint}")].rstrip()
    return {"type": type(exc).__name__, "message": text, "hint": hint}


def from_workbench_error(exc: BaseException, *, status: int = 400, field: str | None = None) -> ApiError:
    """A named package error as a 4xx answer keeping its class name and hint."""
    entry = error_entry(exc)
    return ApiError(status, str(exc), field=field, type=entry["type"], hint=entry["hint"])
