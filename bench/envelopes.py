"""Signed envelope chains for the ingest and audit benchmarks (the test vector's result, fresh ids, 1 % positive)."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from decimal import Decimal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware_sim.enzyme._encoder import channel_frame
from protocols.envelope import GENESIS_PREV, b64url_encode, canonical, envelope_hash, public_key_bytes, seal

VECTOR = Path(__file__).resolve().parents[1] / "tests" / "data" / "envelope-vector.json"
BASE_RESULT: dict[str, Any] = json.loads(VECTOR.read_text("utf-8"))["envelope"]["result"]
SITE: dict[str, Any] = BASE_RESULT["site"]
POSITIVE_EVERY = 100
CONTROL = Decimal("0.4120")


def enzyme_result(seq: int) -> dict[str, Any]:
    """The vector's result with a fresh id and a real EI-412 frame whose values it states (1 % positive)."""
    channel = 1 + seq % 4
    sample = Decimal("0.1545") if seq % POSITIVE_EVERY == 0 else Decimal("0.2100") + Decimal(seq % 1900) / 10000
    inhibition = float(((CONTROL - sample) / CONTROL * 100).quantize(Decimal("0.1")))
    result = copy.deepcopy(BASE_RESULT)
    result.update({
        "id": str(uuid.uuid4()), "channel": channel, "verdict": "positive" if inhibition >= 50 else "negative",
        "raw": {"transport": "serial", "encoding": "base64",
                "data": base64.b64encode(channel_frame(channel, CONTROL, sample, "")).decode()},
    })
    result["measurement"] = {**result["measurement"], "value": inhibition, "control_delta_a": float(CONTROL),
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
            envelope = seal(self.key, gateway=self.gateway, seq=seq + 1, prev=prev, result=enzyme_result(seq + 1))
            self.position = (seq + 1, envelope_hash(envelope))
            yield canonical(envelope)


def batches(lines: list[bytes], size: int) -> list[bytes]:
    """NDJSON bodies of ``size`` lines each, as the gateway sends them."""
    return [b"".join(line + b"\n" for line in lines[i:i + size]) for i in range(0, len(lines), size)]
