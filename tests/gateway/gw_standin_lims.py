"""A real, small HTTP LIMS for uplink tests: verifies every envelope with protocols.envelope.

Runs ``http.server`` in a thread on a fixed port (so it can be stopped and started again on the
same URL). Answers ``POST /api/v1/ingest`` per line as the real LIMS does, with its answer codes (protocols.wire).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from protocols.envelope import canonical, check_shape, envelope_hash, verify_signature
from protocols.errors import EnvelopeError
from protocols.wire.paths import INGEST_PATH, NDJSON, evidence_path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StandInLims:
    """Per-gateway chains in memory; knobs: ``reject_seqs``, ``max_lines``/``max_bytes`` (413 above),
    ``max_rejected`` (stop after that many rejected lines and answer ``stopped``, as the LIMS does)."""

    def __init__(self, keys: dict[str, bytes] | None = None) -> None:
        self.keys: dict[str, bytes] = dict(keys or {})
        self.port = free_port()
        self.stored: dict[tuple[str, int], str] = {}
        self.envelopes: dict[tuple[str, int], dict[str, Any]] = {}
        self.duplicates = 0
        self.rejections: list[tuple[int, str]] = []
        self.request_sizes: list[int] = []
        self.reject_seqs: set[int] = set()
        self.max_lines: int | None = None
        self.max_bytes: int | None = None
        self.evidence: dict[str, bytes] = {}
        """Snapshots taken by ``PUT /api/v1/evidence/<sha256>``: only a named, matching image is kept."""
        self.max_rejected: int | None = None
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        lims = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status, answer = lims.handle(self.path, self.headers.get("content-type", ""), body)
                self._answer(status, answer)

            def do_PUT(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                self._answer(*lims.put_evidence(self.path, body))

            def _answer(self, status: int, answer: dict[str, Any]) -> None:
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, predicate: Callable[[StandInLims], bool], timeout: float = 10.0) -> bool:
        """Block until ``predicate(self)`` holds (checked after every request) or ``timeout``."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def seqs(self, gateway: str) -> list[int]:
        return sorted(seq for gw, seq in self.stored if gw == gateway)

    def handle(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._changed:
            try:
                if path != INGEST_PATH or content_type != NDJSON:
                    return 404, {"detail": f"no route for {path} {content_type}"}
                lines = body.decode().splitlines()
                self.request_sizes.append(len(lines))
                too_many = self.max_lines is not None and len(lines) > self.max_lines
                if too_many or (self.max_bytes is not None and len(body) > self.max_bytes):
                    return 413, {"detail": "too many lines"}
                return 200, self._answer(lines)
            finally:
                self._changed.notify_all()

    def put_evidence(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """The LIMS's evidence rule: the path's hash must be the body's and a stored envelope must name it."""
        with self._changed:
            try:
                sha256 = path.removeprefix(evidence_path(""))
                if hashlib.sha256(body).hexdigest() != sha256:
                    return 422, {"detail": "body does not hash to the path"}
                named = {e["sha256"] for env in self.envelopes.values() for e in env["result"].get("evidence", [])}
                if sha256 not in named:
                    return 409, {"detail": "no stored envelope names this image"}
                self.evidence[sha256] = body
                return 201, {"sha256": sha256}
            finally:
                self._changed.notify_all()

    def _answer(self, lines: list[str]) -> dict[str, Any]:
        results: list[dict[str, Any]] = []
        for number, line in enumerate(lines, 1):
            results.append(self._ingest(number, line))
            rejected = sum(entry["status"] == "rejected" for entry in results)
            if self.max_rejected is not None and rejected >= self.max_rejected and number < len(lines):
                stopped = {"after_line": number, "unprocessed": len(lines) - number, "reason": "too many rejected"}
                return {"results": results, "stopped": stopped}
        return {"results": results}

    def _ingest(self, number: int, line: str) -> dict[str, Any]:
        envelope: dict[str, Any] = {}
        try:
            envelope = json.loads(line)
            check_shape(envelope)
            if canonical(envelope).decode() != line:
                raise EnvelopeError("schema", "line is not the JCS form of the envelope")
            if envelope["gateway"] not in self.keys:
                raise EnvelopeError("unknown_gateway", f"gateway {envelope['gateway']} is not enrolled")
            verify_signature(envelope, self.keys[envelope["gateway"]])
            if envelope["seq"] in self.reject_seqs:
                raise EnvelopeError("schema", "result refused by the test")
            return {"line": number, **self._store(envelope)}
        except (EnvelopeError, ValueError) as exc:
            code = exc.code if isinstance(exc, EnvelopeError) else "malformed_json"
            fields = envelope if isinstance(envelope, dict) else {}
            self.rejections.append((fields.get("seq", 0), code))
            return {"line": number, "gateway": fields.get("gateway"), "seq": fields.get("seq"),
                    "status": "rejected", "code": code, "error": str(exc), "hash": None}

    def _store(self, envelope: dict[str, Any]) -> dict[str, Any]:
        gateway, seq, digest = envelope["gateway"], envelope["seq"], envelope_hash(envelope)
        known = self.stored.get((gateway, seq))
        if known is not None and known != digest:
            raise EnvelopeError("fork", f"seq {seq} stored with another hash")
        previous = self.stored.get((gateway, seq - 1))
        if known is None and previous is not None and previous != envelope["prev"]:
            raise EnvelopeError("broken_prev", f"prev of seq {seq} is not the hash of seq {seq - 1}")
        status = "duplicate" if known else "stored"
        self.duplicates += known is not None
        self.stored[(gateway, seq)] = digest
        self.envelopes[(gateway, seq)] = envelope
        return {"gateway": gateway, "seq": seq, "status": status, "code": None, "error": None, "hash": digest}
