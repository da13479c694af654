"""Everything ``gateway run`` would refuse, found without running: ``kuaijian gateway check-config``.

Errors (``run`` would exit 1): key file (present, mode 0600, Ed25519), outbox (not another
gateway's), each enabled instrument's options and profile. Warnings (``run`` starts, but that
instrument stays offline until it appears): a serial device that is not present now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from protocols.modbus_profile import ProfileError

from .config import GatewayConfig, issue_at
from .errors import GatewayError
from .instruments import build_driver
from .keys import load_private_key
from .outbox import read_owner


def _gateway_issues(config: GatewayConfig, source: Path) -> list[str]:
    """Key file and outbox problems as ``FILE:LINE: key: why`` lines."""
    issues = []
    try:
        load_private_key(config.gateway.key_file)
    except GatewayError as exc:
        issues.append(issue_at(source, ("gateway", "key_file"), str(exc)))
    try:
        owner = read_owner(config.gateway.outbox)
    except GatewayError as exc:
        issues.append(issue_at(source, ("gateway", "outbox"), str(exc)))
    else:
        if owner is not None and owner != config.gateway.id:
            issues.append(issue_at(source, ("gateway", "outbox"),
                                   f"{config.gateway.outbox}: outbox belongs to gateway {owner!r}, "
                                   f"not {config.gateway.id!r}"))
    return issues


@dataclass
class Preflight:
    """What ``check-config`` found: ``errors`` stop ``run``; ``warnings`` keep an instrument offline."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _profile_error(exc: BaseException) -> ProfileError | None:
    """The profile error behind a driver's refusal, if a profile file was the cause."""
    cause = exc.__cause__
    while cause is not None and not isinstance(cause, ProfileError):
        cause = cause.__cause__
    return cause


def _check_instruments(config: GatewayConfig, source: Path, clock: Callable[[], datetime], found: Preflight) -> None:
    """Each enabled instrument whose options are rejected (error) or whose serial device is absent (warning).

    A bad profile file's problems are listed once, with the first instrument that uses it; later
    instruments using it say so in one line.
    """
    listed: set[str] = set()
    for index, instrument in enumerate(config.instruments):
        if not instrument.enabled:
            continue
        loc = ("instruments", index, "options")
        try:
            driver = build_driver(config, instrument, clock)
        except GatewayError as exc:
            profile = _profile_error(exc)
            if profile is not None and profile.source in listed:
                found.errors.append(issue_at(source, (*loc, "profile"), f"instrument {instrument.id!r}: profile "
                                             f"{profile.source} is invalid ({len(profile.problems)} problem(s) "
                                             "listed above)"))
                continue
            if profile is not None:
                listed.add(profile.source)
            found.errors.append(issue_at(source, loc, str(exc)))
            continue
        device = driver.serial_device
        if device is not None and not Path(device).exists():
            found.warnings.append(issue_at(
                source, (*loc, "port"), f"instrument {instrument.id!r}: serial device {device} does not exist "
                "(adapter unplugged, or the udev rule does not match; see docs/operations.md)"))


def preflight(config: GatewayConfig, source: Path, clock: Callable[[], datetime]) -> Preflight:
    """Every problem that would stop ``run`` or keep an instrument from being read, in file order."""
    found = Preflight(errors=_gateway_issues(config, source))
    _check_instruments(config, source, clock, found)
    return found
