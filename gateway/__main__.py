"""``python -m gateway run --config PATH``: the daemon alone, without the CLI's typer and rich.

``kuaijian gateway run`` validates the config, then replaces itself (same PID) with this entry,
so a running daemon never carries the command-line tooling (about 7 MB resident; see
docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .config import load_config
from .daemon import serve
from .errors import ConfigError, GatewayError
from .logging_setup import setup_json_logging


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
