"""Server CPU to render the market board and the public notice for a day of N results, beside a bare page.

Each site's day is written straight into a migrated SQLite LIMS (N sample results, one in twenty
positive with its case, one in fifty invalid, realistic ~1.5 KB envelope texts), then the real app
renders ``/board/{site}`` (admin token) and ``/public/sites/{site}`` in-process. The reference, in the
same run, is a bare page: one SELECT of 100 rows and a minimal Jinja table, no app. Usage:
``python bench/page_render.py [--days 100,1000,10000] [--repeat 5]``; prints CPU ms per render (median)
and the ratio to the reference. Method and figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402
from jinja2 import Template  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lims_api.app import create_app  # noqa: E402
from lims_api.core.db import make_engine  # noqa: E402
from lims_api.core.migrate import init_db  # noqa: E402
from lims_api.core.settings import LimsSettings  # noqa: E402
from lims_api.followup.models import Case  # noqa: E402
from lims_api.ingest.models import Gateway, Site, StoredEnvelope  # noqa: E402

TOKEN = "bench-admin-token-0123456789"
ZONE = timezone(timedelta(hours=8))
BARE = Template("<table>{% for r in rows %}<tr><th>{{ r[0] }}</th><td>{{ r[1] }}</td><td>{{ r[2] }}</td>"
                "<td>{{ r[3] }}</td></tr>{% endfor %}</table>")


def _fill(engine: object, site_id: str, count: int) -> None:
    """``count`` results of today at ``site_id`` (one gateway), with cases for the positives."""
    now = datetime.now(ZONE).replace(hour=8, minute=0, second=0, microsecond=0)
    padding = "x" * 1400
    with Session(engine) as session:  # type: ignore[arg-type]
        session.add(Site(id=site_id, kind="market", name=f"市场 {site_id}"))
        session.flush()
        session.add(Gateway(id=f"gw-{site_id}", site_id=site_id))
        session.flush()
        rows = []
        for n in range(count):
            verdict = "positive" if n % 20 == 0 else "invalid" if n % 50 == 1 else "negative"
            tested = now + timedelta(seconds=n * 5 % 50_000)
            rows.append({"gateway_id": f"gw-{site_id}", "seq": n + 1, "hash": f"{n:064x}", "prev": f"{n:064x}",
                         "kid": "0" * 16, "raw_text": padding, "result_id": f"{site_id}-{n}", "site_id": site_id,
                         "tested_at": tested.astimezone(timezone.utc), "tested_offset_minutes": 480,
                         "tested_date": tested.date(), "verdict": verdict, "item": ("有机磷和氨基甲酸酯类", "克伦特罗")[n % 2],
                         "sample_name": f"青菜{n % 300}", "stall": f"A-{n % 40:02d}", "instrument_id": f"ei-0{n % 3}",
                         "channel": str(n % 4), "value": 12.5, "unit": "%", "cutoff": 50.0, "qc_control": "sample",
                         "stored_at": tested.astimezone(timezone.utc)})
        session.execute(insert(StoredEnvelope), rows)
        ids = session.execute(text("SELECT id, result_id FROM envelopes WHERE site_id = :s AND verdict = 'positive'"),
                              {"s": site_id}).all()
        session.add_all(Case(envelope_id=i, result_id=r, site_id=site_id, state="held", opened_at=now, updated_at=now)
                        for i, r in ids)
        session.commit()


def _cpu_ms(action: object, repeat: int) -> float:
    """Median CPU milliseconds of ``action()`` over ``repeat`` runs (after one warm-up run)."""
    action()  # type: ignore[operator]
    spent = []
    for _ in range(repeat):
        started = time.process_time()
        action()  # type: ignore[operator]
        spent.append((time.process_time() - started) * 1000)
    return statistics.median(spent)


def _bare(engine: object) -> None:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(text("SELECT sample_name, stall, item, verdict FROM envelopes ORDER BY id DESC LIMIT 100"))
        BARE.render(rows=list(rows))


def run(days: list[int], repeat: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="kj-bench-pages-") as folder:
        url = f"sqlite:///{Path(folder) / 'lims.sqlite3'}"
        init_db(url)
        engine = make_engine(url)
        for count in days:
            _fill(engine, f"site-{count}", count)
        settings = LimsSettings(database_url=url, admin_token=TOKEN, data_dir=Path(folder) / "data")
        figures: dict[str, object] = {"reference_ms": _cpu_ms(lambda: _bare(engine), repeat), "days": {}}
        with TestClient(create_app(settings)) as client:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            for count in days:
                pages = {"board": (f"/board/site-{count}", auth), "notice": (f"/public/sites/site-{count}", {})}
                measured = {}
                for name, (path, headers) in pages.items():
                    assert client.get(path, headers=headers).status_code == 200, path
                    measured[name] = _cpu_ms(lambda p=path, h=headers: client.get(p, headers=h), repeat)
                figures["days"][count] = measured  # type: ignore[index]
        engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Board and notice render CPU for a day of N results.")
    parser.add_argument("--days", default="100,1000,10000", help="results per day to measure (comma-separated)")
    parser.add_argument("--repeat", type=int, default=5, help="timed renders per page (median reported)")
    args = parser.parse_args(argv)
    figures = run([int(n) for n in args.days.split(",")], args.repeat)
    reference = float(figures["reference_ms"])  # type: ignore[arg-type]
    print(f"bare page (SELECT 100 rows + Jinja table): {reference:.2f} ms CPU")
    print(f"{'results/day':>12} {'board ms':>10} {'x bare':>7} {'notice ms':>10} {'x bare':>7}")
    for count, measured in figures["days"].items():  # type: ignore[union-attr]
        board, notice = measured["board"], measured["notice"]
        print(f"{count:>12} {board:>10.1f} {board / reference:>7.1f} {notice:>10.1f} {notice / reference:>7.1f}")
    out = Path(__file__).resolve().parent / "results" / "page_render.json"
    out.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
