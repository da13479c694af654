"""Simulated FS-Q8 multi-item analyzer speaking ASTM E1381/E1394 on a pty or behind a TCP serial server
(see docs/instruments/)."""

from .encoder import encode_message, frame_message
from .instrument import AstmInstrument, SimStats, Timings
from .measurements import ITEMS, SimItem, SimMessage, SimReading, generate_message
from .pty_link import PtyLink, open_pty_link
from .tcp_link import TcpLink

__all__ = [
    "ITEMS", "AstmInstrument", "PtyLink", "SimItem", "SimMessage", "SimReading", "SimStats", "TcpLink", "Timings",
    "encode_message", "frame_message", "generate_message", "open_pty_link",
]
