"""The LIMS's HTTP paths that gateways call, and the ingest body's media type."""

from __future__ import annotations

API_PREFIX = "/api/v1"
INGEST_PATH = f"{API_PREFIX}/ingest"
"""``POST``: one JCS envelope per line; answered with one entry per line (:mod:`protocols.wire.answers`)."""
NDJSON = "application/x-ndjson"
"""Media type of an ingest body."""
GATEWAYS_PREFIX = f"{API_PREFIX}/gateways"
HEARTBEAT_PATH = GATEWAYS_PREFIX + "/{gateway}/heartbeat"
"""``POST``: one signed heartbeat (:mod:`protocols.wire.heartbeat`)."""
ROSTER_PATH = GATEWAYS_PREFIX + "/{gateway}/technicians"
"""``POST``: a signed roster request; answered with the site's technicians."""
EVIDENCE_PATH = f"{API_PREFIX}/evidence/{{sha256}}"
"""``PUT``: one evidence image, named by the SHA-256 a stored envelope carries."""


def heartbeat_path(gateway: str) -> str:
    """The heartbeat path of ``gateway``."""
    return HEARTBEAT_PATH.format(gateway=gateway)


def evidence_path(sha256: str) -> str:
    """The upload path of the image with hex digest ``sha256``."""
    return EVIDENCE_PATH.format(sha256=sha256)
