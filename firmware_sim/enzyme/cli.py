"""``python -m firmware_sim enzyme``: serve a simulated EI-412 on a pty until signalled or done."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from ._faults import FAULT_KINDS
from ._runs import ChannelTruth
from .simulator import EnzymeSimulator

EXIT_UNACKED = 1
"""Exit status when ``--linger`` expired with results still unacknowledged."""


def _fault_list(text: str) -> list[str]:
    kinds = [kind.strip() for kind in text.split(",") if kind.strip()]
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown fault(s) {unknown}; choose from {','.join(FAULT_KINDS)}")
    return kinds


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be > 0")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m firmware_sim enzyme", description=__doc__)
    parser.add_argument("--link", help="create this symlink to the pty slave")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between runs (default 1.0)")
    parser.add_argument("--runs", type=int, default=0, help="runs to send, 0 = until signalled")
    parser.add_argument("--channels", type=int, default=4, choices=range(1, 13), metavar="1..12")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--fault-rate", type=float, default=0.0, help="per-frame fault probability")
    parser.add_argument("--faults", type=_fault_list, default=list(FAULT_KINDS), help=",".join(FAULT_KINDS))
    ack = parser.add_mutually_exclusive_group()
    ack.add_argument("--ack", dest="ack", action="store_true", default=True, help="ack mode (default, doc §10)")
    ack.add_argument("--no-ack", dest="ack", action="store_false", help="legacy mode: ignore the host")
    parser.add_argument("--ack-timeout", type=_positive, default=5.0, metavar="SEC", help="default 5")
    parser.add_argument("--replay-every", type=int, default=0, metavar="N",
                        help="every N-th run repeats the previous run's readings on channel 1 (a replay fraud)")
    parser.add_argument("--truth", type=Path, help="append one JSON line per new channel result to this file")
    parser.add_argument(
        "--linger", type=_positive, default=None, metavar="SEC",
        help=f"with --runs: wait at most SEC for the host to ack everything (default: no limit); "
        f"exit {EXIT_UNACKED} if it did not",
    )
    parser.add_argument("--hold", action="store_true",
                        help="with --runs: keep the port open after the last run until signalled")
    return parser


class TruthLog:
    """``--truth``: appends each new channel result as one JSON line and flushes at once."""

    def __init__(self, path: Path | None) -> None:
        self._file = path.open("a", encoding="utf-8") if path is not None else None

    def __call__(self, truth: list[ChannelTruth]) -> None:
        if self._file is not None:
            self._file.writelines(json.dumps(item.record(), ensure_ascii=False) + "\n" for item in truth)
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def main(argv: list[str]) -> int:
    """Print ``READY <pty path>``, serve until SIGTERM/SIGINT or ``--runs`` are done and acked, print ``DONE``."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    sim = EnzymeSimulator(
        args.link, channels=args.channels, seed=args.seed, fault_rate=args.fault_rate, fault_kinds=args.faults,
        ack=args.ack, ack_timeout=args.ack_timeout, replay_every=args.replay_every,
    )

    def on_signal(signum: int, frame: FrameType | None) -> None:
        sim.stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    truth_log = TruthLog(args.truth)
    try:
        with sim:
            print(f"READY {sim.port}", flush=True)
            runs = sim.serve(args.interval, args.runs, truth_log)
            if args.ack and args.runs:
                sim.wait_until_acked(args.linger)
            while args.hold and args.runs and not sim.stopped:
                sim.wait_until(lambda: sim.stopped, 3600.0)
            unacked = sum(len(channels) for channels in sim.unacked().values())
            signalled = sim.stopped
    finally:
        truth_log.close()
    print(f"DONE {runs} run(s), {unacked} result(s) unacked", flush=True)
    return EXIT_UNACKED if unacked and not signalled else 0
