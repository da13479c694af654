"""Proof a test happened: LIMS plausibility flags, replay fingerprints and camera evidence (docs/evidence.md)."""

from .flagging import flag_new, flag_stored

__all__ = ["flag_new", "flag_stored"]
