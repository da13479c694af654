"""``python bench/jcs.py``: CPU per envelope of ``rfc8785.dumps`` against ``protocols.jcs.dumps``, in one run.

Both serialize the same envelopes (``bench/envelopes.py``: the test vector's result with a fresh id and
a real EI-412 frame, signed, parsed back with ``json.loads``); rounds alternate the two, each figure is
the median round's ``time.process_time`` per envelope. The bytes are checked equal first.
docs/benchmarks.md gives the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rfc8785  # noqa: E402

from bench.envelopes import Chain  # noqa: E402
from protocols import jcs  # noqa: E402

Dumps = Callable[[Any], bytes]
CONTENDERS: dict[str, Dumps] = {"rfc8785.dumps": rfc8785.dumps, "protocols.jcs.dumps": jcs.dumps}


def _per_envelope(dumps: Dumps, envelopes: list[dict[str, Any]]) -> float:
    """CPU seconds of one pass of ``dumps`` over ``envelopes``, per envelope."""
    start = time.process_time()
    for envelope in envelopes:
        dumps(envelope)
    return (time.process_time() - start) / len(envelopes)


def measure(count: int, rounds: int) -> dict[str, float]:
    """Median µs CPU per envelope of each contender over ``count`` envelopes and ``rounds`` rounds."""
    envelopes = [json.loads(line) for line in Chain("gw-bench-jcs").lines(count)]
    assert all(jcs.dumps(e) == rfc8785.dumps(e) for e in envelopes), "protocols.jcs differs from rfc8785"
    times: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    for _ in range(rounds):
        for name, dumps in CONTENDERS.items():
            times[name].append(_per_envelope(dumps, envelopes))
    return {name: statistics.median(values) * 1e6 for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envelopes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    figures = measure(args.envelopes, args.rounds)
    reference = figures["rfc8785.dumps"]
    print(f"JCS of {args.envelopes} envelopes, median of {args.rounds} rounds (µs CPU per envelope):")
    for name, micros in figures.items():
        print(f"  {name:<20} {micros:8.1f}  ratio {micros / reference:.2f}")
    print(f"  speed-up {reference / figures['protocols.jcs.dumps']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
