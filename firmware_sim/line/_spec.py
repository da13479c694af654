"""The simulator's own reading of a line profile TOML (it imports nothing of ``protocols``).

Written from docs/profiles.md ("Serial line profiles"): it needs the ``[simulator]`` table to
write lines, ``[line]``/``[checksum]`` to frame and check-sum them, ``[fields]`` for datetime
formats, and ``[mapping]``/``[verdict]`` to know the truth it should expect a host to report.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_PROFILES_DIR = Path(__file__).resolve().parents[2] / "protocols" / "profiles"


class LineSpecError(ValueError):
    """The profile cannot drive the simulator (missing ``[simulator]`` key, bad TOML)."""


@dataclass(frozen=True)
class LineSpec:
    """What the simulator needs from one profile."""

    template: str
    pattern: re.Pattern[str]
    encoding: str
    terminator: str
    checksum: dict[str, str]
    fields: dict[str, dict[str, Any]]
    mapping: dict[str, Any]
    verdict: dict[str, Any]
    settings: dict[str, Any]
    """The ``[simulator]`` table."""


def profile_text(name_or_path: str) -> tuple[str, str]:
    """(TOML text, source name) of a built-in profile name or a path."""
    if "/" not in name_or_path and not name_or_path.endswith(".toml"):
        path = _PROFILES_DIR / f"{name_or_path}.toml"
    else:
        path = Path(name_or_path)
    try:
        return path.read_text("utf-8"), str(path)
    except OSError as exc:
        raise LineSpecError(f"cannot read profile {name_or_path!r}: {exc}") from exc


def load_spec(text: str, source: str = "<profile text>") -> LineSpec:
    """Parse the TOML ``text`` into a LineSpec; LineSpecError names what is missing."""
    try:
        data = tomllib.loads(text)
        settings = data["simulator"]
        return LineSpec(
            template=settings["template"], pattern=re.compile(data["line"]["pattern"]),
            encoding=data["line"].get("encoding", "ascii"), terminator=data["line"].get("terminator", "\r\n"),
            checksum=data.get("checksum", {"kind": "none"}), fields=data["fields"], mapping=data["mapping"],
            verdict=data["verdict"], settings=settings,
        )
    except (tomllib.TOMLDecodeError, re.error) as exc:
        raise LineSpecError(f"{source}: {exc}") from exc
    except KeyError as exc:
        raise LineSpecError(f"{source}: missing key {exc.args[0]!r} (the simulator needs [simulator].template)") from exc


