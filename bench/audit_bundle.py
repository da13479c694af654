"""Bundles for the audit benchmark: one process per gateway chain writes it, a cache keeps it between runs.

A bundle of N envelopes holds ``GATEWAYS`` full chains of N / ``GATEWAYS`` envelopes (``bench/envelopes.py``
results, JCS lines), chain after chain. It is kept under ``<cache>/<N>-<digest>/``, the digest being that
of the code and data that make it, beside its ``.tar.gz`` and its first tenth; a later run with the same
N and the same code reuses it.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import tarfile
from pathlib import Path

from bench.envelopes import VECTOR, Chain
from protocols.envelope import b64url_decode, key_id

GATEWAYS = 4
ROOT = Path(__file__).resolve().parents[1]
SOURCES = (ROOT / "bench" / "audit_bundle.py", ROOT / "bench" / "envelopes.py", ROOT / "firmware_sim" / "enzyme" / "_encoder.py",
           VECTOR)
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kuaijian-bench" / "audit"


def _write_chain(part: str, gateway: str, count: int) -> str:
    """Sign ``count`` envelopes of a fresh chain into ``part``; its public key (base64url)."""
    chain = Chain(gateway)
    with open(part, "wb") as out:
        for line in chain.lines(count):
            out.write(line + b"\n")
    return chain.public_key


def _write_meta(out: Path, keys: list[dict[str, object]], count: int) -> None:
    (out / "keys.json").write_text(json.dumps(keys), "utf-8")
    manifest = {"format": "kuaijian-bundle/1", "created_at": "2026-12-01T00:00:00+00:00",
                "range": {"from": None, "to": None}, "sites": ["bench"], "counts": {"envelopes": count}}
    (out / "manifest.json").write_text(json.dumps(manifest), "utf-8")


def write_bundle(out: Path, count: int, cores: int) -> Path:
    """A full-range bundle of ``count`` envelopes (rounded down to whole chains), chains signed on ``cores``."""
    out.mkdir(parents=True)
    per_chain = count // GATEWAYS
    gateways = [f"gw-bench-{i}" for i in range(GATEWAYS)]
    parts = [str(out / f"part-{i}") for i in range(GATEWAYS)]
    with multiprocessing.get_context("spawn").Pool(min(cores, GATEWAYS)) as pool:
        publics = pool.starmap(_write_chain, [(p, g, per_chain) for p, g in zip(parts, gateways)])
    with (out / "envelopes.jsonl").open("wb") as lines:
        for part in parts:
            with open(part, "rb") as source:
                shutil.copyfileobj(source, lines, 1 << 20)
            os.unlink(part)
    _write_meta(out, [{"gateway": g, "kid": key_id(b64url_decode(p)), "public_key": p, "valid_from": None,
                       "revoked_at": None} for g, p in zip(gateways, publics)], per_chain * GATEWAYS)
    return out


def write_prefix(bundle: Path, out: Path, count: int) -> Path:
    """The first ``count`` lines of ``bundle`` as a bundle of its own (chains of the first gateways)."""
    out.mkdir()
    with (bundle / "envelopes.jsonl").open("rb") as source, (out / "envelopes.jsonl").open("wb") as target:
        for _, line in zip(range(count), source):
            target.write(line)
    _write_meta(out, json.loads((bundle / "keys.json").read_text("utf-8")), count)
    return out


def _digest() -> str:
    hashed = hashlib.sha256()
    for source in SOURCES:
        hashed.update(source.read_bytes())
    return hashed.hexdigest()[:12]


def cached_bundles(cache: Path, count: int, cores: int) -> tuple[Path, Path, Path]:
    """(bundle, its .tar.gz, its first tenth) of ``count`` envelopes, from ``cache`` or written there first."""
    home = cache / f"{count}-{_digest()}"
    if not (home / "done").exists():
        shutil.rmtree(home, ignore_errors=True)
        print(f"writing a bundle of {count} envelopes on {cores} core(s) into {home} ...", flush=True)
        bundle = write_bundle(home / "bundle", count, cores)
        write_prefix(bundle, home / "tenth", count // GATEWAYS * GATEWAYS // 10)
        with tarfile.open(home / "bundle.tar.gz", "w:gz", compresslevel=6) as tar:
            tar.add(bundle, arcname="bundle")
        (home / "done").touch()
    else:
        print(f"reusing the bundle of {count} envelopes in {home}", flush=True)
    return home / "bundle", home / "bundle.tar.gz", home / "tenth"
