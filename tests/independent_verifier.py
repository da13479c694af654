"""A bundle verifier written only from shared/design/envelope.md, importing none of our packages.

It stands in for a regulator's own tool: if our export passes here and in
``kuaijian audit verify``, two independent readings of the contract agree.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ZERO = "0" * 64


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify(folder: Path) -> list[str]:
    """Return a list of problems (empty when the bundle is sound)."""
    problems: list[str] = []
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    keys = {(k["gateway"], k["kid"]): k for k in json.loads((folder / "keys.json").read_text("utf-8"))}
    lines = [ln for ln in (folder / "envelopes.jsonl").read_bytes().split(b"\n") if ln.strip()]
    if manifest.get("format") != "kuaijian-bundle/1":
        problems.append("manifest format")
    if manifest.get("counts", {}).get("envelopes") != len(lines):
        problems.append("manifest count mismatch")
    last: dict[str, tuple[int, str]] = {}
    for number, line in enumerate(lines, 1):
        try:
            env = json.loads(line)
        except ValueError:
            problems.append(f"line {number}: not JSON")
            continue
        if set(env) != {"v", "gateway", "kid", "seq", "prev", "result", "sig"} or env["v"] != 1:
            problems.append(f"line {number}: members")
            continue
        key = keys.get((env["gateway"], env["kid"]))
        if key is None or key["revoked_at"] is not None:
            problems.append(f"line {number}: unknown or revoked key")
            continue
        public = _b64url(key["public_key"])
        if hashlib.sha256(public).hexdigest()[:16] != env["kid"]:
            problems.append(f"line {number}: kid does not match key")
        unsigned = {k: v for k, v in env.items() if k != "sig"}
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(_b64url(env["sig"]), rfc8785.dumps(unsigned))
        except Exception:  # noqa: BLE001 - any failure is a bad signature here
            problems.append(f"line {number}: bad signature")
        digest = hashlib.sha256(rfc8785.dumps(env)).hexdigest()
        previous = last.get(env["gateway"])
        if previous is None:
            if env["seq"] == 1 and env["prev"] != ZERO:
                problems.append(f"line {number}: seq 1 must have zero prev")
        elif env["seq"] == previous[0]:
            problems.append(f"line {number}: fork at seq {env['seq']}")
        elif env["seq"] != previous[0] + 1:
            problems.append(f"line {number}: gap before seq {env['seq']}")
        elif env["prev"] != previous[1]:
            problems.append(f"line {number}: broken prev")
        last[env["gateway"]] = (env["seq"], digest)
    return problems


if __name__ == "__main__":
    found = verify(Path(sys.argv[1]))
    print("\n".join(found) or "OK")
    sys.exit(1 if found else 0)
