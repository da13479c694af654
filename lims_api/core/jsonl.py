"""A JSON-lines file written one line at a time and created only when its first line comes."""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import IO, Any


class LazyJsonl:
    """``write(doc)`` appends one JSON line to ``path``, opening it on the first; ``count`` lines written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._out: IO[str] | None = None

    def write(self, doc: dict[str, Any]) -> None:
        if self._out is None:
            self._out = self.path.open("w", encoding="utf-8")
        self._out.write(json.dumps(doc, ensure_ascii=False) + "\n")
        self.count += 1

    def __enter__(self) -> LazyJsonl:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._out is not None:
            self._out.close()
