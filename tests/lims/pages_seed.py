"""Seed data for the page tests (board, public notice, console): districts, sites, gateways, today's results.

Results carry operator, supplier, origin and barcode values the public pages must never show.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from .conftest import SITE, SigningGateway

ZONE = ZoneInfo("Asia/Shanghai")
MARKET_A = dict(SITE)
MARKET_B = {"id": "yz-market-08", "kind": "market", "name": "渝中区大坪农贸市场"}
SCHOOL_JB = {"id": "jb-school-01", "kind": "school", "name": "九龙坡区实验小学食堂"}
SECRETS = {"operator": "tech-王秘密", "supplier": "李四蔬菜批发-13800138000", "origin": "秘密产地",
           "barcode": "6909999999999"}
"""Values present in every seeded result that must never reach a public page."""


class Client(Protocol):
    def enrol(self, gateway: SigningGateway) -> Any: ...
    def ingest(self, *items: Any) -> Any: ...
    def district(self, district_id: str, name: str = ...) -> None: ...
    def place_site(self, site: dict[str, Any], district_id: str | None) -> None: ...


def local_now(minutes_ago: float = 0) -> str:
    """RFC 3339 local time (Asia/Shanghai) ``minutes_ago`` before now, capped at today's start."""
    now = datetime.now(ZONE)
    moment = max(now - timedelta(minutes=minutes_ago), now.replace(hour=0, minute=0, second=1, microsecond=0))
    return moment.isoformat(timespec="seconds")


def days_ago(days: int, hour: int = 9) -> str:
    """RFC 3339 local time ``days`` days ago at ``hour``."""
    moment = datetime.now(ZONE).replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(days=days)
    return moment.isoformat(timespec="seconds")


def result(name: str, stall: str, verdict: str, *, tested_at: str | None = None, item: str | None = None,
           instrument: str = "ei-01", value: float = 12.0) -> dict[str, Any]:
    """Changes for ``SigningGateway.next`` giving one result with the secret fields set."""
    changes: dict[str, Any] = {
        "sample": {"name": name, "stall": stall, "supplier": SECRETS["supplier"], "origin": SECRETS["origin"],
                   "barcode": SECRETS["barcode"]},
        "operator": SECRETS["operator"], "verdict": verdict, "tested_at": tested_at or local_now(),
        "instrument": {"id": instrument}, "measurement": {"value": value},
    }
    if item is not None:
        changes["test"] = {"item": item}
    return changes


QC_VERDICT = {"sample": "negative", "negative_control": "negative", "positive_control": "positive", "blank": "negative"}


def qc_run(control: str = "sample", *, instrument: str = "ei-01", tested_at: str | None = None,
           lot: str | None = None, measured_lot: str | None = None) -> dict[str, Any]:
    """Changes for one run of ``instrument``: a sample, a control or a blank (``qc.control``), with the kit lot
    of a room-page label (``lot`` → ``kit.lot``) or the one the instrument reports (``measurement.kit_lot``)."""
    changes = result("菠菜", "A-01", QC_VERDICT[control], tested_at=tested_at, instrument=instrument)
    changes["qc"] = {"control": control, "flags": []}
    if lot is not None:
        changes["kit"] = {"lot": lot, "expiry": "2099-12-31"}
    if measured_lot is not None:
        changes["measurement"] = {**changes["measurement"], "kit_lot": measured_lot}
    return changes


def seed_places(client: Client) -> tuple[SigningGateway, SigningGateway, SigningGateway]:
    """District yz (markets A and B), district jb (a school); one enrolled gateway per site."""
    gateways = (SigningGateway(gateway="gw-yz-market-07", site=MARKET_A),
                SigningGateway(gateway="gw-yz-market-08", site=MARKET_B),
                SigningGateway(gateway="gw-jb-school-01", site=SCHOOL_JB))
    client.district("yz", "渝中区")
    client.district("jb", "九龙坡区")
    for gw, district in zip(gateways, ("yz", "yz", "jb"), strict=True):
        client.enrol(gw)
        client.place_site(gw.site, district)
    return gateways


def seed_day(client: Client, a: SigningGateway, b: SigningGateway) -> None:
    """Today at market A: a positive, two negatives (two items), an invalid; one result at market B."""
    client.ingest(
        a.next(**result("菠菜", "A-01", "negative", tested_at=local_now(50))),
        a.next(**result("小白菜", "A-12", "positive", tested_at=local_now(40), value=62.5)),
        a.next(**result("韭菜", "A-07", "invalid", tested_at=local_now(30))),
        a.next(**result("猪肉", "B-03", "negative", tested_at=local_now(20), item="克伦特罗", instrument="gr-01",
                        value=0.8)),
        a.next(**result("芹菜", "A-02", "negative", tested_at=days_ago(3))),
    )
    client.ingest(b.next(**result("土豆-B市场", "C-09", "negative", tested_at=local_now(10))))
