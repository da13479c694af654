"""Child processes for the demo: start, wait for readiness, stop cleanly."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


class ChildError(Exception):
    """A child process failed to start or become ready."""


@dataclass
class Child:
    """One running child with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    ready_line: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def python_module(module: str, *args: str) -> list[str]:
    """argv for ``python -m module args`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def start(name: str, argv: list[str], log_dir: Path, *, ready_prefix: str | None = None,
          timeout: float = 20.0, env: dict[str, str] | None = None) -> Child:
    """Start ``argv``; stderr goes to ``log_dir/name.log``. With ``ready_prefix``, wait for that stdout line."""
    log_path = log_dir / f"{name}.log"
    log = log_path.open("ab")
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE if ready_prefix else log, stderr=log,
        env={**os.environ, **(env or {})}, start_new_session=True,
    )
    child = Child(name, process, log_path)
    if ready_prefix:
        child.ready_line = _read_ready_line(child, ready_prefix, timeout)
        threading.Thread(target=_drain, args=(child.process.stdout, log), daemon=True).start()
    return child


def _drain(stream, log) -> None:  # type: ignore[no-untyped-def]
    """Copy what a child prints after its ready line into its log, so its pipe never fills."""
    for chunk in iter(lambda: stream.read1(4096), b""):
        log.write(chunk)
        log.flush()


def _read_ready_line(child: Child, prefix: str, timeout: float) -> str:
    assert child.process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(child.process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buffer = b""
    while time.monotonic() < deadline:
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        chunk = os.read(child.process.stdout.fileno(), 4096)
        if not chunk:
            break
        buffer += chunk
        for line in buffer.decode(errors="replace").splitlines():
            if line.startswith(prefix):
                return line[len(prefix):].strip()
    child.stop()
    raise ChildError(f"{child.name} did not print {prefix!r} within {timeout:.0f} s; see {child.log_path}")
