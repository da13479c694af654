"""``kuaijian audit``: read an export bundle (directory or .tar.gz) and verify it offline."""

from __future__ import annotations

import tarfile
from pathlib import Path

from protocols.bundle import Report, verify_bundle
from protocols.bundle_evidence import EVIDENCE_DIR

REQUIRED = ("manifest.json", "keys.json", "envelopes.jsonl")


class BundleReadError(Exception):
    """The bundle cannot be read at all (missing path or file, unreadable archive)."""


def read_bundle_files(path: Path) -> dict[str, bytes]:
    """Return the bundle's files by name (``evidence/<name>`` for the images), from a directory or a .tar.gz."""
    if path.is_dir():
        files = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
        images = path / EVIDENCE_DIR
        if images.is_dir():
            files.update({EVIDENCE_DIR + p.name: p.read_bytes() for p in images.iterdir() if p.is_file()})
    elif path.is_file():
        try:
            with tarfile.open(path, "r:*") as archive:
                files = {
                    _member_name(Path(m.name)): archive.extractfile(m).read()  # type: ignore[union-attr]
                    for m in archive.getmembers()
                    if m.isfile()
                }
        except tarfile.TarError as exc:
            raise BundleReadError(f"{path}: not a readable .tar.gz bundle ({exc})") from exc
    else:
        raise BundleReadError(f"{path}: no such bundle directory or archive")
    missing = [name for name in REQUIRED if name not in files]
    if missing:
        raise BundleReadError(f"{path}: missing {', '.join(missing)}")
    return files


def _member_name(member: Path) -> str:
    """An archive member's bundle name: its file name, kept under ``evidence/`` for the images."""
    return EVIDENCE_DIR + member.name if member.parent.name == EVIDENCE_DIR.rstrip("/") else member.name


def verify_path(path: Path, evidence: list[Path] | None = None) -> Report:
    """Verify the bundle at ``path`` and the ``evidence`` image files given beside it (each against the hash
    it is named by); raises BundleReadError when something cannot be read."""
    files = read_bundle_files(path)
    extra = {}
    for image in evidence or []:
        try:
            extra[str(image)] = image.read_bytes()
        except OSError as exc:
            raise BundleReadError(f"{image}: cannot read evidence file ({exc.strerror})") from exc
    return verify_bundle(
        files["manifest.json"], files["keys.json"], files["envelopes.jsonl"], files.get("checkpoints.jsonl"), files,
        extra,
    )
