"""``python -m bench.baseline PORTS_FILE``: contender A, a bare pymodbus asyncio loop.

One ``AsyncModbusTcpClient`` per reader; each reads the ready-flag register (the driver's idle poll:
FC03, holding 101, one register, unit 1) then sleeps ``--interval`` s, like the driver, until SIGTERM.
By default every client starts at once, as the gateway starts its drivers; ``--spread`` spreads the
first polls evenly over one interval instead (one poll per event-loop wake-up: the costliest case).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

from pymodbus.client import AsyncModbusTcpClient


async def poll(host: str, port: int, address: int, interval_s: float, phase_s: float, stop: asyncio.Event) -> None:
    """Connect, wait ``phase_s``, then read one register every ``interval_s`` until ``stop``."""
    client = AsyncModbusTcpClient(host, port=port, timeout=1.0, retries=0)
    await client.connect()
    try:
        await asyncio.sleep(phase_s)
        while not stop.is_set():
            reply = await client.read_holding_registers(address, count=1, device_id=1)
            if reply.isError():
                raise RuntimeError(f"port {port}: Modbus exception {reply.exception_code}")
            await asyncio.sleep(interval_s)
    finally:
        client.close()


async def run(host: str, ports: list[int], address: int, interval_s: float, spread: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    step_s = interval_s / len(ports) if spread else 0.0
    tasks = [asyncio.create_task(poll(host, port, address, interval_s, index * step_s, stop))
             for index, port in enumerate(ports)]
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ports_file", type=Path, help='JSON {"host": ..., "ports": [...]}')
    parser.add_argument("--address", type=int, default=101, help="ready-flag register (GR-100: 101)")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--spread", action="store_true", help="spread the first polls over one interval")
    args = parser.parse_args()
    fleet = json.loads(args.ports_file.read_text("utf-8"))
    asyncio.run(run(fleet["host"], fleet["ports"], args.address, args.interval, args.spread))


if __name__ == "__main__":
    main()
