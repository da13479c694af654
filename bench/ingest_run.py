"""``python bench/run.py ingest``: the LIMS's ingest against the bare loop, SQLite and PostgreSQL, 1 and N workers."""

from __future__ import annotations

import argparse
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.envelopes import Chain, batches
from bench.ingest_bench import (
    BATCH, Lims, Postgres, Row, enrol, lims_server, measure_lims, measure_reference, pg_base_url,
)

MAX_RATIO = 2.0
MAX_DUPLICATE_RATIO = 0.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--envelopes", type=int, default=2000, help="envelopes per contender and round (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="N of the several-workers contenders (default 2)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")


def _round(args: argparse.Namespace, servers: dict[str, Lims], work: Path, pg: Postgres | None,
           urls: dict[str, str], round_no: int) -> list[Row]:
    rows: list[Row] = []
    n, workers = args.envelopes, args.workers
    for db in ("sqlite", "pg"):
        if db == "pg" and pg is None:
            continue
        reference = f"reference {db}"
        chain = Chain(f"ref-{db}-{round_no}-{uuid.uuid4().hex[:6]}")
        backends = (lambda: pg.backends("kj-bench-ref")) if pg is not None and db == "pg" else list
        print(f"round {round_no}: {reference} ({n} envelopes) ...", flush=True)
        rows.append(measure_reference(reference, urls[f"ref-{db}"], chain, list(chain.lines(n)), work, backends))
        for count, clients in ((1, 1), (workers, 2 * workers)):
            lims = servers[f"{db}-{count}"]
            chains = [Chain(f"gw-{db}{count}-r{round_no}-c{i}") for i in range(clients)]
            for one in chains:
                enrol(lims.base, one)
            streams = [batches(list(one.lines(n // clients)), BATCH) for one in chains]
            name = f"lims {db}" + (f" {count} workers" if count > 1 else "")
            print(f"round {round_no}: {name} ({clients} client(s)) ...", flush=True)
            rows.append(measure_lims(lims, name, reference, streams, "stored"))
            if count == 1:
                print(f"round {round_no}: {name} duplicates ...", flush=True)
                rows.append(measure_lims(lims, f"{name} duplicates", reference, streams, "duplicate"))
    return rows


def _median(rows: list[Row]) -> Row:
    return sorted(rows, key=lambda row: row.us_per_envelope)[(len(rows) - 1) // 2]


def run(args: argparse.Namespace, work: Path, logs: Path) -> dict[str, Any]:
    """Every contender each round; returns the summary (medians by CPU per envelope) and every round."""
    base = None if args.no_pg else pg_base_url()
    if base is None and not args.no_pg:
        print("no PostgreSQL answers: SQLite only (set KUAIJIAN_BENCH_PG_URL)", flush=True)
    with ExitStack() as stack:
        pg = Postgres(base) if base is not None else None
        if pg is not None:
            stack.callback(pg.close)
        urls = {"ref-sqlite": f"sqlite:///{work / 'ref.sqlite3'}"}
        servers: dict[str, Lims] = {}
        for count in sorted({1, args.workers}):
            url = f"sqlite:///{work / f'lims-{count}.sqlite3'}"
            servers[f"sqlite-{count}"] = stack.enter_context(
                lims_server(work / f"sqlite-{count}", url, count, list, logs / f"lims-sqlite-{count}.log"))
            if pg is not None:
                app = f"kj-bench-lims-{count}"
                servers[f"pg-{count}"] = stack.enter_context(lims_server(
                    work / f"pg-{count}", pg.url(app), count, lambda app=app: pg.backends(app),
                    logs / f"lims-pg-{count}.log"))
        if pg is not None:
            urls["ref-pg"] = pg.url("kj-bench-ref")
        rounds = [_round(args, servers, work, pg, urls, r) for r in range(1, args.rounds + 1)]
    by_name: dict[str, list[Row]] = {}
    for row in (row for rows in rounds for row in rows):
        by_name.setdefault(row.name, []).append(row)
    summary = {name: _median(rows) for name, rows in by_name.items()}
    return {"summary": summary, "rounds": by_name}


def table(summary: dict[str, Row]) -> str:
    lines = [f"{'contender':<30} {'envelopes':>9} {'CPU s':>7} {'us/env':>8} {'ratio':>6} {'env/s wall':>10}  ratio to"]
    for row in summary.values():
        ratio = row.us_per_envelope / summary[row.reference].us_per_envelope
        lines.append(f"{row.name:<30} {row.envelopes:>9} {row.cpu_s:>7.2f} {row.us_per_envelope:>8.0f} "
                     f"{ratio:>6.2f} {row.envelopes / row.wall_s:>10.0f}  {row.reference}")
    return "\n".join(lines)


def verdict(summary: dict[str, Row]) -> dict[str, Any]:
    ratios = {row.name: round(row.us_per_envelope / summary[row.reference].us_per_envelope, 3)
              for row in summary.values() if row.name != row.reference}
    stored = {name: ratio for name, ratio in ratios.items() if not name.endswith("duplicates")}
    duplicates = {name: ratio for name, ratio in ratios.items() if name.endswith("duplicates")}
    return {"ratios": ratios, "stored_max": MAX_RATIO, "stored_pass": max(stored.values()) <= MAX_RATIO,
            "duplicate_max": MAX_DUPLICATE_RATIO,
            "duplicate_pass": max(duplicates.values()) <= MAX_DUPLICATE_RATIO}


def spread(rounds: dict[str, list[Row]]) -> dict[str, list[float]]:
    """CPU per envelope of each round, by contender (the noise)."""
    return {name: [round(row.us_per_envelope, 1) for row in rows] for name, rows in rounds.items()}



def main(argv: list[str] | None, work: Path, logs: Path) -> dict[str, Any]:
    """Parse ``argv``, run, print the table and verdict; returns the JSON report."""
    parser = argparse.ArgumentParser(prog="bench/run.py ingest", description="LIMS ingest against the bare loop.")
    add_arguments(parser)
    parser.add_argument("--quick", action="store_true", help="one round of 600 envelopes per contender")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.envelopes = 1, 600
    measured = run(args, work, logs)
    summary: dict[str, Row] = measured["summary"]
    print(f"\nmedian of {args.rounds} round(s) by CPU per envelope (LIMS tree + PostgreSQL backends)")
    print(table(summary))
    result = verdict(summary)
    print(f"\nstored: {max(v for k, v in result['ratios'].items() if not k.endswith('duplicates')):.2f}x "
          f"the reference at worst (bar {MAX_RATIO}x): {'PASS' if result['stored_pass'] else 'FAIL'}")
    print(f"duplicates: {max(v for k, v in result['ratios'].items() if k.endswith('duplicates')):.2f}x at worst "
          f"(bar {MAX_DUPLICATE_RATIO}x): {'PASS' if result['duplicate_pass'] else 'FAIL'}")
    return {"settings": vars(args), "summary": [row.as_dict() for row in summary.values()], "verdict": result,
            "rounds_us_per_envelope": spread(measured["rounds"])}
