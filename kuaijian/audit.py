"""``kuaijian audit``: read an export bundle (directory or .tar.gz, never unpacked to disk) and verify it offline.

envelopes.jsonl is read as a stream, line by line; the bundle's other files are read whole.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from protocols.bundle import BundleVerifier, Report
from protocols.bundle_evidence import EVIDENCE_DIR
from protocols.bundle_stream import stream_lines

from .audit_jobs import line_checker
from .audit_progress import counted

REQUIRED = ("manifest.json", "keys.json", "envelopes.jsonl")
ENVELOPES = "envelopes.jsonl"


class BundleReadError(Exception):
    """The bundle cannot be read at all (missing path or file, unreadable archive)."""


@contextmanager
def open_bundle(path: Path) -> Iterator[tuple[dict[str, bytes], IO[bytes], int]]:
    """The bundle's files by name except envelopes.jsonl (``evidence/<name>`` for the images), envelopes.jsonl
    as an open binary stream, and its size in bytes; from a directory or a .tar.gz read in place."""
    if path.is_dir():
        files = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file() and p.name != ENVELOPES}
        images = path / EVIDENCE_DIR
        if images.is_dir():
            files.update({EVIDENCE_DIR + p.name: p.read_bytes() for p in images.iterdir() if p.is_file()})
        _check_required(path, set(files) | ({ENVELOPES} if (path / ENVELOPES).is_file() else set()))
        with (path / ENVELOPES).open("rb") as stream:
            yield files, stream, (path / ENVELOPES).stat().st_size
    elif path.is_file():
        try:
            with tarfile.open(path, "r:*") as archive:
                members = {_member_name(Path(m.name)): m for m in archive.getmembers() if m.isfile()}
                _check_required(path, set(members))
                files = {name: _read(archive, m) for name, m in members.items() if name != ENVELOPES}
                yield files, _open(archive, members[ENVELOPES]), members[ENVELOPES].size
        except (tarfile.TarError, zlib.error, EOFError) as exc:
            raise BundleReadError(f"{path}: not a readable .tar.gz bundle ({exc})") from exc
    else:
        raise BundleReadError(f"{path}: no such bundle directory or archive")


def _open(archive: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    handle = archive.extractfile(member)
    assert handle is not None  # a regular file member
    return handle


def _read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    return _open(archive, member).read()


def _check_required(path: Path, names: set[str]) -> None:
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise BundleReadError(f"{path}: missing {', '.join(missing)}")


def read_bundle_files(path: Path) -> dict[str, bytes]:
    """Return the bundle's files by name (``evidence/<name>`` for the images), from a directory or a .tar.gz."""
    with open_bundle(path) as (files, stream, _):
        return {**files, ENVELOPES: stream.read()}


def _member_name(member: Path) -> str:
    """An archive member's bundle name: its file name, kept under ``evidence/`` for the images."""
    return EVIDENCE_DIR + member.name if member.parent.name == EVIDENCE_DIR.rstrip("/") else member.name


def verify_path(path: Path, evidence: list[Path] | None = None, *, jobs: int = 1,
                progress: Callable[[int], Callable[[int], None]] | None = None) -> Report:
    """Verify the bundle at ``path`` and the ``evidence`` image files given beside it (each against the hash
    it is named by), checking signatures in ``jobs`` processes; ``progress(total_bytes)`` may return an
    ``advance(bytes)`` callback. Raises BundleReadError when something cannot be read."""
    extra = {}
    for image in evidence or []:
        try:
            extra[str(image)] = image.read_bytes()
        except OSError as exc:
            raise BundleReadError(f"{image}: cannot read evidence file ({exc.strerror})") from exc
    with open_bundle(path) as (files, stream, size):
        verifier = BundleVerifier(files["manifest.json"], files["keys.json"])
        with line_checker(verifier.keys, jobs) as check_all:  # the workers start before the progress bar
            lines = stream_lines(stream)
            if progress is not None:
                lines = counted(lines, progress(size))
            for check in check_all(lines):
                verifier.feed(check)
    return verifier.finish(files.get("checkpoints.jsonl"), files, extra)
