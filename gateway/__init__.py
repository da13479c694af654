"""The gateway daemon: config, scheduling, SQLite outbox, signing, uplink, health, room page."""

import sys

# The daemon talks to the LIMS over httpcore (gateway.http_client); httpx is imported only for a
# configured camera (gateway.camera). ``import httpx`` then also imports its optional command-line
# client (``httpx._main``: rich, click, pygments, about 7 MB resident) whenever those happen to be
# installed. The gateway never runs that client, so it is kept out of the daemon's memory
# (docs/benchmarks.md, "Memory").
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
