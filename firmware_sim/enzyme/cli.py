"""``python -m firmware_sim enzyme``: serve a simulated EI-412 on a pty until signalled or done."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from ._faults import FAULT_KINDS
from .simulator import EnzymeSimulator


def _fault_list(text: str) -> list[str]:
    kinds = [kind.strip() for kind in text.split(",") if kind.strip()]
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown fault(s) {unknown}; choose from {','.join(FAULT_KINDS)}")
    return kinds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m firmware_sim enzyme", description=__doc__)
    parser.add_argument("--link", help="create this symlink to the pty slave")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between runs (default 1.0)")
    parser.add_argument("--runs", type=int, default=0, help="runs to send, 0 = until signalled")
    parser.add_argument("--channels", type=int, default=4, choices=range(1, 13), metavar="1..12")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--fault-rate", type=float, default=0.0, help="per-frame fault probability")
    parser.add_argument("--faults", type=_fault_list, default=list(FAULT_KINDS), help=",".join(FAULT_KINDS))
    return parser


def main(argv: list[str]) -> int:
    """Print ``READY <pty path>``, then serve runs until SIGTERM/SIGINT or ``--runs`` are done."""
    args = _parser().parse_args(argv)
    sim = EnzymeSimulator(
        args.link, channels=args.channels, seed=args.seed, fault_rate=args.fault_rate, fault_kinds=args.faults
    )

    def on_signal(signum: int, frame: FrameType | None) -> None:
        sim.stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    with sim:
        print(f"READY {sim.port}", flush=True)
        runs = sim.serve(args.interval, args.runs)
    print(f"DONE {runs} run(s)", file=sys.stderr, flush=True)
    return 0
