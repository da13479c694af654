"""``python -m firmware_sim.gold.cli``: a simulated colloidal-gold strip reader over Modbus TCP or RTU."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from .faults import ALL_FAULTS
from .profile_data import SimProfileError, load
from .runner import SimConfig, build_instrument, produce_results, start_service


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host or "127.0.0.1", int(port)


def _faults(text: str) -> frozenset[str]:
    kinds = frozenset(k.strip() for k in text.split(",") if k.strip())
    if unknown := kinds - set(ALL_FAULTS):
        raise argparse.ArgumentTypeError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(ALL_FAULTS)}")
    return kinds


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="firmware_sim.gold", description=__doc__)
    p.add_argument("--profile", default="gr100", help="built-in profile name or path to a .toml profile")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp", type=_host_port, metavar="HOST:PORT", help="serve Modbus TCP (port 0 = any)")
    where.add_argument("--rtu-link", metavar="PATH", help="serve Modbus RTU on a pty linked at PATH")
    p.add_argument("--unit", type=int, default=1, help="Modbus unit (device) id")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between new results")
    p.add_argument("--results", type=int, default=0, help="how many results (0 = forever)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--serial", default=None, help="instrument serial number")
    p.add_argument("--first-sequence", type=int, default=1,
                   help="result counter of the first result (it wraps after the field's largest value)")
    p.add_argument("--faults", type=_faults, default=frozenset(), help=f"comma list of {', '.join(ALL_FAULTS)}")
    p.add_argument("--fault-rate", type=float, default=0.1, help="probability per reply of a fault")
    p.add_argument("--slow-s", type=float, default=2.0, help="delay of a 'slow' reply")
    p.add_argument("--clock-skew-s", type=float, default=3 * 3600.0, help="instrument clock offset with clock_skew")
    return p


async def _serve(config: SimConfig) -> None:
    instrument = build_instrument(config)
    server, address = await start_service(config, instrument)
    print(f"READY {address}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    producer = asyncio.create_task(produce_results(config, instrument))
    await stop.wait()
    producer.cancel()
    await server.shutdown()


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, serve until SIGTERM/SIGINT; 0 on a clean stop, 2 on bad arguments or profile."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    try:
        profile = load(args.profile)
    except SimProfileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = SimConfig(
        profile=profile, unit=args.unit, tcp=args.tcp, rtu_link=args.rtu_link, interval_s=args.interval,
        results=args.results, seed=args.seed, faults=args.faults, fault_rate=args.fault_rate,
        slow_s=args.slow_s, clock_skew_s=args.clock_skew_s, serial=args.serial, first_sequence=args.first_sequence,
    )
    asyncio.run(_serve(config))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
