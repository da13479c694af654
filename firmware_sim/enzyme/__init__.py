"""Simulated EI-412 enzyme-inhibition pesticide analyzer on a pty (docs/instruments/enzyme-inhibition.md)."""

from ._faults import FAULT_KINDS, Fault, FaultError
from ._runs import ChannelPlan, ChannelTruth, RunPlan
from .simulator import EnzymeSimulator, SimulatorClosed

__all__ = [
    "FAULT_KINDS",
    "ChannelPlan",
    "ChannelTruth",
    "EnzymeSimulator",
    "Fault",
    "FaultError",
    "RunPlan",
    "SimulatorClosed",
]
