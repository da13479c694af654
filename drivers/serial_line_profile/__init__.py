"""Profile-driven line-based serial driver: a new vendor is a TOML line profile, not new code."""

from ._driver import SerialLineProfileDriver, resolve_profile
from ._options import SerialLineOptions, parse_options
from ._result import build_result, source_key

__all__ = ["SerialLineOptions", "SerialLineProfileDriver", "build_result", "parse_options", "resolve_profile",
           "source_key"]
