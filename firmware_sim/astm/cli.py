"""``python -m firmware_sim astm --link PATH ...``: a simulated FS-Q8 on a pty until SIGTERM/SIGINT.

``--tcp HOST:PORT`` puts it behind a simulated serial server instead: it listens there and talks to
the host that connects (one at a time; a host that hangs up may connect again).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from .faults import FAULTS, parse_faults
from .instrument import OVERSIZE_BYTES, AstmInstrument, Timings
from .measurements import ITEMS, SimItem
from .pty_link import open_pty_link
from .tcp_link import TcpLink


def _items(text: str) -> list[SimItem]:
    codes = [code.strip().upper() for code in text.split(",") if code.strip()]
    unknown = [code for code in codes if code not in ITEMS]
    if unknown or not codes:
        raise argparse.ArgumentTypeError(f"unknown item(s) {unknown}; known: {', '.join(ITEMS)}")
    return [ITEMS[code] for code in codes]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive integer: {text!r}")
    return value


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"not HOST:PORT: {text!r}")
    return host, int(port)


def _faults(text: str) -> tuple[str, ...]:
    try:
        return parse_faults(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The simulator's command line."""
    parser = argparse.ArgumentParser(prog="firmware_sim astm", description=__doc__)
    parser.add_argument("--link", help="create this symlink to the pty the host should open")
    parser.add_argument("--tcp", type=_address, help="listen on HOST:PORT like a serial server (PORT 0: any)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between messages")
    parser.add_argument("--messages", type=int, default=0, help="messages to deliver (0 = forever)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--faults", type=_faults, default=(), help=f"comma list of {','.join(FAULTS)}")
    parser.add_argument("--fault-rate", type=float, default=0.1, help="share of messages with a fault")
    parser.add_argument("--items", type=_items, default=list(ITEMS.values()), help="e.g. NO2,HCHO,SO2,BORAX")
    parser.add_argument("--reply-timeout", type=float, default=15.0, help="E1381 reply timer (s)")
    parser.add_argument("--busy-wait", type=float, default=10.0, help="wait after NAK to ENQ (s)")
    parser.add_argument("--oversize-bytes", type=_positive, default=OVERSIZE_BYTES,
                        help="padding of an 'oversize' fault message (bytes)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Open the pty, print ``READY <pty path>``, serve until SIGTERM/SIGINT."""
    args = build_parser().parse_args(argv)
    if args.tcp is not None:
        return _serve_tcp(args)
    link = open_pty_link(args.link)
    timings = Timings(reply_timeout_s=args.reply_timeout, busy_wait_s=args.busy_wait, interval_s=args.interval)
    instrument = AstmInstrument(link.master_fd, items=args.items, seed=args.seed, timings=timings,
                                faults=args.faults, fault_rate=args.fault_rate, messages=args.messages,
                                oversize_bytes=args.oversize_bytes)
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        instrument.stop.set()
        stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"READY {link.path}", flush=True)
    try:
        instrument.run()
        stopped.wait()  # --messages N done: keep the pty open until told to stop
    finally:
        link.close()
    print(f"delivered {len(instrument.stats.delivered)} messages", file=sys.stderr)
    return 0


def _serve_tcp(args: argparse.Namespace) -> int:
    """Listen on ``--tcp``, print ``READY tcp://HOST:PORT``, talk to each host that connects until stopped."""
    link = TcpLink(*args.tcp)
    timings = Timings(reply_timeout_s=args.reply_timeout, busy_wait_s=args.busy_wait, interval_s=args.interval)
    instrument = AstmInstrument(-1, items=args.items, seed=args.seed, timings=timings, faults=args.faults,
                                fault_rate=args.fault_rate, messages=args.messages, oversize_bytes=args.oversize_bytes)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        instrument.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    host, port = link.address
    print(f"READY tcp://{host}:{port}", flush=True)
    try:
        while not instrument.stop.is_set():
            try:
                instrument.fd = link.accept(timeout=0.5)
            except TimeoutError:
                continue
            try:
                instrument.run()
            except OSError as exc:  # the host hung up mid-transfer: wait for it to connect again
                print(f"host connection lost: {exc}", file=sys.stderr)
            else:
                instrument.stop.wait()
    finally:
        link.close()
    print(f"delivered {len(instrument.stats.delivered)} messages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
