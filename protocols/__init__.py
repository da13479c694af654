"""Sans-I/O codecs and state machines: bytes in, events out; no sockets, clocks or threads."""
