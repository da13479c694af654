"""The camera's HTTP server: ``GET /snapshot`` answers a fresh PNG, or a configured fault."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .image import png_image

FAULTS = ("not_image", "oversize", "timeout", "error")
"""``not_image``: an HTML page; ``oversize``: a PNG padded to ``oversize_bytes``; ``timeout``: answer only
after ``stall_s``; ``error``: HTTP 500."""
SNAPSHOT_PATH = "/snapshot"


class CameraServer:
    """A threaded HTTP snapshot camera on 127.0.0.1; ``fault`` may be changed while it runs."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, fault: str | None = None,
                 oversize_bytes: int = 8_000_000, stall_s: float = 30.0) -> None:
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown camera fault {fault!r}; known: {', '.join(FAULTS)}")
        self.fault = fault
        self.oversize_bytes = oversize_bytes
        self.stall_s = stall_s
        self.shots = 0
        self._closing = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="camera-sim", daemon=True)

    @property
    def url(self) -> str:
        """The snapshot URL to put into a gateway's ``[camera] snapshot_url``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{SNAPSHOT_PATH}"

    def start(self) -> CameraServer:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; a stalled answer is released at once."""
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> CameraServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _answer(self) -> tuple[int, str, bytes]:
        self.shots += 1
        if self.fault == "not_image":
            return 200, "text/html", b"<html><body>login required</body></html>"
        if self.fault == "error":
            return 500, "text/plain", b"sensor failure"
        image = png_image(self.shots)
        if self.fault == "oversize":
            image += b"\x00" * max(0, self.oversize_bytes - len(image))
        if self.fault == "timeout":
            self._closing.wait(self.stall_s)
        return 200, "image/png", image

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path.split("?", 1)[0] != SNAPSHOT_PATH:
                    self.send_error(404)
                    return
                status, media_type, body = camera._answer()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", media_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (its timeout or size bound)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
