"""``enzyme_inhibition`` driver: EI-412 style RS-232 pesticide analyzers (GB/T 5009.199)."""

from ._driver import EnzymeInhibitionDriver
from ._mapping import to_test_result
from ._options import EnzymeOptions, parse_options

__all__ = ["EnzymeInhibitionDriver", "EnzymeOptions", "parse_options", "to_test_result"]
