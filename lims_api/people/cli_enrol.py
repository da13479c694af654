"""``python -m lims_api enrol-gateway``: enrol a gateway's public key straight into the database.

For the district IT person at the LIMS host: paste what ``kuaijian gateway pubkey`` printed
on the gateway (key and kid); no admin token or HTTP call is involved. Audited as ``admin:cli``.
"""

from __future__ import annotations

import argparse

from pydantic import ValidationError
from sqlalchemy.orm import Session

from lims_api.core.errors import SettingsError
from lims_api.core.existing_db import open_existing
from lims_api.core.models import utc_now
from lims_api.core.settings import LimsSettings

from .enrolment import enrol_gateway
from .schemas import EnrolRequest


def add_enrol_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the subcommand and its options."""
    command = commands.add_parser("enrol-gateway", help="enrol a gateway's public key (from `gateway pubkey`)")
    command.add_argument("--db")
    command.add_argument("--gateway", required=True, help="gateway id, as in its gateway.toml")
    command.add_argument("--site-id", required=True)
    command.add_argument("--site-kind", required=True, help="market | supermarket | school | canteen | station")
    command.add_argument("--site-name", required=True)
    command.add_argument("public_key", help="the public key printed by `kuaijian gateway pubkey`")
    command.add_argument("kid", nargs="?", help="the kid printed after it; checked against the key when given")


def _request(args: argparse.Namespace) -> EnrolRequest:
    try:
        return EnrolRequest(gateway=args.gateway, public_key=args.public_key,
                            site={"id": args.site_id, "kind": args.site_kind, "name": args.site_name})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SettingsError(f"{where}: {first['msg']} (got {first.get('input')!r})") from None


def run_enrol_command(settings: LimsSettings, args: argparse.Namespace) -> None:
    """Enrol (or confirm) the key; ``EnrolmentError`` names a conflict with what is stored."""
    request = _request(args)
    engine = open_existing(settings.resolved_database_url())
    try:
        with Session(engine) as session:
            key, created = enrol_gateway(session, request, utc_now(), actor="admin:cli")
            if args.kid is not None and args.kid != key.kid:
                raise SettingsError(f"kid {args.kid!r} does not belong to this public key (its kid is {key.kid}); "
                                       "copy both from one `kuaijian gateway pubkey` line")
            kid = key.kid
            session.commit()
    finally:
        engine.dispose()
    verb = "enrolled" if created else "already enrolled:"
    print(f"{verb} gateway {request.gateway} for site {request.site.id}, kid {kid}")
