"""Simulated FS-Q8 multi-item analyzer speaking ASTM E1381/E1394 on a pty (see docs/instruments/)."""

from .encoder import encode_message, frame_message
from .instrument import AstmInstrument, SimStats, Timings
from .measurements import ITEMS, SimItem, SimMessage, SimReading, generate_message
from .pty_link import PtyLink, open_pty_link

__all__ = [
    "ITEMS", "AstmInstrument", "PtyLink", "SimItem", "SimMessage", "SimReading", "SimStats", "Timings",
    "encode_message", "frame_message", "generate_message", "open_pty_link",
]
