"""Technicians signed in at the room page, and how the signed-in one is bound into each result.

The roster (the site's enrolled technicians) comes from the LIMS (``gateway.roster_sync``) and is
cached on disk, so sign-in works while the LIMS is unreachable. A technician signs in with a badge
(barcode, compared by SHA-256) or their PIN (an argon2id hash made by the LIMS); results carry only
the technician's pseudonymous id, never a name. Idle sign-out: no page action for ``idle_s``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta
from msgspec.structs import replace

from protocols._validation import Invalid, from_json, to_builtins
from protocols.privacy import PSEUDONYMOUS_ID
from protocols.result import TestResult

if TYPE_CHECKING:
    from argon2 import PasswordHasher

log = logging.getLogger("gateway.technicians")

NOT_SIGNED_IN_FLAG = "operator_not_signed_in"
"""qc flag of a result committed while no technician was signed in at the room page."""
PIN_ATTEMPTS, PIN_LOCK_S = 5, 60.0
"""After this many wrong PINs in a row a technician's PIN sign-in is locked for ``PIN_LOCK_S`` seconds."""

PseudonymousId = Annotated[str, Meta(pattern=PSEUDONYMOUS_ID.pattern)]


class Technician(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One enrolled technician of the site as the LIMS sends it: pseudonymous id, display name, hashes."""

    id: PseudonymousId
    """What results carry as ``operator``: opaque, assigned by the LIMS, no name in it."""
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    """Shown on the room page only; never written into a result."""
    pin_hash: str | None = None
    """argon2id hash of the PIN (``$argon2id$...``)."""
    badge_sha256: Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")] | None = None


class Roster(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The site's technicians at ``issued_at`` (LIMS clock)."""

    site: str
    issued_at: str
    technicians: list[Technician] = msgspec.field(default_factory=list)

    @classmethod
    def from_json(cls, text: str | bytes) -> Roster:
        """A roster from its JSON form; ``Invalid`` says what is wrong."""
        return from_json(text, cls)

    def by_id(self, technician_id: str) -> Technician | None:
        return next((t for t in self.technicians if t.id == technician_id), None)

    def by_badge(self, code: str) -> Technician | None:
        digest = badge_digest(code)
        return next((t for t in self.technicians if t.badge_sha256 == digest), None)


def badge_digest(code: str) -> str:
    """SHA-256 (hex) of a badge code as scanned, surrounding blanks removed."""
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


class RosterError(Exception):
    """The cached roster file cannot be read; the message names the file and why."""


def load_roster(path: Path) -> Roster | None:
    """The cached roster, or None when there is none yet; a damaged file raises ``RosterError``."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RosterError(f"{path}: cannot read the technician roster: {exc}") from exc
    try:
        return Roster.from_json(text)
    except Invalid as exc:
        raise RosterError(f"{path}: not a technician roster: {exc}") from exc


def save_roster(path: Path, roster: Roster) -> None:
    """Write the roster atomically (temporary file, fsync, rename): a crash leaves the old or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps(to_builtins(roster), ensure_ascii=False, indent=1))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    os.chmod(path, 0o600)


@functools.cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher  # at the first PIN sign-in: an idle daemon never loads argon2

    return PasswordHasher()


def _pin_matches(pin_hash: str, pin: str) -> bool:
    """Whether ``pin`` matches the argon2id ``pin_hash`` (False for a malformed hash too)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        _hasher().verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False
    return True


@dataclass
class SignIn:
    """Who is signed in at the room page; one technician at a time. Use from the daemon's loop only."""

    roster: Roster | None
    idle_s: float
    clock: Callable[[], float] = time.monotonic
    _current: Technician | None = None
    _last_action: float = 0.0
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)

    def current(self) -> Technician | None:
        """The signed-in technician, or None (nobody, or signed out for being idle)."""
        if self._current is not None and self.clock() - self._last_action > self.idle_s:
            log.info("technician signed out after being idle", extra={"technician": self._current.id,
                                                                      "idle_s": self.idle_s})
            self._current = None
        return self._current

    def touch(self) -> None:
        """A page action by the signed-in technician: the idle timer starts again."""
        if self.current() is not None:
            self._last_action = self.clock()

    def with_badge(self, code: str) -> Technician | None:
        """Sign in the technician whose badge this is; None when no enrolled badge matches."""
        found = self.roster.by_badge(code) if self.roster is not None and code.strip() else None
        return self._signed_in(found, "badge")

    def with_pin(self, technician_id: str, pin: str) -> Technician | None:
        """Sign in ``technician_id`` if ``pin`` matches their hash; None otherwise (or while locked)."""
        found = self.roster.by_id(technician_id) if self.roster is not None else None
        if found is None or found.pin_hash is None or self._locked(found.id):
            return self._signed_in(None, "pin")
        if not _pin_matches(found.pin_hash, pin):
            count, _ = self._failures.get(found.id, (0, 0.0))
            self._failures[found.id] = (count + 1, self.clock())
            return self._signed_in(None, "pin")
        self._failures.pop(found.id, None)
        return self._signed_in(found, "pin")

    def sign_out(self) -> Technician | None:
        """Sign out whoever is signed in; returns who that was."""
        who, self._current = self._current, None
        if who is not None:
            log.info("technician signed out", extra={"technician": who.id})
        return who

    def replace_roster(self, roster: Roster) -> None:
        """A newer roster; a signed-in technician no longer on it is signed out."""
        self.roster = roster
        if self._current is not None and roster.by_id(self._current.id) is None:
            log.info("technician no longer enrolled; signed out", extra={"technician": self._current.id})
            self._current = None

    def bind(self, result: TestResult) -> TestResult:
        """``result`` with the signed-in technician as ``operator``, or flagged ``operator_not_signed_in``."""
        who = self.current()
        if who is not None:
            return replace(result, operator=who.id)
        if NOT_SIGNED_IN_FLAG in result.qc.flags:
            return result
        return replace(result, qc=replace(result.qc, flags=[*result.qc.flags, NOT_SIGNED_IN_FLAG]))

    def _locked(self, technician_id: str) -> bool:
        count, since = self._failures.get(technician_id, (0, 0.0))
        if count >= PIN_ATTEMPTS and self.clock() - since < PIN_LOCK_S:
            return True
        if count >= PIN_ATTEMPTS:
            self._failures.pop(technician_id, None)
        return False

    def _signed_in(self, found: Technician | None, how: str) -> Technician | None:
        if found is None:
            log.warning("technician sign-in refused", extra={"method": how})
            return None
        self._current, self._last_action = found, self.clock()
        log.info("technician signed in", extra={"technician": found.id, "method": how})
        return found
