"""``python bench/run.py audit``: ``kuaijian audit verify`` of a large bundle against the bare verify loop.

The bare reference is a plain loop of json.loads + JCS (rfc8785) + Ed25519 verify, one process per core
over its share of the lines, run in the same invocation; the verify run is the real CLI in a subprocess,
its process tree sampled from /proc for CPU and resident memory.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from bench.envelopes import Chain
from bench.proctree import rss_mb, tree
from protocols.envelope import b64url_decode, key_id

GATEWAYS = 4
MAX_RSS_MB = 150.0


def write_bundle(out: Path, count: int) -> Path:
    """A full-range bundle of ``count`` envelopes over ``GATEWAYS`` chains, written line by line."""
    out.mkdir(parents=True)
    chains = [Chain(f"gw-bench-{i}") for i in range(GATEWAYS)]
    with (out / "envelopes.jsonl").open("wb") as lines:
        for one in chains:
            for line in one.lines(count // GATEWAYS):
                lines.write(line + b"\n")
    keys = [{"gateway": c.gateway, "kid": key_id(b64url_decode(c.public_key)), "public_key": c.public_key,
             "valid_from": None, "revoked_at": None} for c in chains]
    (out / "keys.json").write_text(json.dumps(keys), "utf-8")
    manifest = {"format": "kuaijian-bundle/1", "created_at": "2026-12-01T00:00:00+00:00",
                "range": {"from": None, "to": None}, "sites": ["bench"],
                "counts": {"envelopes": count // GATEWAYS * GATEWAYS}}
    (out / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return out


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


def pss_mb(pids: list[int]) -> float:
    """Sum of proportional set sizes (shared pages split between their users), MB."""
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        total += next((int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0)
    return total / 1024


def measure_verify(bundle: Path, count: int, jobs: int) -> dict[str, Any]:
    """``kuaijian audit verify --jobs`` in a subprocess: envelopes/s, CPU µs per envelope, peak tree RSS."""
    command = [str(Path(sys.executable).with_name("kuaijian")), "audit", "verify", str(bundle), "--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = peak_pss = peak_parent = 0.0
    while proc.poll() is None and time.monotonic() - started < 3600:
        pids = tree(proc.pid)
        peak, peak_parent = max(peak, rss_mb(pids)), max(peak_parent, rss_mb([proc.pid]))
        peak_pss = max(peak_pss, pss_mb(pids))
        time.sleep(0.05)  # sampling interval of the memory probe, not a synchronisation
    output = proc.communicate(timeout=60)[0].decode()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"audit verify failed: {output[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"envelopes": count, "jobs": jobs, "per_s": count / wall, "cpu_us": cpu / count * 1e6,
            "peak_rss_tree_mb": round(peak, 1), "peak_pss_tree_mb": round(peak_pss, 1), "peak_rss_parent_mb": round(peak_parent, 1),
            "summary": output.strip().splitlines()[0]}


def _prefix(bundle: Path, out: Path, count: int) -> Path:
    """The first ``count`` lines of ``bundle`` as a bundle of its own (chains of the first gateways)."""
    out.mkdir()
    with (bundle / "envelopes.jsonl").open("rb") as source, (out / "envelopes.jsonl").open("wb") as target:
        for _, line in zip(range(count), source):
            target.write(line)
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    manifest["counts"]["envelopes"] = count
    (out / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    (out / "keys.json").write_bytes((bundle / "keys.json").read_bytes())
    return out


def main(argv: list[str], work: Path, logs: Path) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench/run.py audit", description=__doc__)
    parser.add_argument("--envelopes", type=int, default=100_000, help="bundle size (default 100000)")
    parser.add_argument("--quick", action="store_true", help="smoke size: 4000 envelopes")
    args = parser.parse_args(argv)
    count = 4000 if args.quick else args.envelopes
    cores = os.cpu_count() or 1
    print(f"writing a bundle of {count} envelopes ...", flush=True)
    bundle = write_bundle(work / "bundle", count)
    small = _prefix(bundle, work / "small", count // GATEWAYS * GATEWAYS // 10)
    archive = work / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname="bundle")
    rows: dict[str, dict[str, Any]] = {}
    print("bare reference ...", flush=True)
    rows["bare reference"] = bare_reference(bundle, cores)
    total = count // GATEWAYS * GATEWAYS
    for name, path, size, jobs in (
        ("verify --jobs 1", bundle, total, 1), (f"verify (default, {cores} jobs)", bundle, total, cores),
        (f"verify .tar.gz ({cores} jobs)", archive, total, cores),
        (f"verify 1/10 of the bundle ({cores} jobs)", small, total // 10, cores),
    ):
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
    return {"envelopes": count, "cores": cores, "max_rss_mb": MAX_RSS_MB, "rows": rows}
