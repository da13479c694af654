"""The room page's HTML is pinned: a rich set of view models rendered as the page and as live-event fragments.

``tests/data/room-html-golden.json`` was written by the jinja2 templates the page used before
(``gateway/room/templates/room.html`` and ``_parts.html`` at commit cf19a9f, autoescape on), for the cases
below; the plain-Python rendering (``gateway.room._fragments`` and ``_html``) must give the same HTML,
compared after one normalisation only: a run of whitespace that holds a line break (with the indentation
around it) becomes one line break. Spaces within a line are compared exactly, and whitespace may not appear
or vanish anywhere; only the layout of lines may differ (HTML reads any whitespace run as one space, the page
has no ``<pre>`` or ``<textarea>``, and no attribute value holds a line break).
Values carry ``<script>``, ``&`` and quotes to prove every interpolated value is escaped.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.label_store import QueuedLabel
from gateway.labels import SampleLabel
from gateway.room._views import InstrumentCard, ResultRow
from gateway.technicians import Roster, Technician

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "room-html-golden.json"
EVIL = "<script>alert(\"x\")</script> & 'q'"
SHORT_EVIL = "<b>\"x\"&'y'</b>"
"""Label fields are at most 32 characters."""


def rows() -> dict[str, ResultRow]:
    """Result rows: each verdict, with and without channel, labelled or not, flags known and other."""
    return {
        "positive": ResultRow(seq=41, time="05-06 09:12:03", instrument="ei-01", channel="3", sample_name="韭菜",
                              sample_detail="vegetable · B-03 · 6901234567892 · S-7", item="有机磷和氨基甲酸酯类",
                              value="62.5 %", verdict="positive", operator="tech-li", unlabelled=False,
                              flag_keys=["kit_expired", "calibration_overdue"], other_flags=["retest"]),
        "negative_unlabelled": ResultRow(seq=40, time="05-06 09:02:00", instrument="ei-01", channel=None,
                                         sample_name=None, sample_detail="", item="克伦特罗", value="1.2 µg/kg",
                                         verdict="negative", operator="ei-01", unlabelled=True,
                                         flag_keys=["unlabelled"]),
        "invalid_control": ResultRow(seq=39, time="05-06 08:59:59", instrument="pesticide-2", channel="A&B",
                                     sample_name="阴性对照", sample_detail="other", item="有机磷", value="—",
                                     verdict="invalid", operator="T-0007", unlabelled=True,
                                     flag_keys=["unlabelled", "control", "operator_not_signed_in"],
                                     other_flags=["plausibility:drift", "x"]),
        "empty_name_with_detail": ResultRow(seq=2, time="01-01 00:00:00", instrument="ei-02", channel="12",
                                            sample_name="", sample_detail="meat · A-1", item="瘦肉精", value="0 ppb",
                                            verdict="negative", operator="tech-wang", unlabelled=False),
        "escaped": ResultRow(seq=1, time=EVIL, instrument=EVIL, channel=EVIL, sample_name=EVIL, sample_detail=EVIL,
                             item=EVIL, value=EVIL, verdict="invalid", operator=EVIL, unlabelled=False,
                             flag_keys=["kit_expired"], other_flags=[EVIL, "a&b"]),
    }


def label(instrument: str, name: str, **fields: Any) -> SampleLabel:
    return SampleLabel(instrument=instrument, name=name, category=fields.pop("category", "vegetable"),
                       operator=fields.pop("operator", "tech-li"), **fields)


def cards() -> dict[str, list[InstrumentCard]]:
    """Instrument lists: none, and cards in every state with queued labels of every kind."""
    queued = [
        QueuedLabel(7, "2024-05-06T09:00:00+08:00", label("ei-01", "菠菜", stall="A-12")),
        QueuedLabel(8, "2024-05-06T09:01:00+08:00", label("ei-01", "阴性对照", channel=2, control="negative_control")),
        QueuedLabel(9, "2024-05-06T09:02:00+08:00", label("ei-01", "阳性对照", channel="slot-1",
                                                          control="positive_control", stall="B-1")),
        QueuedLabel(10, "2024-05-06T09:03:00+08:00", label("ei-01", "空白", channel=0, control="blank")),
    ]
    evil = QueuedLabel(11, "2024-05-06T09:04:00+08:00", label(SHORT_EVIL, SHORT_EVIL, channel=SHORT_EVIL,
                                                                           stall=SHORT_EVIL, operator=SHORT_EVIL))
    return {
        "none": [],
        "every_state": [
            InstrumentCard(id="ei-01", driver="enzyme_inhibition", state="offline", results=12,
                           last_result="05-06 09:12:03", queued=queued, calibration_due="2001-01-01",
                           calibration="overdue", last_error="device /dev/ttyUSB0 absent"),
            InstrumentCard(id="ei-02", driver="enzyme_inhibition", state="online", results=0, last_result=None,
                           queued=[]),
            InstrumentCard(id="gc-03", driver="colloidal_gold", state="error", results=3,
                           last_result="05-06 08:00:00", queued=queued[:1], calibration_due="2024-05-20",
                           calibration="due_soon", last_error="driver crashed: ValueError"),
            InstrumentCard(id="gc-04", driver="colloidal_gold", state="online", results=1, last_result=None,
                           queued=[], calibration_due="2099-12-31", calibration="ok"),
        ],
        "escaped": [InstrumentCard(id=EVIL, driver=EVIL, state="error", results=1, last_result=EVIL, queued=[evil],
                                   calibration_due=EVIL, calibration="overdue", last_error=EVIL)],
    }


FULL_VALUES = {"instrument": "ei-01", "channel": "1", "control": "", "name": "", "category": "", "stall": "",
               "supplier": "", "origin": "", "barcode": "", "sample_id": "", "operator": "tech-li",
               "kit_lot": "EI-2411", "kit_expiry": "2099-12-31"}
TECHS = [Technician(id="T-0001", name="李<检测>", pin_hash="h1"), Technician(id="T-0002", name="无PIN", pin_hash=None),
         Technician(id="T-&\"3", name=EVIL, pin_hash="h3")]


def pages() -> dict[str, dict[str, Any]]:
    """Keyword arguments of ``gateway.room._html.page`` (with ``lang`` added per case)."""
    all_rows, all_cards = list(rows().values()), cards()["every_state"]
    base: dict[str, Any] = dict(site_name="七星岗农贸市场", gateway_id="gw-cq-001", sign_in_on=False, recent_results=30,
                                instruments=["ei-01", "ei-02", "gc-03"], values=FULL_VALUES, errors={}, rows=[],
                                cards=[], notice=None, signed_in=None, sign_in_error=None, roster=None)
    errors = {"instrument": "err_instrument", "channel": "err_channel", "control": "err_control",
              "name": "err_required", "category": "err_category", "barcode": "err_too_long", "operator": "err_text",
              "kit_lot": "err_kit", "kit_expiry": "err_date", "stall": "err_too_long"}
    bad_values = {**FULL_VALUES, "instrument": EVIL, "channel": EVIL, "control": EVIL, "name": EVIL, "barcode": EVIL,
                  "stall": "A&B", "kit_expiry": "31/12/2099", "operator": "'x'"}
    return {
        "empty": base,
        "full": {**base, "rows": all_rows, "cards": all_cards, "site_name": EVIL, "gateway_id": EVIL},
        "notice_any_channel": {**base, "notice": QueuedLabel(7, "t", label("ei-01", "菠菜<1>")), "cards": all_cards},
        "notice_channel": {**base, "notice": QueuedLabel(8, "t", label("ei-01", SHORT_EVIL, channel=3)),
                           "rows": all_rows[:1]},
        "form_errors": {**base, "values": bad_values, "errors": errors, "instruments": ["ei-01", EVIL]},
        "form_choices": {**base, "values": {**FULL_VALUES, "channel": "12", "control": "blank", "category": "fruit",
                                            "instrument": "ei-02", "kit_lot": EVIL}},
        "form_any_channel": {**base, "values": {**FULL_VALUES, "channel": "any", "control": "sample",
                                                "category": "aquatic"}},
        "form_empty_channel": {**base, "values": {**FULL_VALUES, "channel": ""}},
        "form_values_missing": {**base, "values": {}, "instruments": []},
        "sign_in_no_roster": {**base, "sign_in_on": True},
        "sign_in_empty_roster": {**base, "sign_in_on": True, "roster": Roster(site="s", issued_at="i")},
        "sign_in_roster": {**base, "sign_in_on": True, "roster": Roster(site="s", issued_at="i", technicians=TECHS)},
        "sign_in_failed": {**base, "sign_in_on": True, "sign_in_error": "err_sign_in",
                           "roster": Roster(site="s", issued_at="i", technicians=TECHS)},
        "signed_in": {**base, "sign_in_on": True, "signed_in": TECHS[0],
                      "values": {**FULL_VALUES, "operator": "T-0001"},
                      "roster": Roster(site="s", issued_at="i", technicians=TECHS), "rows": all_rows[2:]},
        "signed_in_escaped": {**base, "sign_in_on": True, "signed_in": TECHS[2], "recent_results": 5,
                              "roster": Roster(site="s", issued_at="i", technicians=TECHS)},
    }


LANGS = ("zh", "en")


def normalise(html: str) -> str:
    """Each whitespace run holding a line break as one line break (see the module's docstring)."""
    return re.sub(r"[ \t]*\n\s*", "\n", html)


def golden() -> dict[str, str]:
    return json.loads(GOLDEN.read_text("utf-8"))


def test_golden_covers_every_case() -> None:
    want = {f"{kind}/{name}/{lang}" for lang in LANGS
            for kind, names in (("row", rows()), ("cards", cards()), ("page", pages())) for name in names}
    assert set(golden()) == want


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", list(rows()))
def test_result_row_fragment_is_unchanged(name: str, lang: str) -> None:
    from gateway.room._fragments import result_row

    assert normalise(result_row(rows()[name], lang)) == normalise(golden()[f"row/{name}/{lang}"])


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", list(cards()))
def test_instrument_list_fragment_is_unchanged(name: str, lang: str) -> None:
    from gateway.room._fragments import instrument_list

    assert normalise(instrument_list(cards()[name], lang)) == normalise(golden()[f"cards/{name}/{lang}"])


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", list(pages()))
def test_page_is_unchanged(name: str, lang: str) -> None:
    from gateway.room._html import page

    assert normalise(page(lang=lang, **pages()[name])) == normalise(golden()[f"page/{name}/{lang}"])


def test_escaping_holds_in_the_golden_pages() -> None:
    text = "".join(golden().values())
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;" in text


def test_the_gateway_loads_no_template_engine() -> None:
    """jinja2 costs the daemon ~2 MB of memory; only the LIMS uses it."""
    code = "import gateway.room, gateway.room._app, gateway.daemon, sys; print('jinja2' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "False"
