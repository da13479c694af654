"""A throw-away PostgreSQL cluster for the test run when no server answers on 127.0.0.1:5432.

Found binaries (``initdb``, ``pg_ctl`` on PATH or under /usr/lib/postgresql/*/bin) are used to
create a trust-auth cluster in a temporary directory, listening on a free local port; it is
stopped and deleted when the run ends. PostgreSQL refuses to run as root, so under root the
cluster runs as the ``postgres`` system user (``runuser``) when that user exists.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PrivatePgUnavailable(Exception):
    """No private cluster can be started here; the message says why."""


def _binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise PrivatePgUnavailable(f"no {name} on PATH or under /usr/lib/postgresql/*/bin")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrivatePg:
    """A running private cluster: its URL for SQLAlchemy, and how to stop it."""

    url: str
    folder: Path
    pg_ctl: str
    as_user: list[str]

    def restart(self, mode: str) -> None:
        """``pg_ctl restart -m fast|immediate`` with the options it was started with; waits until it accepts."""
        done = subprocess.run([*self.as_user, self.pg_ctl, "restart", "-D", str(self.folder / "data"), "-m", mode,
                               "-w", "-t", "60", "-l", str(self.folder / "server.log")],
                              capture_output=True, text=True, timeout=90, check=False)
        if done.returncode != 0:
            raise PrivatePgUnavailable(f"pg_ctl restart -m {mode} failed: {done.stderr.strip()}")

    def stop(self) -> None:
        """Stop the server (fast mode) and delete its folder."""
        subprocess.run([*self.as_user, self.pg_ctl, "stop", "-D", str(self.folder / "data"), "-m", "fast", "-w"],
                       capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_private_pg() -> PrivatePg:
    """initdb + start on a free port + ``CREATE DATABASE test``; raises ``PrivatePgUnavailable``."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="kuaijian-pg-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder, ignore_errors=True)
            raise PrivatePgUnavailable("running as root and no 'postgres' user to run PostgreSQL as") from None
        as_user = [shutil.which("runuser") or "runuser", "-u", "postgres", "--"]
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    port, data = _free_port(), folder / "data"
    steps = [
        [*as_user, initdb, "-D", str(data), "-U", "root", "--auth=trust", "-E", "UTF8", "--no-sync"],
        [*as_user, pg_ctl, "start", "-D", str(data), "-w", "-t", "60", "-l", str(folder / "server.log"),
         "-o", f"-p {port} -h 127.0.0.1 -k {folder} -c fsync=off -c max_connections=200"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            log = (folder / "server.log").read_text(errors="replace") if (folder / "server.log").exists() else ""
            shutil.rmtree(folder, ignore_errors=True)
            raise PrivatePgUnavailable(f"{Path(step[len(as_user)]).name} failed: {done.stderr.strip()} {log[-500:]}")
    cluster = PrivatePg(f"postgresql+psycopg://root@127.0.0.1:{port}/test", folder, pg_ctl, as_user)
    import psycopg

    with psycopg.connect(f"postgresql://root@127.0.0.1:{port}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE test")
    return cluster
