"""``python bench/run.py drain``: a gateway's outage backlog drained to the LIMS, beside the LIMS's own ingest rate.

Two outboxes (N/10 and N results) are filled through ``gateway.outbox.Outbox.append`` in helper processes
(``python -m bench.drain_run fill ...``: the gateway's seal and commit, real keys and chain, the LIMS down),
then copied once per database. Against one LIMS server per database, in this order: the bare ingest
reference (``measure_lims``: one client posting pre-built batches of 100), the real daemon
(``python -m gateway run``) draining N/10, the reference, the daemon draining N, the reference. A drain is
timed from the daemon's start until its outbox has nothing pending; the daemon's process tree is sampled
every 100 ms for RSS. Method and figures: docs/benchmarks.md, "Gateway backlog drain".
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import AbstractContextManager, ExitStack, closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import tomli_w

from bench.envelopes import SITE, Chain, batches, enzyme_result
from bench.ingest_bench import (
    BATCH, Lims, Postgres, Row, enrol, lims_server, measure_lims, pg_base_url, stop_process,
)
from bench.procstat import sample
from bench.proctree import rss_mb, snapshot, spent, tree
from gateway.daemon import local_now
from gateway.keys import generate_key_file, load_private_key
from gateway.outbox import Outbox, read_counts
from protocols.result import TestResult

MIN_RATIO = 0.5
"""Drain rate of the N backlog at least this times the LIMS's ingest rate (the issue's bar)."""
MAX_RSS_GROWTH = 1.10
"""Peak RSS draining N at most this times the peak draining N/10: memory does not follow the backlog."""
SAMPLE_S = 0.1
PG_APP = "kj-bench-drain"
"""``application_name`` of the PostgreSQL LIMS's connections (their backends' CPU is counted)."""
SOURCE = "ei412-bench"
"""Source-key prefix of the filled readings (``<SOURCE>:<n>``, kept per instrument by the outbox)."""


@dataclass(frozen=True)
class Backlog:
    """One gateway's filled outbox."""

    gateway: str
    key_file: Path
    outbox: Path
    count: int


@dataclass(frozen=True)
class Drain:
    """One drain of a backlog by the daemon."""

    name: str
    results: int
    wall_s: float
    """Daemon start to nothing pending."""
    first_delivery_s: float
    """Daemon start to the first envelope acknowledged (start-up: imports, config, outbox open)."""
    gateway_cpu_s: float
    """The daemon's tree from its start (imports and start-up included)."""
    draining_cpu_s: float
    """The daemon's tree from the first sample that saw an acknowledged envelope."""
    draining_results: int
    """Envelopes acknowledged after that sample."""
    lims_cpu_s: float
    peak_rss_mb: float
    """Highest summed VmRSS of the daemon's process tree over the 100 ms samples."""
    hwm_mb: float
    """The daemon's own VmHWM at the end."""

    @property
    def per_s(self) -> float:
        return self.results / self.wall_s

    def as_dict(self) -> dict[str, Any]:
        return {**{k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()},
                "per_s": round(self.per_s, 1)}


def fill(backlog: Backlog) -> None:
    """Seal and commit ``backlog.count`` results one transaction each (``synchronous=FULL``), as the sink does."""
    box = Outbox(backlog.outbox, gateway_id=backlog.gateway, private_key=load_private_key(backlog.key_file),
                 clock=local_now)
    try:
        for n in range(1, backlog.count + 1):
            box.append(TestResult.from_wire(enzyme_result(n)), f"{SOURCE}:{n}")
    finally:
        box.close()


def fill_all(backlogs: list[Backlog], logs: Path) -> None:
    """Fill every outbox at once, one helper process each."""
    helpers = []
    for backlog in backlogs:
        generate_key_file(backlog.key_file)
        command = [sys.executable, "-m", "bench.drain_run", "fill", backlog.gateway, str(backlog.key_file),
                   str(backlog.outbox), str(backlog.count)]
        with (logs / f"drain-fill-{backlog.count}.log").open("wb") as out:
            helpers.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT))
    if any(helper.wait() != 0 for helper in helpers):
        raise RuntimeError("filling an outbox failed")


def write_config(folder: Path, backlog: Backlog, lims_url: str) -> Path:
    """A copy of the backlog's outbox and a gateway.toml using it: no instruments, every other setting default."""
    folder.mkdir(parents=True)
    outbox = folder / "outbox.sqlite3"
    with closing(sqlite3.connect(f"{backlog.outbox.as_uri()}?mode=ro", uri=True)) as source, \
            closing(sqlite3.connect(outbox)) as target:
        source.backup(target)
    config = {"gateway": {"id": backlog.gateway, "key_file": str(backlog.key_file), "outbox": str(outbox),
                          "operator": "bench"},
              "site": {key: SITE[key] for key in ("id", "kind", "name")},
              "lims": {"transport": "http", "url": lims_url},
              "room_page": {"port": 0}}
    path = folder / "gateway.toml"
    path.write_text(tomli_w.dumps(config), "utf-8")
    return path


