"""``python bench/run.py gateway``: CPU per poll and RSS of the gateway against a bare pymodbus loop, same fleet, same reads.

Usage: ``python bench/run.py gateway [--instruments 100] [--seconds 20] [--rounds 3] [--quick] [--cli] [--profile]
[--results K]``. Prints a table and PASS/FAIL against the bar (CPU per poll <= 1.5x the bare loop's in
the same scheduling, peak RSS < 40 MB), writes bench/results/latest.json; exits non-zero only when the
benchmark itself fails. Method and figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import pstats
import sys
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fleet import BenchError, Fleet, Measured, measure  # noqa: E402
from bench.gateway_child import write_config  # noqa: E402
from bench.procstat import machine  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
MAX_RATIO = 1.5
MAX_RSS_MB = 40.0
HOST = "127.0.0.1"
LOOP, LOOP_SPREAD, GATEWAY, GATEWAY_SPREAD = "pymodbus loop", "pymodbus loop spread", "gateway", "gateway spread"


@dataclass(frozen=True)
class Contender:
    name: str
    command: list[str]
    reference: str
    """The baseline whose CPU per poll this one is divided by (the same poll scheduling)."""


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Gateway polling cost against a bare pymodbus loop.")
    parser.add_argument("--instruments", type=int, default=100, help="simulated readers (default 100)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window per contender (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after all readers are polled (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="every contender is measured this often (default 3)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: one round, 6 s windows, 2 s warm-up")
    parser.add_argument("--cli", action="store_true",
                        help="also measure the gateway started by the CLI (kuaijian gateway run: typer, rich)")
    parser.add_argument("--results", type=int, default=0, metavar="K",
                        help="variant: a quarter into each window, queue one result on K readers")
    parser.add_argument("--profile", action="store_true",
                        help="also run the gateway under cProfile; top functions to results/gateway-profile.txt")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.warmup, args.rounds = 6.0, 2.0, 1
    if args.instruments < 1 or args.seconds <= 0 or args.rounds < 1:
        parser.error("--instruments, --seconds and --rounds must be positive")
    return args


def _contenders(args: argparse.Namespace, ports_file: Path, config: Path) -> list[Contender]:
    python, n = sys.executable, str(args.instruments)
    gateway = [python, "-m", "bench.gateway_child", str(config)]
    runs = [Contender(LOOP, [python, "-m", "bench.baseline", str(ports_file)], LOOP),
            Contender(GATEWAY, gateway, LOOP),
            Contender(LOOP_SPREAD, [python, "-m", "bench.baseline", "--spread", str(ports_file)], LOOP_SPREAD),
            Contender(GATEWAY_SPREAD, [*gateway, "--spread", n], LOOP_SPREAD)]
    if args.cli:
        runs.append(Contender("gateway via CLI", [python, "-c", "from kuaijian.cli import main; main()", "gateway",
                                                  "run", "--config", str(config)], LOOP))
    return runs


def _median(rows: list[Measured]) -> Measured:
    """The round with the median CPU per poll (peak RSS: the highest of all rounds)."""
    middle = sorted(rows, key=lambda row: row.cpu_ms_per_poll)[(len(rows) - 1) // 2]
    return replace(middle, hwm_mb=max(row.hwm_mb for row in rows))


def _table(rows: dict[str, Measured], contenders: list[Contender]) -> str:
    lines = [f"{'contender':<22} {'polls':>6} {'readers':>7} {'CPU s':>7} {'ms/poll':>8} {'ratio':>6} "
             f"{'RSS MB':>7} {'peak MB':>7}  ratio to"]
    for contender in contenders:
        row = rows[contender.name]
        ratio = row.cpu_ms_per_poll / rows[contender.reference].cpu_ms_per_poll
        lines.append(f"{row.name:<22} {row.polls:>6} {row.readers_polled:>7} {row.cpu_s:>7.3f} "
                     f"{row.cpu_ms_per_poll:>8.4f} {ratio:>6.2f} {row.rss_mb:>7.1f} {row.hwm_mb:>7.1f}  "
                     f"{contender.reference}")
    return "\n".join(lines)


def _verdict(rows: dict[str, Measured]) -> dict[str, object]:
    ratios = {GATEWAY: rows[GATEWAY].cpu_ms_per_poll / rows[LOOP].cpu_ms_per_poll,
              GATEWAY_SPREAD: rows[GATEWAY_SPREAD].cpu_ms_per_poll / rows[LOOP_SPREAD].cpu_ms_per_poll}
    worst = max(ratios.values())
    peak = max(rows[GATEWAY].hwm_mb, rows[GATEWAY_SPREAD].hwm_mb)
    return {"ratios": {name: round(value, 3) for name, value in ratios.items()}, "ratio": round(worst, 3),
            "ratio_max": MAX_RATIO, "ratio_pass": worst <= MAX_RATIO,
            "rss_mb": round(peak, 1), "rss_max_mb": MAX_RSS_MB, "rss_pass": peak < MAX_RSS_MB}


def _write_profile(source: Path, target: Path) -> None:
    with target.open("w", encoding="utf-8") as out:
        stats = pstats.Stats(str(source), stream=out)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)


def _run_all(args: argparse.Namespace, work: Path, logs: Path, fleet: Fleet) -> dict[str, list[Measured]]:
    """Every contender, ``rounds`` times in turn (the cProfile run once, last); measurements by name."""
    ports_file = work / "fleet.json"
    ports_file.write_text(json.dumps({"host": HOST, "ports": fleet.ports}), "utf-8")
    config = write_config(work / "gateway", HOST, fleet.ports)
    contenders = _contenders(args, ports_file, config)
    profiled = [Contender("gateway (cProfile)", [sys.executable, "-m", "bench.gateway_child", "--profile",
                                                 str(work / "gateway.pstats"), str(config)], LOOP)]
    measured: dict[str, list[Measured]] = {}
    for round_no in range(1, args.rounds + 1):
        for contender in contenders + (profiled if args.profile and round_no == args.rounds else []):
            print(f"round {round_no}/{args.rounds}: {contender.name}: {args.instruments} readers, "
                  f"warm-up {args.warmup:g} s, window {args.seconds:g} s ...", flush=True)
            log_name = contender.name.replace(" ", "-").replace("(", "").replace(")", "") + ".log"
            with (logs / log_name).open("w") as log:
                row = measure(contender.name, contender.command, fleet, warmup_s=args.warmup,
                              seconds=args.seconds, log=log, results=args.results)
            measured.setdefault(contender.name, []).append(row)
    if args.profile:
        _write_profile(work / "gateway.pstats", RESULTS / "gateway-profile.txt")
    return measured


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logs = RESULTS / "last-run"
    logs.mkdir(parents=True, exist_ok=True)
    started = datetime.now().astimezone()
    where = machine()
    with tempfile.TemporaryDirectory(prefix="kuaijian-bench-") as tmp, (logs / "fleet.log").open("w") as fleet_log:
        try:
            fleet = Fleet(args.instruments, HOST, fleet_log)
            try:
                measured = _run_all(args, Path(tmp), logs, fleet)
            finally:
                fleet.close()
        except BenchError as exc:
            print(f"bench failed: {exc} (logs in {logs})", file=sys.stderr)
            return 1
    rows = {name: _median(runs) for name, runs in measured.items()}
    contenders = _contenders(args, Path(), Path())  # names and references only
    contenders += [Contender(name, [], LOOP) for name in rows if name not in {c.name for c in contenders}]
    print(f"\nmedian of {args.rounds} round(s) by CPU per poll; peak RSS: the highest of the rounds")
    print(_table(rows, contenders))
    verdict = _verdict(rows)
    cpu_verdict = "n/a (results handled)" if args.results else "PASS" if verdict["ratio_pass"] else "FAIL"
    print(f"\ngateway CPU per poll: {verdict['ratio']}x the bare loop at worst (bar {MAX_RATIO}x): {cpu_verdict}")
    print(f"gateway peak RSS: {verdict['rss_mb']} MB (bar < {MAX_RSS_MB:g} MB): "
          f"{'PASS' if verdict['rss_pass'] else 'FAIL'}")
    if args.results:
        handled = {name: rows[name].other_requests for name in (GATEWAY, GATEWAY_SPREAD)}
        print(f"--results {args.results}: the gateway also read and acked results (requests besides polls: "
              f"{handled}) and sealed and committed each; the bare loop does not, so the CPU bar is for idle runs")
    report = {"started_at": started.isoformat(timespec="seconds"), "machine": where,
              "python": sys.version.split()[0], "settings": vars(args),
              "summary": [{**rows[c.name].as_dict(), "ratio_to": c.reference,
                           "ratio": round(rows[c.name].cpu_ms_per_poll / rows[c.reference].cpu_ms_per_poll, 3)}
                          for c in contenders],
              "verdict": verdict,
              "rounds": {name: [row.as_dict() for row in runs] for name, runs in measured.items()}}
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"written {RESULTS / 'latest.json'}" + (f" and {RESULTS / 'gateway-profile.txt'}" if args.profile else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
