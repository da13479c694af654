"""Simulated EI-412 enzyme-inhibition pesticide analyzer on a pty (docs/instruments/enzyme-inhibition.md)."""

from ._faults import FAULT_KINDS, Fault, FaultError
from ._host import (
    HostAck,
    HostFrameReader,
    HostFrameRejected,
    HostInput,
    HostQuery,
    parse_host_frame,
)
from ._runs import ChannelPlan, ChannelTruth, RunPlan
from .simulator import EnzymeSimulator, SimulatorClosed

__all__ = [
    "FAULT_KINDS",
    "ChannelPlan",
    "ChannelTruth",
    "EnzymeSimulator",
    "Fault",
    "FaultError",
    "HostAck",
    "HostFrameReader",
    "HostFrameRejected",
    "HostInput",
    "HostQuery",
    "RunPlan",
    "SimulatorClosed",
    "parse_host_frame",
]
