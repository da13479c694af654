"""Resolve psycopg's lazily registered dumpers once, before any request thread uses them.

psycopg registers many dumpers under the *name* of the Python type and, on the first lookup,
replaces the name by the class in a dict shared by every connection (``AdaptersMap.get_dumper``:
``dmap[cls] = dmap.pop(name)``). Two threads doing that first lookup at the same moment can make
one of them see neither key and fail with ``cannot adapt type 'date' using placeholder '%s'``
(psycopg issue #1230, open in 3.2.12). A fresh LIMS worker under concurrent ingest hit exactly this.
Looking every bound type up once, on one thread, at engine creation removes the window.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

BOUND_TYPES: tuple[type, ...] = (
    str, int, float, bool, bytes, bytearray, date, datetime, time, timedelta, Decimal, uuid.UUID, dict, list,
)
"""Python types the LIMS binds as query parameters (and a margin of the common others)."""


def resolve_dumpers() -> None:
    """Look each of ``BOUND_TYPES`` up in psycopg's global adapters map, in every placeholder format."""
    import psycopg
    from psycopg.adapt import PyFormat

    for cls in BOUND_TYPES:
        for placeholder in PyFormat:
            try:
                psycopg.adapters.get_dumper(cls, placeholder)
            except psycopg.ProgrammingError:  # no dumper for this type in this format: nothing to resolve
                continue
