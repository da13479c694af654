"""``python -m firmware_sim line``: serve a profile-described line instrument on a pty until signalled or done."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from ._faults import FAULT_KINDS
from ._plan import LineTruth
from ._spec import LineSpecError, load_spec, profile_text
from .simulator import LineSimulator


def _fault_list(text: str) -> list[str]:
    kinds = [kind.strip() for kind in text.split(",") if kind.strip()]
    if unknown := sorted(set(kinds) - set(FAULT_KINDS)):
        raise argparse.ArgumentTypeError(f"unknown fault(s) {unknown}; choose from {','.join(FAULT_KINDS)}")
    return kinds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m firmware_sim line", description=__doc__)
    parser.add_argument("--profile", required=True, help="built-in line profile name or path to a .toml")
    parser.add_argument("--link", help="create this symlink to the pty slave")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between readings (default 1.0)")
    parser.add_argument("--results", type=int, default=0, help="readings to send, 0 = until signalled")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--faults", type=_fault_list, default=list(FAULT_KINDS), help=",".join(FAULT_KINDS))
    parser.add_argument("--fault-rate", type=float, default=0.0, help="per-line fault probability")
    parser.add_argument("--truth", action="store_true", help="print one JSON line per reading written")
    return parser


def _print_truth(truth: LineTruth) -> None:
    record = {"serial": truth.serial, "tested_at": truth.tested_at.isoformat() if truth.tested_at else None,
              "channel": truth.channel, "sample_code": truth.sample_code, "value": truth.value,
              "cutoff": truth.cutoff, "verdict": truth.verdict, "delivered": truth.delivered}
    print("TRUTH " + json.dumps(record, ensure_ascii=False), flush=True)


def main(argv: list[str]) -> int:
    """Print ``READY <pty path>``, serve until SIGTERM/SIGINT or ``--results`` are written, print ``DONE``."""
    args = _parser().parse_args(argv)
    try:
        spec = load_spec(*profile_text(args.profile))
    except LineSpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sim = LineSimulator(spec, args.link, seed=args.seed, fault_rate=args.fault_rate, fault_kinds=args.faults)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        sim.stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    with sim:
        print(f"READY {sim.port}", flush=True)
        written = sim.serve(args.interval, args.results, _print_truth if args.truth else None)
    print(f"DONE {written} reading(s)", flush=True)
    return 0
