"""Build signed audit bundles for tests, straight from the contract (no LIMS needed)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocols import envelope as env

VECTOR = json.loads((Path(__file__).parent / "data" / "envelope-vector.json").read_text("utf-8"))


def sample_result(n: int) -> dict[str, Any]:
    """A contract-valid result, varied by ``n``."""
    result = copy.deepcopy(VECTOR["envelope"]["result"])
    result["id"] = f"0193a1f2-7c00-7000-8000-{n:012d}"
    result["channel"] = n % 8 + 1
    result["measurement"]["sample_delta_a"] = round(0.1 + n * 0.001, 4)
    return result


def chain(key: Ed25519PrivateKey, gateway: str, count: int, start: int = 1, prev: str = env.GENESIS_PREV):
    """``count`` sealed envelopes of ``gateway`` from seq ``start``, correctly linked."""
    envelopes = []
    for seq in range(start, start + count):
        sealed = env.seal(key, gateway=gateway, seq=seq, prev=prev, result=sample_result(seq))
        prev = env.envelope_hash(sealed)
        envelopes.append(sealed)
    return envelopes


def key_entry(gateway: str, key: Ed25519PrivateKey, revoked_at: str | None = None) -> dict[str, Any]:
    public_raw = env.public_key_bytes(key.public_key())
    return {"gateway": gateway, "kid": env.key_id(public_raw), "public_key": env.b64url_encode(public_raw),
            "valid_from": "2026-11-01T00:00:00+00:00", "revoked_at": revoked_at}


def write_bundle(out: Path, envelopes: list[dict[str, Any]], keys: list[dict[str, Any]],
                 count: int | None = None, range_from: str | None = None) -> Path:
    """Write manifest.json, keys.json and envelopes.jsonl (JCS lines) into ``out``.

    ``range_from`` is the manifest's start date (None: a full export, every chain from seq 1).
    """
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"format": "kuaijian-bundle/1", "created_at": "2026-11-25T00:00:00+00:00",
                "range": {"from": range_from, "to": None}, "sites": ["yz-market-07"],
                "counts": {"envelopes": len(envelopes) if count is None else count}}
    (out / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    (out / "keys.json").write_text(json.dumps(keys), "utf-8")
    (out / "envelopes.jsonl").write_bytes(b"".join(env.canonical(e) + b"\n" for e in envelopes))
    return out
