"""The crash test's instruments: simulator command lines, gateway entries, truth and "done" checks.

Identities are derived from what the simulators report (``--truth``, ``--results N``,
``--messages N``) and from the stored results' raw bytes or measurement members,
never from driver internals.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kuaijian.demo import free_port
from kuaijian.procs import python_module
from protocols.enzyme.replay import reading_from_raw

ENZYME_RUNS, ENZYME_CHANNELS = 100, 4
GOLD_RESULTS = 400
ASTM_MESSAGES, ASTM_ITEMS = 100, ("NO2", "HCHO", "SO2", "BORAX")
ASTM_SERIAL = "Q8-230117"
"""The FS-Q8 simulator's fixed serial (its H.5 sender id)."""


@dataclass(frozen=True)
class Sim:
    """One simulated instrument: how to start it and what the gateway config says about it."""

    name: str
    argv: list[str]
    entry: dict[str, object]
    log_name: str


@dataclass(frozen=True)
class Fleet:
    """Every simulator of the run plus where the enzyme analyzer writes its truth."""

    sims: list[Sim]
    enzyme_truth: Path
    gold_serials: tuple[str, ...]

    def entries(self) -> list[dict[str, object]]:
        return [sim.entry for sim in self.sims]

    def total(self) -> int:
        """How many results the simulators produce together."""
        return ENZYME_RUNS * ENZYME_CHANNELS + GOLD_RESULTS * len(self.gold_serials) + ASTM_MESSAGES * len(ASTM_ITEMS)


def build_fleet(work: Path) -> Fleet:
    """Enzyme (pty), GR-100 over Modbus TCP and RTU (pty), CG-8 over TCP, ASTM analyzer (pty)."""
    enzyme_link, rtu_link, astm_link, truth = (work / n for n in ("ttyEI", "ttyGR", "ttyFS", "enzyme-truth.jsonl"))
    gr_port, cg8_port = free_port(), free_port()
    gold = ("firmware_sim", "gold", "--interval", "0.05", "--results", str(GOLD_RESULTS))

    def modbus(instrument: str, profile: str, **link: object) -> dict[str, object]:
        options = {"profile": profile, "poll_interval_s": 0.1, "reconnect_s": 0.2, **link}
        return {"id": instrument, "driver": "modbus_profile", "options": options}

    sims = [
        Sim("sim-enzyme", python_module(
            "firmware_sim", "enzyme", "--link", str(enzyme_link), "--runs", str(ENZYME_RUNS),
            "--channels", str(ENZYME_CHANNELS), "--interval", "0.2", "--seed", "21", "--ack-timeout", "1.0",
            "--truth", str(truth), "--linger", "240"),
            {"id": "ei-01", "driver": "enzyme_inhibition", "options": {"port": str(enzyme_link), "reconnect_s": 0.2}},
            "sim-enzyme"),
        Sim("sim-gr-tcp", python_module(*gold, "--profile", "gr100", "--tcp", f"127.0.0.1:{gr_port}", "--seed", "22",
                                        "--serial", "GR2026101"),
            modbus("gr-tcp-01", "gr100", transport="tcp", host="127.0.0.1", port=gr_port), "sim-gr-tcp"),
        Sim("sim-gr-rtu", python_module(*gold, "--profile", "gr100", "--rtu-link", str(rtu_link), "--seed", "23",
                                        "--serial", "GR2026102"),
            modbus("gr-rtu-01", "gr100", transport="rtu", port=str(rtu_link)), "sim-gr-rtu"),
        Sim("sim-cg8-tcp", python_module(*gold, "--profile", "huaxin-cg8", "--tcp", f"127.0.0.1:{cg8_port}",
                                         "--seed", "24", "--serial", "CG8-0101"),
            modbus("cg8-01", "huaxin-cg8", transport="tcp", host="127.0.0.1", port=cg8_port), "sim-cg8-tcp"),
        Sim("sim-astm", python_module(
            "firmware_sim", "astm", "--link", str(astm_link), "--messages", str(ASTM_MESSAGES), "--interval", "0.1",
            "--items", ",".join(ASTM_ITEMS), "--seed", "25", "--reply-timeout", "1.0", "--busy-wait", "0.5"),
            {"id": "fs-01", "driver": "astm_quantitative", "options": {"port": str(astm_link)}}, "sim-astm"),
    ]
    return Fleet(sims, truth, ("GR2026101", "GR2026102", "CG8-0101"))


def expected_identities(fleet: Fleet) -> set[str]:
    """What the simulators produced: enzyme from its truth file, gold sequences 1..N, ASTM messages x items."""
    rows = [json.loads(line) for line in fleet.enzyme_truth.read_text("utf-8").splitlines() if line.strip()]
    enzyme = {f"{row['serial']}:{row['run']}:{row['channel']}" for row in rows}
    assert len(rows) == len(enzyme) == ENZYME_RUNS * ENZYME_CHANNELS, "enzyme truth file incomplete or repeated"
    gold = {f"{serial}:{n}" for serial in fleet.gold_serials for n in range(1, GOLD_RESULTS + 1)}
    astm = {f"{ASTM_SERIAL}:{n}:{item}" for n in range(1, ASTM_MESSAGES + 1) for item in ASTM_ITEMS}
    return enzyme | gold | astm


_SAMPLE_NUMBER = re.compile(r"^S\d{8}(\d{4})$")


def identity_of(result: dict[str, Any]) -> str:
    """A stored result's identity at the source, from its raw bytes or measurement members."""
    driver, serial = result["instrument"]["driver"], result["instrument"]["serial"]
    if driver == "enzyme_inhibition":
        return reading_from_raw(base64.b64decode(result["raw"]["data"])).source_key
    if driver == "modbus_profile":
        return f"{serial}:{result['measurement']['sequence']}"
    if driver == "astm_quantitative":
        match = _SAMPLE_NUMBER.match(result["sample"]["id"] or "")
        assert match, f"unexpected ASTM sample id {result['sample']['id']!r}"
        return f"{serial}:{int(match.group(1))}:{result['test']['analyte']}"
    raise AssertionError(f"unexpected driver {driver!r}")


@dataclass(frozen=True)
class Tally:
    """Stored identities compared with the truth."""

    lost: list[str]
    duplicated: dict[str, int]
    unexpected: list[str]


def compare(expected: set[str], stored: Iterable[str]) -> Tally:
    counts = Counter(stored)
    return Tally(
        lost=sorted(expected - counts.keys()),
        duplicated={key: n for key, n in counts.items() if n > 1},
        unexpected=sorted(counts.keys() - expected),
    )


def gold_done(log_path: Path) -> bool:
    """The gold reader logged the ack of its last result (``result N acknowledged``)."""
    return f"result {GOLD_RESULTS} acknowledged" in log_path.read_text("utf-8", errors="replace")


def astm_delivered(log_path: Path) -> int | None:
    """Messages the ASTM simulator says it delivered (printed when it is stopped), None before."""
    found = re.findall(r"delivered (\d+) messages", log_path.read_text("utf-8", errors="replace"))
    return int(found[-1]) if found else None
