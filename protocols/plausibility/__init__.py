"""Plausibility rules: did this test really happen the way its result says? Pure functions, no clocks.

Each rule takes facts (times, identities, counts) and returns qc flags (``code`` or
``code:detail`` strings). The gateway applies the channel-timing and instrument rules before it
signs a result; the LIMS applies the cross-room and re-decoding rules after it stored one
(``docs/evidence.md``).
"""

from .flags import (
    CAMERA_FAILED,
    CLOCK_SKEW,
    FIRMWARE_MISMATCH,
    LABEL_AFTER_RESULT,
    OPERATOR_NOT_ENROLLED,
    OPERATOR_NOT_SIGNED_IN,
    OUTSIDE_OPENING_HOURS,
    RATE_EXCEEDED,
    RAW_MISMATCH,
    RAW_UNDECODABLE,
    REPLAYED_MEASUREMENT,
    REPLAYED_RAW,
    SERIAL_MISMATCH,
    TOO_FAST_AFTER_LABEL,
    TOO_FAST_CHANNEL,
    UNLABELLED,
    flag_code,
)
from .timing import MethodTiming, default_timing, hourly_capacity, label_timing_flags, too_fast

__all__ = [
    "CAMERA_FAILED", "CLOCK_SKEW", "FIRMWARE_MISMATCH", "LABEL_AFTER_RESULT", "OPERATOR_NOT_ENROLLED",
    "OPERATOR_NOT_SIGNED_IN", "OUTSIDE_OPENING_HOURS", "RATE_EXCEEDED", "RAW_MISMATCH", "RAW_UNDECODABLE",
    "REPLAYED_MEASUREMENT", "REPLAYED_RAW", "SERIAL_MISMATCH", "TOO_FAST_AFTER_LABEL", "TOO_FAST_CHANNEL",
    "UNLABELLED", "MethodTiming", "default_timing", "flag_code", "hourly_capacity", "label_timing_flags",
    "too_fast",
]
