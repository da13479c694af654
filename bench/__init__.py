"""``make bench``: the gateway's polling cost against a bare pymodbus loop (see docs/benchmarks.md)."""
