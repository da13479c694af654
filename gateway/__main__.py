"""``python -m gateway run --config PATH``: the daemon alone, without the CLI's typer and rich.

``kuaijian gateway run`` validates the config, then replaces itself (same PID) with this entry,
so a running daemon never carries the command-line tooling (about 7 MB resident; see
docs/benchmarks.md).
"""

from __future__ import annotations

import signal

# Stop signals are held (not lost) until the daemon's event loop handles them: a stop during start-up
# is a clean stop (exit 0) once the daemon is up, never a kill half-way through opening the outbox.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})

import argparse  # noqa: E402 (after blocking the stop signals, on purpose)
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from .config import load_config  # noqa: E402
from .daemon import serve  # noqa: E402
from .errors import ConfigError, GatewayError  # noqa: E402
from .logging_setup import setup_json_logging  # noqa: E402


def run_daemon(config_path: Path) -> int:
    """Load ``config_path``, log JSON to stderr and serve until SIGTERM/SIGINT; the exit code."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    setup_json_logging()
    try:
        serve(config)
    except GatewayError as exc:
        logging.getLogger("gateway").error("gateway cannot run: %s", exc)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``run --config PATH`` and run the daemon."""
    parser = argparse.ArgumentParser(prog="python -m gateway", description="Run the test-room gateway daemon.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the daemon until SIGTERM/SIGINT")
    run.add_argument("--config", "-c", type=Path, required=True, help="path of gateway.toml")
    args = parser.parse_args(argv)
    return run_daemon(args.config)


if __name__ == "__main__":
    raise SystemExit(main())
