"""Anonymous input has bounded cost: body limits on every route, a cap on rejected lines, rate-limited logs,
and a bound on password hashes running at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from lims_api.core.log_limits import BURST, SHARED, RateLimitFilter

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway

SMALL_LIMIT = 64 * 1024


def chunks(total: int, size: int = 16 * 1024) -> Iterator[bytes]:
    """A body sent chunked (no Content-Length), ``total`` bytes of JSON-ish filler."""
    yield b'{"username": "'
    for _ in range(total // size):
        yield b"a" * size
    yield b'", "password": "x"}'


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("path", "content_type"), [
    ("/api/v1/auth/login", "application/json"),
    ("/login", "application/x-www-form-urlencoded"),
    ("/api/v1/public/requests", "application/json"),
    ("/api/v1/cases/1/actions", "application/json"),
])
def test_every_route_refuses_a_body_over_the_request_limit(
    lims: Lims, path: str, content_type: str, chunked: bool
) -> None:
    total = 4 * SMALL_LIMIT
    body = chunks(total) if chunked else b"".join(chunks(total))
    response = lims.client.post(path, content=body, headers={"Content-Type": content_type})
    assert response.status_code == 413, response.text
    assert f"limit of {SMALL_LIMIT} bytes (max_request_bytes)" in response.json()["detail"]
    assert lims.scalar("SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed'") == 0


def test_a_body_within_the_limit_still_reaches_the_route(lims: Lims) -> None:
    response = lims.client.post("/api/v1/auth/login", json={"username": "a" * 1000, "password": "x"})
    assert response.status_code in (401, 422), response.text


def test_ingest_stops_after_the_rejected_line_cap_and_summarises(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    first, last = gateway.next(), gateway.next()
    body = lims.body(first, *(["{}"] * 150), last)
    response = lims.client.post("/api/v1/ingest", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 200
    answer = response.json()
    assert len(answer["results"]) == 101  # the good first line and the 100 rejected ones
    assert answer["results"][0]["status"] == "stored"
    assert {r["code"] for r in answer["results"][1:]} == {"schema"}
    assert answer["stopped"]["after_line"] == 101 and answer["stopped"]["unprocessed"] == 51
    assert "100 lines rejected" in answer["stopped"]["reason"]
    assert lims.scalar("SELECT count(*) FROM envelopes") == 1  # the last line was not processed
    resent = lims.ingest(last)  # sent again, it is stored
    assert resent[0]["status"] == "stored"
    assert len(response.content) < 30_000


def test_a_clean_batch_has_no_stopped_member(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    response = lims.client.post("/api/v1/ingest", content=lims.body(gateway.next(), "{}"),
                                headers={"Content-Type": "application/x-ndjson"})
    assert response.json()["stopped"] is None


def test_repeated_warnings_are_rate_limited_and_the_count_reported(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    logger = logging.getLogger("kuaijian.test.ratelimit")
    limit = RateLimitFilter(burst=3, window_s=10.0, clock=lambda: now[0])
    logger.addFilter(limit)
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            for n in range(50):
                logger.warning("line %d rejected", n)
            logger.error("fork on seq %d", 7)  # errors always pass
            now[0] = 10.5
            logger.warning("line %d rejected", 99)
    finally:
        logger.removeFilter(limit)
    messages = [r.getMessage() for r in caplog.records if r.name == logger.name]
    assert messages == ["line 0 rejected", "line 1 rejected", "line 2 rejected", "fork on seq 7",
                        "line 99 rejected (47 similar lines suppressed before this one)"]


def test_ingest_rejections_in_the_log_are_bounded(
    lims: Lims, gateway: SigningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    lims.enrol(gateway)
    SHARED.reset()
    with caplog.at_level(logging.WARNING, logger="lims_api"):
        for _ in range(5):  # 500 rejected lines
            lims.client.post("/api/v1/ingest", content=lims.body(*(["{}"] * 100)),
                             headers={"Content-Type": "application/x-ndjson"})
    rejected = [r for r in caplog.records if r.getMessage().startswith("envelope rejected")]
    assert BURST <= len(rejected) < 3 * BURST  # one window (two if the machine is slow); the rest only counted


def test_login_waits_for_a_free_hashing_slot_else_503(lims: Lims) -> None:
    slots = lims.client.app.state.password_slots  # type: ignore[attr-defined]
    assert slots.size == 2
    held = [slots.slot() for _ in range(slots.size)]
    for slot in held:
        slot.__enter__()
    try:
        slots.wait_s = 0.05
        busy = lims.client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
    finally:
        for slot in held:
            slot.__exit__(None, None, None)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
    assert "password_hash_concurrency" in busy.json()["detail"]
    free = lims.client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
    assert free.status_code == 401


def test_parallel_logins_never_hash_more_than_the_bound_at_once(lims: Lims) -> None:
    slots = lims.client.app.state.password_slots  # type: ignore[attr-defined]
    slots.wait_s = 30.0
    inside, peak, lock = [0], [0], threading.Lock()
    original = slots.slot

    def counting_slot():  # type: ignore[no-untyped-def]
        manager = original()

        class Counted:
            def __enter__(self) -> None:
                manager.__enter__()
                with lock:
                    inside[0] += 1
                    peak[0] = max(peak[0], inside[0])

            def __exit__(self, *exc: object) -> None:
                with lock:
                    inside[0] -= 1
                manager.__exit__(*exc)

        return Counted()

    slots.slot = counting_slot
    statuses: list[int] = []

    def login() -> None:
        response = lims.client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=login) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [401] * 6
    assert 1 <= peak[0] <= 2
