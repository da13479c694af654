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

import json
import shutil
import sys
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


def fill(db: Path, bundle: Path) -> None:
    """A migrated SQLite LIMS at ``db`` holding ``bundle``'s envelopes, enrolled and stored as the LIMS does."""
    from sqlalchemy.orm import Session

    from bench.envelopes import SITE
    from lims_api.core.db import make_engine
    from lims_api.core.migrate import init_db
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
        with (bundle / "envelopes.jsonl").open("rb") as lines:
            while batch := b"".join(line for _, line in zip(range(BATCH), lines)):
                answer = store_batch(session, batch, None, now)
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


def _database(home: Path, name: str, bundle: Path) -> Path:
    db = home / f"{name}.sqlite3"
    if not db.exists():
        print(f"filling {db} through the LIMS's ingest ...", flush=True)
        fill(db, bundle)
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


def run(home: Path, bundle: Path, tenth: Path, work: Path, count: int) -> dict[str, Any]:
    """Export figures at N/10 and N envelopes (databases cached in ``home``), each beside its bare loop."""
    sizes = {count // 10: _database(home, "lims-tenth", tenth), count: _database(home, "lims", bundle)}
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
