"""The wire contract between gateway and LIMS, written once: URL paths, ingest answers, heartbeats, MQTT topics.

Both sides import these modules; nothing here does I/O. Faults raise :class:`protocols.errors.WireError`,
which each side wraps in its own error.
"""
