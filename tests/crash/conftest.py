"""Fixtures of the crash test: a work directory, the LIMS (PostgreSQL or SQLite) and the simulators,
each stopped at teardown even when the test fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kuaijian.procs import Child, start

from .fleet import Fleet, build_fleet
from .lims_side import LimsProcess, lims_database


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    path = tmp_path / "logs"
    path.mkdir()
    return path


@pytest.fixture
def lims_process(tmp_path: Path, logs: Path) -> Iterator[LimsProcess]:
    """A running LIMS on a free port; its database is a fresh PostgreSQL schema when one is configured."""
    with lims_database(tmp_path) as database:
        process = LimsProcess(tmp_path, logs, database)
        try:
            process.start()
            yield process
        finally:
            process.stop_all()


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    return build_fleet(tmp_path)


@pytest.fixture
def simulators(fleet: Fleet, logs: Path) -> Iterator[dict[str, Child]]:
    """Every simulator started and ready (printed READY), by name."""
    children: dict[str, Child] = {}
    try:
        for sim in fleet.sims:
            children[sim.name] = start(sim.name, sim.argv, logs, ready_prefix="READY")
        yield children
    finally:
        for child in children.values():
            child.stop()
