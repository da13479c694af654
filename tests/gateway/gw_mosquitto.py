"""A real Mosquitto broker for MQTT tests: the one on 127.0.0.1:1883 if it answers, else our own."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


def answers(port: int, host: str = "127.0.0.1") -> bool:
    """True if something accepts TCP connections on ``host:port`` now."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Broker:
    """A broker on 127.0.0.1:``port``; ``process`` is None for a broker we did not start."""

    port: int
    folder: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start mosquitto (persistence in ``folder``) and wait until it accepts connections."""
        assert MOSQUITTO is not None and self.folder is not None
        conf = self.folder / "mosquitto.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                        f"persistence_location {self.folder}/\nautosave_interval 0\nset_tcp_nodelay true\n")
        log = (self.folder / "mosquitto.log").open("ab")
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while not answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start: {(self.folder / 'mosquitto.log').read_text()}")
            time.sleep(0.02)  # polling for readiness, not synchronising test steps

    def stop(self) -> None:
        """SIGTERM (mosquitto saves its persistence file) and wait for the exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()


def own_broker(folder: Path, port: int) -> Broker:
    """Start a broker of our own on ``port`` with persistence in ``folder``."""
    broker = Broker(port, folder)
    broker.start()
    return broker
