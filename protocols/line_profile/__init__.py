"""Serial line profiles: a TOML description of a line-based instrument → decoded readings and verdicts.

Pure: bytes in, events out. The driver (``drivers.serial_line_profile``) does the serial I/O.
"""

from protocols.need_data import NEED_DATA

from ._checksum import checksum_value
from ._loader import builtin_names, load_builtin, load_profile, parse_profile, resolve_profile
from ._parse import parse_line
from ._reading import LineResult, Verdict, interpret, verdict
from ._schema import Checksum, Constant, FieldSpec, InvalidRule, LineFormat, Mapping, Profile, ProfileInfo, VerdictRule
from .decoder import LineDecoder
from .errors import LineDecoderUsageError, LineProfileError
from .events import FieldValue, LineError, LineErrorKind, LineEvent, LineReading

__all__ = [
    "NEED_DATA", "Checksum", "Constant", "FieldSpec", "FieldValue", "InvalidRule", "LineDecoder",
    "LineDecoderUsageError", "LineError", "LineErrorKind", "LineEvent", "LineFormat", "LineProfileError",
    "LineReading", "LineResult", "Mapping", "Profile", "ProfileInfo", "Verdict", "VerdictRule",
    "builtin_names", "checksum_value", "interpret", "load_builtin", "load_profile", "parse_line",
    "parse_profile", "resolve_profile", "verdict",
]
