"""ASTM E1381/E1394 multi-item quantitative analyzer driver (registered as ``astm_quantitative``)."""

from .driver import AstmQuantitativeDriver
from .mapping import Reading, readings
from .options import AstmOptions, load_limits, parse_options

__all__ = ["AstmOptions", "AstmQuantitativeDriver", "Reading", "load_limits", "parse_options", "readings"]
