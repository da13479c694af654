"""Command line: ``python -m lims_api serve | init-db | export | mqtt-bridge``. The only place settings are read."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

from lims_api.audit.cli_checkpoint import add_checkpoint_command, run_checkpoint_command
from lims_api.core.db import make_engine
from lims_api.core.errors import LimsError
from lims_api.core.settings import LimsSettings
from lims_api.ingest.mqtt_bridge import add_bridge_command, run_bridge_command


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lims_api", description="kuaijian LIMS service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate the database, then serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument("--db", help="database URL (default: KUAIJIAN_LIMS_DATABASE_URL or SQLite in data dir)")
    serve.add_argument("--admin-token", help="bearer token for admin routes (or KUAIJIAN_LIMS_ADMIN_TOKEN)")
    serve.add_argument("--data-dir", type=Path)
    init = commands.add_parser("init-db", help="create or upgrade the schema (alembic upgrade head)")
    init.add_argument("--db")
    export = commands.add_parser("export", help="write an audit bundle (contract §3)")
    export.add_argument("--db")
    export.add_argument("--out", type=Path, required=True, help="bundle directory (or DIR.tar.gz with --tar)")
    export.add_argument("--from", dest="date_from", type=_date, help="first local test date, YYYY-MM-DD")
    export.add_argument("--to", dest="date_to", type=_date, help="last local test date, YYYY-MM-DD")
    export.add_argument("--site", help="only this site id")
    export.add_argument("--tar", action="store_true", help="write DIR.tar.gz instead of DIR")
    add_bridge_command(commands)
    add_checkpoint_command(commands)
    return parser


def _settings(args: argparse.Namespace) -> LimsSettings:
    overrides: dict[str, Any] = {
        "database_url": args.db,
        "admin_token": getattr(args, "admin_token", None),
        "data_dir": getattr(args, "data_dir", None),
    }
    return LimsSettings(**{k: v for k, v in overrides.items() if v is not None})


def _serve(settings: LimsSettings, host: str, port: int) -> None:
    import uvicorn

    from lims_api.audit.signing_key import load_or_create_key
    from lims_api.core.migrate import init_db
    from .app import create_app

    init_db(settings.resolved_database_url())
    load_or_create_key(settings.data_dir)  # the checkpoint signing key exists from the first start
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def _export(settings: LimsSettings, args: argparse.Namespace) -> None:
    from lims_api.audit.export import export_bundle

    engine = make_engine(settings.resolved_database_url())
    try:
        count = export_bundle(engine, args.out, args.date_from, args.date_to, args.site, as_tar=args.tar)
    finally:
        engine.dispose()
    target = f"{args.out}.tar.gz" if args.tar else str(args.out)
    print(f"exported {count} envelope(s) to {target}")


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        if args.command == "serve":
            _serve(settings, args.host, args.port)
        elif args.command == "init-db":
            from lims_api.core.migrate import init_db

            init_db(settings.resolved_database_url())
            print("database is at the newest schema")
        elif args.command == "checkpoint":
            run_checkpoint_command(settings, args)
        elif args.command == "mqtt-bridge":
            run_bridge_command(settings, args)
        else:
            _export(settings, args)
    except LimsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
