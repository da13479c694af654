"""What the demo adds so a person sees the proof-of-testing checks at once (docs/evidence.md).

The demo's instruments run a test every fraction of a second (their clocks show whole seconds),
so their channel-cycle rule is off (``channel_cycle_s = 0``) but for one gold reader, whose
random channel choice sometimes repeats a channel sooner than its cycle allows: those results
are flagged ``too_fast_channel``;
the enzyme analyzer replays a reading every few runs (``replayed_measurement``); the room has a
simulated snapshot camera and its technician is enrolled at the LIMS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .procs import Child, python_module, start

DEMO_CYCLE_S = 0.0
"""The time-lapse instruments' channel cycle: 0, the rule is off for them."""
FAST_READER = "gr-tcp-01"
FAST_READER_CYCLE_S = 2.0
"""This reader's channels repeat faster than 2 s now and then: those results are flagged too fast."""
REPLAY_EVERY = 4
"""The enzyme simulator repeats its previous channel-1 reading every 4th run."""


def start_camera(logs: Path) -> tuple[Child, str]:
    """The simulated snapshot camera; returns the child and its snapshot URL."""
    child = start("sim-camera", python_module("firmware_sim", "camera"), logs, ready_prefix="READY")
    return child, child.ready_line


def with_plausibility(instrument: dict[str, Any]) -> dict[str, Any]:
    """The instrument entry with the demo's scaled method times (no label timing: labels come from people)."""
    cycle = FAST_READER_CYCLE_S if instrument["id"] == FAST_READER else DEMO_CYCLE_S
    return {**instrument, "plausibility": {"channel_cycle_s": cycle, "label_to_result_s": 0}}


def camera_section(url: str) -> dict[str, Any]:
    """``[camera]`` for the demo room."""
    return {"snapshot_url": url, "timeout_s": 1.0}