def _pending(outbox: Path) -> int:
    with closing(sqlite3.connect(f"{outbox.as_uri()}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT count(*) FROM envelopes WHERE state = 'pending'").fetchone()[0])


def measure_drain(name: str, config: Path, count: int, lims: Lims, log: Path) -> Drain:
    """Start the daemon on a filled outbox; sample it every 100 ms until nothing is pending."""
    outbox = config.parent / "outbox.sqlite3"
    lims_before = snapshot(lims.pids())
    deadline = time.monotonic() + max(600.0, count / 20)
    with log.open("wb") as out:
        started = time.monotonic()
        daemon = subprocess.Popen([sys.executable, "-m", "gateway", "run", "--config", str(config)],
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        peak, first, first_cpu, first_pending, cpu = 0.0, 0.0, 0.0, count, {daemon.pid: 0.0}
        while True:
            time.sleep(SAMPLE_S)  # the sampling interval, not a synchronisation
            if daemon.poll() is not None:
                raise RuntimeError(f"gateway exited ({daemon.returncode}); see {log}")
            pids = tree(daemon.pid)
            peak, cpu = max(peak, rss_mb(pids)), {**cpu, **snapshot(pids)}
            pending = _pending(outbox)
            if not first and pending < count:
                first, first_cpu, first_pending = time.monotonic() - started, sum(cpu.values()), pending
            if pending == 0:
                wall = time.monotonic() - started
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: {pending} still pending after {time.monotonic() - started:.0f} s")
        lims_cpu, hwm = spent(lims_before, snapshot(lims.pids())), sample(daemon.pid).hwm_mb
    finally:
        stop_process(daemon, 30)
    counts = read_counts(outbox)
    if (counts.delivered, counts.rejected) != (count, 0):
        raise RuntimeError(f"{name}: delivered {counts.delivered}, rejected {counts.rejected} of {count}")
    total = sum(cpu.values())
    return Drain(name, count, wall, first, total, total - first_cpu, first_pending, lims_cpu, peak, hwm)


def measure_ingest(lims: Lims, size: int, tag: str) -> Row:
    """The LIMS's own ingest rate: a fresh gateway's ``size`` envelopes, signed beforehand, posted in batches of 100."""
    chain = Chain(f"gw-bench-ref-{tag}")
    enrol(lims.base, chain)
    return measure_lims(lims, "LIMS ingest (bench client)", "LIMS ingest (bench client)",
                        [batches(list(chain.lines(size)), BATCH)], "stored")


def run_database(db: str, lims: Lims, backlogs: list[Backlog], reference: int, work: Path,
                 logs: Path) -> dict[str, Any]:
    """Reference, drain N/10, reference, drain N, reference, against one LIMS server."""
    for backlog in backlogs:
        enrol(lims.base, Chain(backlog.gateway, key=load_private_key(backlog.key_file)))
    print(f"{db}: LIMS ingest reference ({reference} envelopes) ...", flush=True)
    ingest = [measure_ingest(lims, reference, f"{db}-0")]
    drains = []
    for backlog in backlogs:
        name = f"gateway drain {backlog.count}"
        print(f"{db}: {name} ...", flush=True)
        config = write_config(work / f"{db}-{backlog.count}", backlog, lims.base)
        drains.append(measure_drain(name, config, backlog.count, lims, logs / f"drain-gateway-{db}-{backlog.count}.log"))
        print(f"{db}: LIMS ingest reference ...", flush=True)
        ingest.append(measure_ingest(lims, reference, f"{db}-{len(ingest)}"))
    return {"ingest": ingest, "drains": drains}


def table(db: str, measured: dict[str, Any]) -> str:
    ingest: list[Row] = measured["ingest"]
    rate = statistics.median(row.envelopes / row.wall_s for row in ingest)
    lines = [f"{db:<10} {'contender':<28} {'results':>8} {'results/s':>9} {'ratio':>6} {'gw µs/res':>9} "
             f"{'LIMS µs/res':>11} {'peak RSS MB':>11} {'VmHWM MB':>8}"]
    for row in ingest:
        lines.append(f"{'':<10} {row.name:<28} {row.envelopes:>8} {row.envelopes / row.wall_s:>9.0f} "
                     f"{row.envelopes / row.wall_s / rate:>6.2f} {'':>9} {row.us_per_envelope:>11.0f}")
    for drain in measured["drains"]:
        lines.append(f"{'':<10} {drain.name:<28} {drain.results:>8} {drain.per_s:>9.0f} {drain.per_s / rate:>6.2f} "
                     f"{drain.draining_cpu_s / max(drain.draining_results, 1) * 1e6:>9.0f} {drain.lims_cpu_s / drain.results * 1e6:>11.0f} "
                     f"{drain.peak_rss_mb:>11.1f} {drain.hwm_mb:>8.1f}")
    lines.append(f"{'':<10} (gw µs/res: the daemon's CPU per result after its first acknowledged batch; "
                 "LIMS µs/res: the LIMS tree and its PostgreSQL backends)")
    return "\n".join(lines)


def verdict(measured: dict[str, Any]) -> dict[str, Any]:
    """Drain of N against the median ingest reference; peak RSS at N against N/10."""
    rate = statistics.median(row.envelopes / row.wall_s for row in measured["ingest"])
    small, large = measured["drains"]
    ratio, growth = large.per_s / rate, large.peak_rss_mb / small.peak_rss_mb
    return {"ingest_per_s": round(rate, 1), "drain_per_s": round(large.per_s, 1), "ratio": round(ratio, 3),
            "ratio_pass": ratio >= MIN_RATIO, "rss_growth": round(growth, 3), "rss_pass": growth <= MAX_RSS_GROWTH}


def _lims(db: str, pg: Postgres | None, work: Path, logs: Path) -> AbstractContextManager[Lims]:
    """The LIMS server of one database (one worker), started when entered."""
    log = logs / f"drain-lims-{db}.log"
    if pg is None:
        return lims_server(work / f"lims-{db}", f"sqlite:///{work / 'lims.sqlite3'}", 1, list, log)
    return lims_server(work / f"lims-{db}", pg.url(PG_APP), 1, lambda: pg.backends(PG_APP), log)


def main(argv: list[str], work: Path, logs: Path) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench/run.py drain", description=__doc__)
    parser.add_argument("--results", type=int, default=100_000, help="backlog N (default 100000); N/10 is drained too")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--quick", action="store_true", help="smoke size: 5000 results")
    args = parser.parse_args(argv)
    count = 5000 if args.quick else args.results
    reference = max(2000, min(10_000, count // 10))
    load_before = os.getloadavg()
    backlogs = [Backlog(f"gw-bench-drain-{n}", work / f"drain-{n}.key", work / f"drain-{n}.sqlite3", n)
                for n in (count // 10, count)]
    print(f"filling outboxes of {count // 10} and {count} results ...", flush=True)
    began = time.monotonic()
    fill_all(backlogs, logs)
    fill_s = time.monotonic() - began
    base = None if args.no_pg else pg_base_url()
    if base is None and not args.no_pg:
        print("no PostgreSQL answers: SQLite only (set KUAIJIAN_BENCH_PG_URL)", flush=True)
    results: dict[str, dict[str, Any]] = {}
    with ExitStack() as stack:
        pg = Postgres(base) if base is not None else None
        if pg is not None:
            stack.callback(pg.close)
        for db, owner in [("sqlite", None), *([("pg", pg)] if pg is not None else [])]:
            with _lims(db, owner, work, logs) as lims:
                results[db] = run_database(db, lims, backlogs, reference, work, logs)
    load_after = os.getloadavg()
    print(f"\nload average before {load_before[0]:.1f}, after {load_after[0]:.1f} (1 min); "
          f"fill {count + count // 10} results in {fill_s:.0f} s")
    verdicts = {}
    for db, measured in results.items():
        print(table(db, measured))
        verdicts[db] = result = verdict(measured)
        print(f"{db}: drain {result['drain_per_s']:.0f} results/s = {result['ratio']:.2f}x the LIMS ingest "
              f"{result['ingest_per_s']:.0f} envelopes/s (bar {MIN_RATIO}x): {'PASS' if result['ratio_pass'] else 'FAIL'}")
        print(f"{db}: peak RSS at {count} = {result['rss_growth']:.2f}x the peak at {count // 10} "
              f"(bar {MAX_RSS_GROWTH}x): {'PASS' if result['rss_pass'] else 'FAIL'}")
    return {"settings": {"results": count, "reference_envelopes": reference, "batch_size": BATCH},
            "load_avg_before": [round(x, 2) for x in load_before], "load_avg_after": [round(x, 2) for x in load_after],
            "fill_s": round(fill_s, 1), "verdict": verdicts,
            "databases": {db: {"ingest": [row.as_dict() for row in m["ingest"]],
                               "drains": [drain.as_dict() for drain in m["drains"]]} for db, m in results.items()}}


if __name__ == "__main__" and sys.argv[1:2] == ["fill"]:
    gateway, key_file, outbox, count = sys.argv[2:6]
    fill(Backlog(gateway, Path(key_file), Path(outbox), int(count)))
