"""``make bench``: the gateway, ingest, audit and backlog-drain benchmarks, each beside its reference in the same run.

Usage: ``python bench/run.py [gateway|ingest|audit|drain] [options]``. With a name, only that benchmark
runs, with its own options (``--help`` lists them); without one, each runs with its defaults
(``--quick`` passed to each: smoke sizes). Method and figures: docs/benchmarks.md. Reports go to
bench/results/ (``latest.json`` for the gateway, ``<name>-latest.json`` and a dated copy otherwise).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

from bench import audit_run, drain_run, gateway_run, ingest_run  # noqa: E402
from bench.procstat import machine  # noqa: E402

RESULTS = ROOT / "bench" / "results"
Bench = Callable[[list[str], Path, Path], dict[str, Any]]
BENCHES: dict[str, Bench] = {"ingest": ingest_run.main, "audit": audit_run.main, "drain": drain_run.main}


def _report(name: str, bench: Bench, argv: list[str]) -> int:
    logs = RESULTS / "last-run"
    logs.mkdir(parents=True, exist_ok=True)
    started = datetime.now().astimezone()
    where = machine()
    with tempfile.TemporaryDirectory(prefix=f"kuaijian-bench-{name}-") as tmp:
        try:
            report = bench(argv, Path(tmp), logs)
        except RuntimeError as exc:
            print(f"bench {name} failed: {exc} (logs in {logs})", file=sys.stderr)
            return 1
    report = {"started_at": started.isoformat(timespec="seconds"), "machine": where,
              "python": sys.version.split()[0], **report}
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    (RESULTS / f"{name}-latest.json").write_text(text, "utf-8")
    (RESULTS / f"{name}-{started.strftime('%Y%m%d-%H%M')}.json").write_text(text, "utf-8")
    print(f"written {RESULTS / f'{name}-latest.json'}")
    return 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "gateway":
        return gateway_run.main(argv[1:])
    if argv and argv[0] in BENCHES:
        return _report(argv[0], BENCHES[argv[0]], argv[1:])
    quick = ["--quick"] if "--quick" in argv else []
    status = gateway_run.main(argv)
    for name, bench in BENCHES.items():
        print(f"\n=== {name} ===", flush=True)
        status |= _report(name, bench, quick)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
