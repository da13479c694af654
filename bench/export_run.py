"""The export half of ``python bench/run.py audit``: ``kuaijian audit export`` of a LIMS database of N and N/10
envelopes against a bare SQLite loop writing the same rows.

The databases are migrated SQLite LIMS files filled through the LIMS's own in-process ingest
(``lims_api.ingest.service.store_batch``, batches of 1,000 lines: parse, signature, chain, insert) with
the verify benchmark's bundle and its first tenth, then the LIMS's log sequencer (``run_tree_head``) signs
one tree head over them, so the export also writes an inclusion proof per envelope; they are kept beside
that bundle in the cache. Each run
exports a copy (an export appends to the audit log). The reference, run the same way in a subprocess,
is ``sqlite3`` alone: ``SELECT raw_text FROM envelopes ORDER BY gateway_id, seq`` written out line by line.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.proctree import sampled

BATCH = 1000
BARE = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
with open(sys.argv[2], "wb") as out:
    for (text,) in connection.execute("SELECT raw_text FROM envelopes ORDER BY gateway_id, seq"):
        out.write(text.encode("utf-8") + b"\\n")
"""


def _envelope_rows(lines: list[bytes]) -> list[dict[str, Any]]:
    """The ``envelopes`` rows of ``lines`` as the ingest writes them (parsed, hashed, columns extracted)."""
    from lims_api.ingest.checks import check_line, query_columns

    now = datetime.now(UTC)
    rows = []
    for line in lines:
        c = check_line(line.rstrip(b"\n").decode("utf-8"))
        rows.append({"gateway_id": c.gateway, "seq": c.seq, "hash": c.hash, "prev": c.prev, "kid": c.kid,
                     "raw_text": c.raw_text, "stored_at": now, **query_columns(c)})
    return rows


def _batches(path: Path) -> Iterator[list[bytes]]:
    with path.open("rb") as lines:
        while batch := list(itertools.islice(lines, BATCH)):
            yield batch


def fill(db: Path, bundle: Path, direct: bool = False) -> None:
    """A migrated SQLite LIMS at ``db`` holding ``bundle``'s envelopes, enrolled and stored as the LIMS does;
    ``direct``: rows inserted straight into ``envelopes`` (no signature, chain or flag step), one process per core
    parsing."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from bench.envelopes import SITE
    from lims_api.core.db import make_engine
    from lims_api.core.migrate import init_db
    from lims_api.ingest.models import StoredEnvelope
    from lims_api.ingest.service import store_batch
    from lims_api.people.enrolment import enrol_gateway
    from lims_api.people.schemas import EnrolRequest

    partial = db.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    url = f"sqlite:///{partial}"
    init_db(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        for key in json.loads((bundle / "keys.json").read_text("utf-8")):
            enrol_gateway(session, EnrolRequest(gateway=key["gateway"], site=SITE, public_key=key["public_key"]), now)
        session.commit()
        if direct:
            with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:
                for rows in pool.imap(_envelope_rows, _batches(bundle / "envelopes.jsonl")):
                    session.execute(insert(StoredEnvelope), rows)
            session.commit()
        for batch in () if direct else _batches(bundle / "envelopes.jsonl"):
            answer = store_batch(session, b"".join(batch), None, now)
            refused = [r for r in answer.results if r.status != "stored"]
            if refused:
                raise RuntimeError(f"the LIMS refused a bench envelope: {refused[0]}")
    engine.dispose()
    sign_log(partial)
    partial.rename(db)


def sign_log(db: Path) -> None:
    """Sequence the stored envelopes into the Merkle log and sign its head, as the LIMS's scheduler does."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy.orm import Session

    from lims_api.audit.merkle_log import run_tree_head
    from lims_api.core.db import make_engine

    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        run_tree_head(session, Ed25519PrivateKey.generate(), datetime.now(UTC))
    engine.dispose()


def _database(home: Path, name: str, bundle: Path, direct: bool) -> Path:
    db = home / f"{name}{'-direct' if direct else ''}.sqlite3"
    if not db.exists():
        print(f"filling {db} {'directly' if direct else 'through the LIMS ingest'} ...", flush=True)
        fill(db, bundle, direct)
    return db


def _measure(db: Path, work: Path, count: int) -> dict[str, dict[str, Any]]:
    """The export and the bare loop over a copy of ``db``."""
    copy = work / "export.sqlite3"
    shutil.copyfile(db, copy)
    kuaijian = str(Path(sys.executable).with_name("kuaijian"))
    out = work / "exported"
    shutil.rmtree(out, ignore_errors=True)
    export = sampled([kuaijian, "audit", "export", "--db", f"sqlite:///{copy}", "--out", str(out)])
    if f"exported {count} envelope(s)" not in export.output:
        raise RuntimeError(f"export wrote something else: {export.output[-500:]}")
    bare = sampled([sys.executable, "-c", BARE, str(copy), str(work / "bare.jsonl")])
    if (work / "bare.jsonl").read_bytes() != (out / "envelopes.jsonl").read_bytes():
        raise RuntimeError("the bare loop and the export wrote different envelopes.jsonl")
    copy.unlink()
    return {"bare reference": {"envelopes": count, **bare.figures(count)},
            "export": {"envelopes": count, **export.figures(count)}}


def run(home: Path, bundle: Path, tenth: Path, work: Path, count: int, direct: bool = False) -> dict[str, Any]:
    """Export figures at N/10 and N envelopes (databases cached in ``home``), each beside its bare loop."""
    sizes = {count // 10: _database(home, "lims-tenth", tenth, direct), count: _database(home, "lims", bundle, direct)}
    report: dict[str, Any] = {}
    for size, db in sizes.items():
        print(f"export of {size} envelopes ...", flush=True)
        rows = _measure(db, work, size)
        bare = rows["bare reference"]
        for name, row in rows.items():
            row["rate_ratio"] = round(row["per_s"] / bare["per_s"], 2)
            row["cpu_ratio"] = round(row["cpu_us"] / bare["cpu_us"], 2)
            print(f"  {name:16} {row['per_s']:>9,.0f} env/s  {row['cpu_us']:>6.1f} µs CPU/env "
                  f"({row['cpu_ratio']}x)  peak RSS {row['peak_rss_tree_mb']} MB, PSS {row['peak_pss_tree_mb']} MB")
        report[str(size)] = rows
    return report
