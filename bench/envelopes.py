"""Signed envelope chains for the ingest and audit benchmarks: the test vector's result as distinct readings.

Every result is its own test, as in a district's real traffic: a fresh id (UUIDv7, as drivers make them), its own sample (id and
barcode) and its own EI-412 frame, whose ΔA values come from a digest of (gateway, seq) over about
18 million pairs, so two readings of a run's tens of thousands coincide only by chance (a handful of
pairs, each flagged as a replay); 1 % are positive (cases are opened).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from decimal import ROUND_HALF_UP, Decimal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware_sim.enzyme._encoder import channel_frame
from protocols.envelope import GENESIS_PREV, b64url_encode, canonical, envelope_hash, public_key_bytes, seal
from protocols.uuid7 import uuid7

VECTOR = Path(__file__).resolve().parents[1] / "tests" / "data" / "envelope-vector.json"
BASE_RESULT: dict[str, Any] = json.loads(VECTOR.read_text("utf-8"))["envelope"]["result"]
SITE: dict[str, Any] = BASE_RESULT["site"]
POSITIVE_EVERY = 100


def _reading(gateway: str, seq: int) -> tuple[Decimal, Decimal, int]:
    """(ΔA₀, ΔAₜ, digest) of one reading: ΔA₀ 0.3000–0.6999 and an inhibition of 5.00–49.99 % (negative) or,
    every 100th, 50.00–89.99 % (positive), ΔAₜ rounded to four places like the instrument's."""
    digest = int.from_bytes(hashlib.sha256(f"{gateway}/{seq}".encode()).digest()[:8], "big")
    control = Decimal("0.3000") + Decimal(digest % 4000) / 10000
    low, span = (Decimal("50.00"), 4000) if seq % POSITIVE_EVERY == 0 else (Decimal("5.00"), 4500)
    inhibition = low + Decimal(digest // 4000 % span) / 100
    sample = (control * (1 - inhibition / 100)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return control, sample, digest


def enzyme_result(seq: int, gateway: str = "gw-bench") -> dict[str, Any]:
    """The vector's result as reading ``seq`` of ``gateway``: fresh id, own sample, a real EI-412 frame it states."""
    channel = 1 + seq % 4
    control, sample, digest = _reading(gateway, seq)
    inhibition = float(((control - sample) / control * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    result = copy.deepcopy(BASE_RESULT)
    result.update({
        "id": uuid7(), "channel": channel, "verdict": "positive" if inhibition >= 50 else "negative",
        "raw": {"transport": "serial", "encoding": "base64",
                "data": base64.b64encode(channel_frame(channel, control, sample, "")).decode()},
    })
    result["sample"] = {**result["sample"], "id": f"S-{digest % 10**8:08d}", "barcode": f"69{digest % 10**11:011d}"}
    result["measurement"] = {**result["measurement"], "value": inhibition, "control_delta_a": float(control),
                             "sample_delta_a": float(sample)}
    return result


@dataclass
class Chain:
    """One gateway's key and chain position; ``lines`` signs the next envelopes as JCS lines."""

    gateway: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    position: tuple[int, str] = (0, GENESIS_PREV)
    """(last seq signed, its hash)."""

    @property
    def public_key(self) -> str:
        return b64url_encode(public_key_bytes(self.key.public_key()))

    def enrol_body(self) -> dict[str, Any]:
        """``POST /api/v1/gateways`` body: this gateway at the vector's site."""
        return dict(gateway=self.gateway, site=SITE, public_key=self.public_key)

    def lines(self, count: int) -> Iterator[bytes]:
        for _ in range(count):
            seq, prev = self.position
            envelope = seal(self.key, gateway=self.gateway, seq=seq + 1, prev=prev, result=enzyme_result(seq + 1, self.gateway))
            self.position = (seq + 1, envelope_hash(envelope))
            yield canonical(envelope)


def batches(lines: list[bytes], size: int) -> list[bytes]:
    """NDJSON bodies of ``size`` lines each, as the gateway sends them."""
    return [b"".join(line + b"\n" for line in lines[i:i + size]) for i in range(0, len(lines), size)]
