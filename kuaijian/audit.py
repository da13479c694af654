"""``kuaijian audit``: read an export bundle (directory or .tar.gz) and verify it offline."""

from __future__ import annotations

import tarfile
from pathlib import Path

from protocols.bundle import Report, verify_bundle

REQUIRED = ("manifest.json", "keys.json", "envelopes.jsonl")


class BundleReadError(Exception):
    """The bundle cannot be read at all (missing path or file, unreadable archive)."""


def read_bundle_files(path: Path) -> dict[str, bytes]:
    """Return the bundle's files by name, from a directory or a .tar.gz archive."""
    if path.is_dir():
        files = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
    elif path.is_file():
        try:
            with tarfile.open(path, "r:*") as archive:
                files = {
                    Path(m.name).name: archive.extractfile(m).read()  # type: ignore[union-attr]
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


def verify_path(path: Path) -> Report:
    """Verify the bundle at ``path``; raises BundleReadError when it cannot be read."""
    files = read_bundle_files(path)
    return verify_bundle(
        files["manifest.json"], files["keys.json"], files["envelopes.jsonl"], files.get("checkpoints.jsonl"), files
    )
