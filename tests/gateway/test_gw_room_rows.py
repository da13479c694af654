"""How the room page shows results: positive red, invalid marked, unlabelled and expired kit flagged."""

from __future__ import annotations

import asyncio
import re
from datetime import date

from msgspec.structs import replace
import httpx

from gateway.health import Health
from gateway.label_store import LabelBook
from gateway.labels import SampleLabel
from gateway.room import ResultFeed
from gateway.room._app import RoomContext, build_app
from gateway.sink import flag_calibration_overdue
from gateway.uplink_base import UplinkStats

from .conftest import GATEWAY_ID, now, result


def page_of(outbox, *, lang: str = "zh", calibration_due: date | None = None) -> str:
    """The page as served by the room app for this outbox (ASGI in this thread: SQLite stays on it)."""
    health = Health(GATEWAY_ID, "http", UplinkStats())
    health.add_instrument("ei-01", "enzyme_inhibition", enabled=True, calibration_due=calibration_due)
    app = build_app(RoomContext(gateway_id=GATEWAY_ID, site_name="七星岗农贸市场", health=health, outbox=outbox,
                                labels=LabelBook(outbox, now), feed=ResultFeed()))

    async def fetch() -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://room") as client:
            response = await client.get(f"/?lang={lang}")
            assert response.status_code == 200
            return response.text

    return asyncio.run(fetch())


def row(page: str, seq: int) -> str:
    match = re.search(rf'<tr id="r{seq}".*?</tr>', page, re.S)
    assert match, f"no row for seq {seq}"
    return match.group(0)


def test_rows_mark_verdicts_labels_and_kit(outbox):
    book = LabelBook(outbox, now)
    book.queue(SampleLabel(instrument="ei-01", name="韭菜", category="vegetable", operator="tech-li", stall="B-03",
                           kit_lot="EI-2001", kit_expiry=date(2001, 1, 1)))
    outbox.append(result(60), "k1", book.bind)  # positive, labelled, kit expired
    outbox.append(replace(result(2), verdict="invalid"), "k2", book.bind)
    outbox.append(result(3), "k3", book.bind)
    page = page_of(outbox)
    positive, invalid, negative = row(page, 1), row(page, 2), row(page, 3)
    assert "verdict-positive" in positive and ">阳性<" in positive and "韭菜" in positive
    assert "试剂过期" in positive and "is-unlabelled" not in positive and "tech-li" in positive
    assert "verdict-invalid" in invalid and ">无效<" in invalid and "未标记" in invalid
    assert ">阴性<" in negative and "is-unlabelled" in negative
    assert page.index('id="r3"') < page.index('id="r1"')  # newest first
    english = page_of(outbox, lang="en")
    assert ">POSITIVE<" in row(english, 1) and ">invalid<" in row(english, 2) and "unlabelled" in row(english, 3)


def test_result_text_is_escaped(outbox):
    outbox.append(replace(result(1), operator="<script>alert(1)</script>"), "k1")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row(page_of(outbox), 1)


def card(page: str) -> str:
    match = re.search(r'<article class="card" id="instrument-ei-01".*?</article>', page, re.S)
    assert match, "no card for ei-01"
    return match.group(0)


def test_overdue_calibration_is_warned_on_the_card_and_flagged_on_its_results(outbox):
    lapsed = date(2001, 1, 1)
    outbox.append(flag_calibration_overdue(result(1), lapsed), "k1")
    page = page_of(outbox, calibration_due=lapsed)
    warned = card(page)
    assert 'data-calibration="overdue"' in warned and "校准有效期至" in warned and "2001-01-01" in warned
    assert "⚠" in warned and "校准已过期" in warned
    assert "校准过期" in row(page, 1)
    in_date = card(page_of(outbox, lang="en", calibration_due=date(2099, 12, 31)))
    assert 'data-calibration="ok"' in in_date and "2099-12-31" in in_date and "overdue" not in in_date
    assert "校准" not in card(page_of(outbox))  # none configured: nothing shown
