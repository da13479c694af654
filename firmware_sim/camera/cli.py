"""``python -m firmware_sim camera [--port P] [--fault F]``: run a simulated snapshot camera until stopped."""

from __future__ import annotations

import argparse
import signal
import threading

from .server import FAULTS, CameraServer


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="firmware_sim camera", description="Simulated HTTP snapshot camera.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fault", choices=FAULTS, default=None)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with CameraServer(args.host, args.port, fault=args.fault) as camera:
        print(f"READY {camera.url}", flush=True)
        stop.wait()
    return 0
