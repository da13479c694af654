"""The evidence part of an audit bundle (optional files) and its check (pure).

- ``evidence.jsonl``: one line per evidence entry of an exported result,
  ``{"gateway","seq","kind","sha256","taken_at","media_type","file"}`` (``file``: the bundle's copy or null);
- ``evidence/<sha256>.<ext>``: the images themselves;
- ``flags.jsonl``: the plausibility flags the LIMS holds for exported results,
  ``{"gateway","seq","source","code","detail","computed_at"}``.

The envelope's own signed ``evidence`` member is the authority: every evidence line and every
image must be one an exported envelope names, and every image must hash to its name.
Images given from elsewhere (``kuaijian audit verify --evidence FILE``) are checked the same way.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Container
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bundle import Report

EVIDENCE_FILE = "evidence.jsonl"
FLAGS_FILE = "flags.jsonl"
EVIDENCE_DIR = "evidence/"
_NAME = re.compile(r"^([0-9a-f]{64})\.(png|jpg)$")


def check_image(name: str, data: bytes, named: dict[str, set[tuple[str, int]]], report: Report) -> None:
    """An image file must be called ``<sha256>.<png|jpg>``, hash to that name and be named by an envelope."""
    base = name.rsplit("/", 1)[-1]
    match = _NAME.match(base)
    if match is None:
        report.add("evidence", name, "an evidence file is named <sha256>.png or <sha256>.jpg")
        return
    digest = hashlib.sha256(data).hexdigest()
    if digest != match[1]:
        report.add("evidence", name, f"content hashes to {digest}, not to its name")
    elif digest not in named:
        report.add("evidence", name, "no exported envelope names this image")


def _lines(data: bytes, file: str, report: Report) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for number, line in enumerate((ln for ln in data.split(b"\n") if ln.strip()), start=1):
        where = f"{file} line {number}"
        try:
            doc = json.loads(line)
        except ValueError as exc:
            report.add("evidence" if file == EVIDENCE_FILE else "flags", where, f"not JSON ({exc})")
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("gateway"), str) or type(doc.get("seq")) is not int:
            report.add("evidence" if file == EVIDENCE_FILE else "flags", where, "needs gateway and seq")
            continue
        found.append((where, doc))
    return found


def verify_bundle_evidence(files: dict[str, bytes], named: dict[str, set[tuple[str, int]]],
                           exported: Container[tuple[Any, Any]], report: Report,
                           extra_images: dict[str, bytes] | None = None) -> int:
    """Check evidence.jsonl, flags.jsonl and every image given against ``named`` (sha256 -> envelopes naming
    it) and ``exported`` (every (gateway, seq) in envelopes.jsonl); returns the number of images checked."""
    if EVIDENCE_FILE in files:
        for where, doc in _lines(files[EVIDENCE_FILE], EVIDENCE_FILE, report):
            if (doc["gateway"], doc["seq"]) not in named.get(str(doc.get("sha256")), set()):
                report.add("evidence", where, f"{doc['gateway']} seq {doc['seq']} does not name {doc.get('sha256')}")
            file = doc.get("file")
            if file is not None and file not in files:
                report.add("evidence", where, f"{file} is not in the bundle")
    if FLAGS_FILE in files:
        for where, doc in _lines(files[FLAGS_FILE], FLAGS_FILE, report):
            if (doc["gateway"], doc["seq"]) not in exported:
                report.add("flags", where, f"{doc['gateway']} seq {doc['seq']} is not an exported envelope")
    images = {name: data for name, data in files.items() if name.startswith(EVIDENCE_DIR)}
    images.update(extra_images or {})
    for name, data in sorted(images.items()):
        check_image(name, data, named, report)
    return len(images)
