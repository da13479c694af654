"""First conversions of a msgspec type in many threads at once never crash the process (protocols._validation)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RACE = """
import sys, threading
from typing import Annotated, Literal
import msgspec
from protocols import _validation
if sys.argv[1] == "unguarded":
    _validation.ready = lambda kind: None
sys.setswitchinterval(1e-6)

class Part(msgspec.Struct, frozen=True):
    name: Annotated[str, msgspec.Meta(min_length=1)]
    kind: Literal["a", "b"] = "a"

class Document(msgspec.Struct, frozen=True):
    id: str
    parts: list[Part]
    sizes: dict[str, Annotated[int, msgspec.Meta(ge=0)]] = {}

data = {"id": "d", "parts": [{"name": "x", "kind": "b"}], "sizes": {"x": 1}}
start = threading.Barrier(8)
def work():
    start.wait()
    for _ in range(30):
        _validation.convert(data, Document)
        try:
            _validation.convert({**data, "parts": [{"name": ""}]}, Document)
        except _validation.Invalid:
            pass
threads = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
"""


def test_first_conversions_in_many_threads_at_once_do_not_crash() -> None:
    for _ in range(5):
        run = subprocess.run([sys.executable, "-c", RACE, "guarded"], cwd=ROOT, capture_output=True, text=True,
                             timeout=60)
        assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
