"""The room page's routes: the page, label queue/withdraw, and the live event stream (SSE)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..health import Health
from ..label_store import LabelBook
from ..outbox import Outbox, StoredEnvelope
from ..technicians import SignIn
from ._feed import ResultFeed
from ._form import FIELDS, FormOutcome, parse_label_form
from ._fragments import instrument_list
from ._fragments import result_row as result_row_html
from ._html import page as page_html
from ._text import LANGUAGES
from ._views import InstrumentCard, instrument_cards, result_row

log = logging.getLogger("gateway.room")
HERE = Path(__file__).parent


@dataclass(frozen=True)
class RoomContext:
    """What the page reads and writes, all owned by the running daemon."""

    gateway_id: str
    site_name: str
    health: Health
    outbox: Outbox
    labels: LabelBook
    feed: ResultFeed
    recent_results: int = 30
    heartbeat_s: float = 5.0
    sign_in: SignIn | None = None
    """Technician sign-in (None: off, results keep the label's or the configured operator)."""


def build_app(room: RoomContext) -> Starlette:
    """The Starlette app of one gateway's room page."""
    def lang_of(request: Request) -> str:
        lang = request.query_params.get("lang") or request.cookies.get("lang", "zh")
        return lang if lang in LANGUAGES else "zh"

    def cards() -> list[InstrumentCard]:
        return instrument_cards(list(room.health.instruments.values()), room.labels.queued(),
                                datetime.now().astimezone().date())

    def render_page(request: Request, form: FormOutcome | None = None, status: int = 200,
                    sign_in_error: str | None = None) -> HTMLResponse:
        lang = lang_of(request)
        instruments = list(room.health.instruments)
        chosen = request.query_params.get("instrument") or (instruments[0] if instruments else "")
        signed_in = room.sign_in.current() if room.sign_in is not None else None
        values = form.values if form else _prefill(room.labels, chosen, signed_in.id if signed_in else None)
        rows = [result_row(envelope) for envelope in reversed(room.outbox.recent(room.recent_results))]
        queued_id = request.query_params.get("queued", "")
        notice = next((item for item in room.labels.queued() if str(item.id) == queued_id), None)
        html = page_html(
            lang=lang, site_name=room.site_name, gateway_id=room.gateway_id, sign_in_on=room.sign_in is not None,
            recent_results=room.recent_results, instruments=instruments, values=values,
            errors=form.errors if form else {}, rows=rows, cards=cards(), notice=notice, signed_in=signed_in,
            sign_in_error=sign_in_error, roster=room.sign_in.roster if room.sign_in is not None else None)
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie("lang", lang, max_age=365 * 86400, samesite="strict")
        return response

    async def page(request: Request) -> Response:
        return render_page(request)

    async def post_label(request: Request) -> Response:
        if (refused := _foreign_origin(request)) is not None:
            return refused
        posted = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
        form = parse_label_form(posted, room.health.instruments.keys())
        if form.label is None:
            log.info("label refused", extra={"errors": form.errors})
            return render_page(request, form, status=422)
        if room.sign_in is not None:
            room.sign_in.touch()
        label_id = room.labels.queue(form.label)
        room.feed.changed()
        log.info("label queued", extra={"label_id": label_id, "instrument": form.label.instrument,
                                        "channel": form.label.channel})
        query = urlencode({"lang": lang_of(request), "instrument": form.label.instrument, "queued": label_id})
        return RedirectResponse(f"/?{query}#label-form", status_code=303)

    async def cancel_label(request: Request) -> Response:
        if (refused := _foreign_origin(request)) is not None:
            return refused
        label_id = int(request.path_params["label_id"])
        if room.labels.cancel(label_id):
            room.feed.changed()
            log.info("label withdrawn", extra={"label_id": label_id})
        return RedirectResponse(f"/?{urlencode({'lang': lang_of(request)})}", status_code=303)

    async def sign_in(request: Request) -> Response:
        if (refused := _foreign_origin(request)) is not None:
            return refused
        if room.sign_in is None:
            return PlainTextResponse("technician sign-in is off on this gateway\n", status_code=404)
        posted = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
        badge, technician, pin = posted.get("badge", ""), posted.get("technician", ""), posted.get("pin", "")
        who = room.sign_in.with_badge(badge) if badge.strip() else room.sign_in.with_pin(technician, pin)
        if who is None:
            return render_page(request, status=422, sign_in_error="err_sign_in")
        return RedirectResponse(f"/?{urlencode({'lang': lang_of(request)})}", status_code=303)

    async def sign_out(request: Request) -> Response:
        if (refused := _foreign_origin(request)) is not None:
            return refused
        if room.sign_in is not None:
            room.sign_in.sign_out()
        return RedirectResponse(f"/?{urlencode({'lang': lang_of(request)})}", status_code=303)

    async def events(request: Request) -> Response:
        after = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
        lang = lang_of(request)
        stream = _event_stream(room, int(after) if after.isdigit() else 0,
                               lambda envelope: str(result_row_html(result_row(envelope), lang)),
                               lambda: str(instrument_list(cards(), lang)))
        return StreamingResponse(stream, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return Starlette(routes=[
        Route("/", page),
        Route("/labels", post_label, methods=["POST"]),
        Route("/labels/{label_id:int}/cancel", cancel_label, methods=["POST"]),
        Route("/sign-in", sign_in, methods=["POST"]),
        Route("/sign-out", sign_out, methods=["POST"]),
        Route("/events", events),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ])


async def _event_stream(room: RoomContext, after: int, row_html: Callable[[StoredEnvelope], str],
                        cards_html: Callable[[], str]) -> AsyncIterator[str]:
    """``result`` events (id = seq) for each envelope after ``after``, then ``instruments`` at every wake."""
    yield "retry: 2000\n\n"
    last = after
    while True:
        for envelope in room.outbox.recent(room.recent_results, after_seq=last):
            yield _event("result", {"seq": envelope.seq, "html": row_html(envelope)}, event_id=envelope.seq)
            last = envelope.seq
        yield _event("instruments", {"html": cards_html()})
        if room.feed.closed:
            return
        await room.feed.wait(room.heartbeat_s)
        if room.feed.closed:
            return


def _event(name: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _prefill(labels: LabelBook, instrument: str, signed_in: str | None) -> dict[str, str]:
    """A fresh form for ``instrument``: operator and kit of its last label (they rarely change); the signed-in
    technician's id as operator."""
    values = dict.fromkeys(FIELDS, "")
    values.update(instrument=instrument, channel="1")
    latest = labels.latest(instrument) if instrument else None
    if latest is not None:
        values.update(operator=latest.operator, kit_lot=latest.kit_lot or "",
                      kit_expiry=latest.kit_expiry.isoformat() if latest.kit_expiry else "")
    if signed_in is not None:
        values["operator"] = signed_in
    return values


def _foreign_origin(request: Request) -> Response | None:
    """Refuse a form posted from another site's page (a browser sends its ``Origin``)."""
    origin = request.headers.get("origin")
    if origin is None:  # not a browser form (curl, scripts on the LAN)
        return None
    if urlsplit(origin).netloc != request.headers.get("host"):
        log.warning("form from a foreign origin refused", extra={"origin": origin})
        return PlainTextResponse("forms are accepted from this page only\n", status_code=403)
    return None
