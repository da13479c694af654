"""``python bench/run.py audit``: ``kuaijian audit verify`` of a large bundle against the bare verify loop, and
``kuaijian audit export`` against a bare SQLite loop (``bench/export_run.py``).

The bare reference is a plain loop of json.loads + JCS (rfc8785) + Ed25519 verify, one process per core
over its share of the lines, run in the same invocation; the verify run is the real CLI in a subprocess,
its process tree sampled from /proc for CPU and resident memory. Bundles: ``bench/audit_bundle.py``.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench import export_run
from bench.audit_bundle import DEFAULT_CACHE, GATEWAYS, cached_bundles
from bench.proctree import sampled

MAX_RSS_MB = 150.0
ROWS = ("jobs1", "default", "tar", "tenth")


def _bare_share(path: str, share: int, shares: int, keys: dict[str, bytes]) -> tuple[int, float, float]:
    """The bare loop over every ``shares``-th line from ``share``: (envelopes, CPU s, wall s)."""
    import rfc8785
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = {kid: Ed25519PublicKey.from_public_bytes(raw) for kid, raw in keys.items()}
    cpu, wall, done = time.process_time(), time.monotonic(), 0
    with open(path, "rb") as lines:
        for number, line in enumerate(lines):
            if number % shares != share:
                continue
            envelope = json.loads(line)
            sig = envelope.pop("sig")
            public[envelope["kid"]].verify(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)),
                                           rfc8785.dumps(envelope))
            done += 1
    return done, time.process_time() - cpu, time.monotonic() - wall


def bare_reference(bundle: Path, cores: int) -> dict[str, float]:
    """The bare loop on every core at once: envelopes/s (wall) and CPU µs per envelope."""
    keys = {k["kid"]: base64.urlsafe_b64decode(k["public_key"] + "=" * (-len(k["public_key"]) % 4))
            for k in json.loads((bundle / "keys.json").read_text("utf-8"))}
    with multiprocessing.get_context("spawn").Pool(cores) as pool:
        shares = pool.starmap(_bare_share, [(str(bundle / "envelopes.jsonl"), i, cores, keys) for i in range(cores)])
    done = sum(s[0] for s in shares)
    return {"envelopes": done, "per_s": done / max(s[2] for s in shares),
            "cpu_us": sum(s[1] for s in shares) / done * 1e6}


def measure_verify(bundle: Path, count: int, jobs: int) -> dict[str, Any]:
    """``kuaijian audit verify --jobs`` in a subprocess: envelopes/s, CPU µs per envelope, peak tree RSS and PSS."""
    command = [str(Path(sys.executable).with_name("kuaijian")), "audit", "verify", str(bundle), "--jobs", str(jobs)]
    run = sampled(command)
    return {"envelopes": count, "jobs": jobs, **run.figures(count), "summary": run.output.strip().splitlines()[0]}


def main(argv: list[str], work: Path, logs: Path) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench/run.py audit", description=__doc__)
    parser.add_argument("--envelopes", type=int, default=100_000, help="bundle size (default 100000)")
    parser.add_argument("--quick", action="store_true", help="smoke size: 4000 envelopes")
    parser.add_argument("--rows", default=",".join(ROWS),
                        help=f"verify runs to make, of {','.join(ROWS)} (default: all)")
    parser.add_argument("--no-export", action="store_true", help="skip the export benchmark")
    parser.add_argument("--direct-fill", action="store_true",
                        help="fill the export databases by inserting the envelope rows directly (no ingest checks)")
    parser.add_argument("--bare-on-tenth", action="store_true",
                        help="measure the bare rate over the bundle's first tenth only (a rate; saves time at 1M)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help=f"where generated bundles and databases are kept between runs (default {DEFAULT_CACHE})")
    args = parser.parse_args(argv)
    count = 4000 if args.quick else args.envelopes
    cores = os.cpu_count() or 1
    bundle, archive, tenth = cached_bundles(args.cache, count, cores)
    total = count // GATEWAYS * GATEWAYS
    rows: dict[str, dict[str, Any]] = {}
    print("bare reference ...", flush=True)
    rows["bare reference"] = bare_reference(tenth if args.bare_on_tenth else bundle, cores)
    runs = {"jobs1": ("verify --jobs 1", bundle, total, 1),
            "default": (f"verify (default, {cores} jobs)", bundle, total, cores),
            "tar": (f"verify .tar.gz ({cores} jobs)", archive, total, cores),
            "tenth": (f"verify 1/10 of the bundle ({cores} jobs)", tenth, total // 10, cores)}
    for key in filter(None, args.rows.split(",")):
        name, path, size, jobs = runs[key]
        print(f"{name} ...", flush=True)
        rows[name] = measure_verify(path, size, jobs)
    bare = rows["bare reference"]
    for name, row in rows.items():
        row["rate_ratio"] = round(row["per_s"] / bare["per_s"], 2)
        row["cpu_ratio"] = round(row["cpu_us"] / bare["cpu_us"], 2)
        memory = f", peak RSS {row['peak_rss_tree_mb']} MB, PSS {row['peak_pss_tree_mb']} MB " \
            f"(parent RSS {row['peak_rss_parent_mb']})" \
            if "peak_rss_tree_mb" in row else ""
        print(f"{name:36} {row['per_s']:>9,.0f} env/s ({row['rate_ratio']}x bare)  "
              f"{row['cpu_us']:>6.0f} µs CPU/env ({row['cpu_ratio']}x){memory}")
    report: dict[str, Any] = {"envelopes": count, "cores": cores, "max_rss_mb": MAX_RSS_MB, "rows": rows}
    if not args.no_export:
        report["export"] = export_run.run(bundle.parent, bundle, tenth, work, total, args.direct_fill)
    return report
