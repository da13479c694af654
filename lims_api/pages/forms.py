"""Form posts of the staff pages: local date-times, safe return paths, and errors in the reader's words."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from lims_api.core.errors import CodedError

Say = Callable[[str], str]


class FormError(ValueError):
    """A form field cannot be used; ``field`` names it, ``why_key`` is the reason's text key."""

    def __init__(self, field: str, why_key: str) -> None:
        super().__init__(f"{field}: {why_key}")
        self.field = field
        self.why_key = why_key


def local_datetime(value: str | None, field: str, timezone: str) -> datetime | None:
    """A ``datetime-local`` field (``2026-12-02T14:30``) in the LIMS's zone; empty means not given."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise FormError(field, "err.form.datetime") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(timezone))


def safe_next(value: str | None, default: str) -> str:
    """A same-site path to go back to after a post (never another host)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def form_error_from(exc: ValidationError) -> FormError:
    """The first pydantic complaint as a ``FormError`` naming the field."""
    first = exc.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "form"
    kind = first["type"]
    why = ("err.form.choice" if kind in ("literal_error", "enum") else "err.form.length" if "too_long" in kind
           else "err.form.required" if kind in ("missing", "string_too_short") else "err.form.datetime")
    return FormError(field, why)


def say_form_error(t: Say, exc: FormError) -> str:
    """``“field” is not valid: why`` in the page's language."""
    return t("err.form").format(field=t(f"field.{exc.field}"), why=t(exc.why_key))


def say_coded(t: Say, exc: CodedError, prefix: str, show: Callable[[str, Any], str]) -> str:
    """A ``CodedError`` in the page's language; ``show(name, value)`` renders each parameter."""
    template = t(f"{prefix}.{exc.code}")
    if template == f"{prefix}.{exc.code}":  # no wording for this code: the English message is still exact
        return str(exc)
    shown: Mapping[str, str] = {name: show(name, value) for name, value in exc.params.items()}
    try:
        return template.format(**shown)
    except (KeyError, IndexError):
        return str(exc)
