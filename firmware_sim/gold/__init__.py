"""Simulated colloidal-gold strip readers (GR-100 and any profile-defined vendor) over Modbus TCP/RTU.

Imports none of our other packages: it reads the same profile data files with its own loader
and encodes registers with its own encoder, written from docs/profiles.md.
"""

from .faults import ALL_FAULTS, FaultPlan
from .instrument import GoldInstrument
from .profile_data import SimProfile, SimProfileError, load, parse
from .runner import SimConfig, build_instrument, produce_results, start_service

__all__ = [
    "ALL_FAULTS", "FaultPlan", "GoldInstrument", "SimConfig", "SimProfile", "SimProfileError",
    "build_instrument", "load", "parse", "produce_results", "start_service",
]
