"""A PostgreSQL engine resolves psycopg's dumpers before request threads race to (psycopg issue #1230)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: psycopg's global adapters map is process-wide state.
CHECK = """
import psycopg
from psycopg.adapt import PyFormat
from lims_api.core.db import make_engine
from lims_api.core.psycopg_warmup import BOUND_TYPES

auto = psycopg.adapters._dumpers[PyFormat.AUTO]  # private: the map whose lazy entries race
assert "datetime.date" in auto, "precondition: psycopg registers date by name until first use"
make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # lazy: connects to nothing
unresolved = [
    (cls.__qualname__, fmt.name) for cls in BOUND_TYPES for fmt in PyFormat
    if f"{cls.__module__}.{cls.__qualname__}" in psycopg.adapters._dumpers[fmt]
]
assert not unresolved, unresolved
assert auto[__import__("datetime").date] is not None
print("resolved")
"""


def test_postgresql_engine_resolves_every_bound_type_before_use():
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "resolved", done.stderr


def test_sqlite_engine_leaves_psycopg_alone():
    code = "import sys; from lims_api.core.db import make_engine; make_engine('sqlite://'); print('psycopg' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr
