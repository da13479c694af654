"""Modbus instrument profiles: a TOML register map → decoded fields → a reading with its verdict.

Pure: registers in, values out. The driver (``drivers.modbus_profile``) does the Modbus I/O.
"""

from ._codec import (
    Value,
    decode_block,
    decode_fields,
    decode_identity,
    decode_value,
    encode_value,
    raw_data,
    registers_from_bytes,
    registers_to_bytes,
)
from ._errors import ProfileError, RegisterDataError
from ._loader import builtin_names, load_builtin, load_profile, parse_profile, resolve_profile
from ._reading import Reading, Verdict, interpret, verdict
from ._schema import (
    Ack,
    AnalyteEntry,
    FieldSpec,
    Handshake,
    Profile,
    ProfileInfo,
    ReadyFlag,
    RegisterBlock,
    ResultMapping,
    VerdictRule,
)

__all__ = [
    "Ack", "AnalyteEntry", "FieldSpec", "Handshake", "Profile", "ProfileError", "ProfileInfo",
    "Reading", "ReadyFlag", "RegisterBlock", "RegisterDataError", "ResultMapping", "Value",
    "Verdict", "VerdictRule", "builtin_names", "decode_block", "decode_fields", "decode_identity",
    "decode_value", "encode_value", "interpret", "load_builtin", "load_profile", "parse_profile",
    "raw_data", "registers_from_bytes", "registers_to_bytes", "resolve_profile", "verdict",
]
