"""Command line: ``python -m lims_api serve | init-db | export | checkpoint | enrol-gateway | mqtt-bridge``.

The only place settings are read. Secrets never come from argv (visible to every user in ``ps``):
the admin token comes from ``KUAIJIAN_LIMS_ADMIN_TOKEN`` or a file (``--admin-token-file``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from lims_api.audit.cli_checkpoint import add_checkpoint_command, run_checkpoint_command, run_tree_head_command
from lims_api.core.errors import LimsError, SettingsError
from lims_api.core.existing_db import database_url, open_existing
from lims_api.core.settings import LimsSettings
from lims_api.core.token_file import with_admin_token_file
from lims_api.ingest.mqtt_bridge import add_bridge_command, run_bridge_command
from lims_api.people.cli_enrol import add_enrol_command, run_enrol_command

CREATES_DATABASE = {"serve", "init-db", "mqtt-bridge"}
"""Commands that may create the default SQLite database; the others read an existing one."""


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
    serve.add_argument("--db", help="database URL or SQLite file (default: KUAIJIAN_LIMS_DATABASE_URL or data dir)")
    serve.add_argument("--admin-token-file", type=Path,
                       help="file (mode 0600) holding the admin bearer token (or KUAIJIAN_LIMS_ADMIN_TOKEN[_FILE])")
    serve.add_argument("--admin-token", dest="admin_token_argv", help=argparse.SUPPRESS)
    serve.add_argument("--data-dir", type=Path)
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes sharing the port (default 1); use PostgreSQL for more than one")
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
    add_enrol_command(commands)
    return parser


def _settings(args: argparse.Namespace) -> LimsSettings:
    if getattr(args, "admin_token_argv", None) is not None:
        raise SettingsError("--admin-token on the command line is visible to every user (ps); put the token in "
                               "a mode-0600 file and pass --admin-token-file, or set KUAIJIAN_LIMS_ADMIN_TOKEN")
    overrides: dict[str, Any] = {
        "database_url": database_url(args.db) if args.db else None,
        "admin_token_file": getattr(args, "admin_token_file", None),
        "data_dir": getattr(args, "data_dir", None),
    }
    return with_admin_token_file(LimsSettings(**{k: v for k, v in overrides.items() if v is not None}))


def uvicorn_options(settings: LimsSettings) -> dict[str, Any]:
    """Proxy handling: ``X-Forwarded-For``/``-Proto`` are believed only from ``trusted_proxies``, else ignored."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(settings.trusted_proxies)}


def _serve(settings: LimsSettings, host: str, port: int, workers: int = 1) -> None:
    """Migrate once, then serve; with ``workers`` > 1 uvicorn starts that many processes of ``asgi.factory``."""
    import uvicorn

    from lims_api.audit.signing_key import load_or_create_key
    from lims_api.core.migrate import init_db
    from .app import create_app

    init_db(settings.resolved_database_url())
    load_or_create_key(settings.data_dir)  # the checkpoint signing key exists from the first start
    if workers <= 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info", **uvicorn_options(settings))
        return
    os.environ.update(worker_environment(settings))  # each worker builds its app from these (lims_api.asgi)
    uvicorn.run("lims_api.asgi:factory", factory=True, host=host, port=port, workers=workers, log_level="info",
                **uvicorn_options(settings))


def worker_environment(settings: LimsSettings) -> dict[str, str]:
    """``KUAIJIAN_LIMS_*`` variables from which ``asgi.factory`` rebuilds ``settings`` in a worker process."""
    env = {"KUAIJIAN_LIMS_DATABASE_URL": settings.resolved_database_url(),
           "KUAIJIAN_LIMS_DATA_DIR": str(settings.data_dir.resolve())}
    if settings.admin_token_file is not None:
        env["KUAIJIAN_LIMS_ADMIN_TOKEN_FILE"] = str(settings.admin_token_file.resolve())
    elif settings.admin_token is not None:
        env["KUAIJIAN_LIMS_ADMIN_TOKEN"] = settings.admin_token.get_secret_value()
    return env


def _export(settings: LimsSettings, args: argparse.Namespace) -> None:
    from lims_api.audit.export import export_bundle

    engine = open_existing(settings.resolved_database_url())
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
    try:
        settings = _settings(args)
        if settings.database_url is None and args.command in CREATES_DATABASE:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        if args.command == "serve":
            _serve(settings, args.host, args.port, args.workers)
        elif args.command == "init-db":
            from lims_api.core.migrate import init_db

            init_db(settings.resolved_database_url())
            print("database is at the newest schema")
        elif args.command == "checkpoint":
            run_checkpoint_command(settings, args)
        elif args.command == "tree-head":
            run_tree_head_command(settings)
        elif args.command == "mqtt-bridge":
            run_bridge_command(settings, args)
        elif args.command == "enrol-gateway":
            run_enrol_command(settings, args)
        else:
            _export(settings, args)
    except LimsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
