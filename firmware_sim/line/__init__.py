"""Simulated line-based serial instrument driven by a line profile's ``[simulator]`` table (docs/profiles.md)."""

from ._encoder import checksum, encode_line
from ._faults import FAULT_KINDS, FaultError
from ._plan import LineTruth, judge, random_reading
from ._spec import LineSpec, LineSpecError, load_spec, profile_text
from .simulator import LineSimulator, SimulatorClosed

__all__ = [
    "FAULT_KINDS", "FaultError", "LineSimulator", "LineSpec", "LineSpecError", "LineTruth", "SimulatorClosed",
    "checksum", "encode_line", "judge", "load_spec", "profile_text", "random_reading",
]
