"""HTTP uplink against a real stand-in LIMS that verifies every envelope."""

from __future__ import annotations

import asyncio
import logging
import ssl

import certifi
import httpx
import pytest

from msgspec.structs import replace

from gateway.config import LimsSection
from gateway.camera import camera_client
from gateway.http_client import HttpClient, client_for
from gateway.uplink_http import HttpUplink, UploadFailed
from protocols._validation import convert
from protocols.result import Sample

from .conftest import GATEWAY_ID, async_wait_until, result
from .gw_standin_lims import StandInLims, free_port


def lims_config(url: str, **overrides: object) -> LimsSection:
    return convert({"url": url, "batch_size": 50, "timeout_s": 2.0, "retry_min_s": 0.02, "retry_max_s": 0.2,
                    **overrides}, LimsSection)


def fill(outbox, count: int) -> None:
    for n in range(1, count + 1):
        outbox.append(result(n), f"src:{n}")


async def one_pass(outbox, lims_url: str, **overrides: object):
    uplink = HttpUplink(outbox, lims_config(lims_url, **overrides))
    try:
        return await uplink.upload_pass()
    finally:
        await uplink.aclose()


def test_pass_delivers_everything_in_batches(outbox, lims):
    fill(outbox, 12)
    report = asyncio.run(one_pass(outbox, lims.url, batch_size=5))
    assert report.delivered == 12
    assert lims.seqs(GATEWAY_ID) == list(range(1, 13))
    assert lims.request_sizes == [5, 5, 2]
    counts = outbox.counts()
    assert (counts.pending, counts.delivered, counts.rejected) == (0, 12, 0)


def test_duplicates_count_as_delivered(outbox, lims):
    fill(outbox, 3)
    asyncio.run(one_pass(outbox, lims.url))
    outbox._db.execute("UPDATE envelopes SET state = 'pending'")  # as if the process died before marking
    report = asyncio.run(one_pass(outbox, lims.url))
    assert report.delivered == 3 and lims.duplicates == 3
    assert outbox.counts().pending == 0


def test_one_rejected_envelope_does_not_block_the_others(outbox, lims, caplog):
    fill(outbox, 6)
    lims.reject_seqs = {3}
    with caplog.at_level(logging.ERROR, logger="gateway.uplink"):
        report = asyncio.run(one_pass(outbox, lims.url, batch_size=4))
    assert (report.delivered, report.rejected) == (5, 1)
    assert lims.seqs(GATEWAY_ID) == [1, 2, 4, 5, 6]
    assert outbox.get(3).state == "rejected"
    assert outbox.get(3).last_error.startswith("schema: ")
    assert [r.seq for r in caplog.records if r.message == "LIMS rejected an envelope"] == [3]
    assert asyncio.run(one_pass(outbox, lims.url)).delivered == 0  # never sent again
    assert lims.request_sizes == [4, 2]


def test_lims_that_stops_early_leaves_the_rest_pending_and_the_pass_goes_on(outbox, lims):
    fill(outbox, 8)
    lims.reject_seqs, lims.max_rejected = {2, 3, 4}, 2
    report = asyncio.run(one_pass(outbox, lims.url, batch_size=8))
    assert lims.request_sizes == [8, 5]  # the LIMS stopped after line 3; seqs 4..8 were sent again at once
    assert (report.delivered, report.rejected) == (5, 3)
    assert lims.seqs(GATEWAY_ID) == [1, 5, 6, 7, 8]
    assert [outbox.get(seq).state for seq in (2, 3, 4)] == ["rejected"] * 3
    assert outbox.counts().pending == 0


def test_not_enrolled_gateway_keeps_envelopes_pending_until_enrolled(outbox, lims, caplog):
    fill(outbox, 3)
    enrolled = lims.keys.pop(GATEWAY_ID)
    with caplog.at_level(logging.WARNING, logger="gateway.uplink"):
        report = asyncio.run(one_pass(outbox, lims.url))
        asyncio.run(one_pass(outbox, lims.url))
    assert (report.delivered, report.rejected, report.not_enrolled) == (0, 0, 3)
    assert outbox.counts().pending == 3
    assert outbox.get(1).last_error.startswith("unknown_gateway: ")
    assert sum("not enrolled" in r.getMessage() for r in caplog.records) == 2  # one per uplink, not per envelope
    lims.keys[GATEWAY_ID] = enrolled
    assert asyncio.run(one_pass(outbox, lims.url)).delivered == 3


def test_413_halves_the_batch_until_the_lims_accepts_it(outbox, lims):
    fill(outbox, 10)
    lims.max_lines = 3
    report = asyncio.run(one_pass(outbox, lims.url, batch_size=16))
    assert report.delivered == 10
    assert lims.seqs(GATEWAY_ID) == list(range(1, 11))
    assert lims.request_sizes[:4] == [10, 5, 2, 2]  # 10 -> 413, 5 -> 413, then batches of 2
    assert max(size for size in lims.request_sizes[2:]) == 2


def test_413_on_a_single_envelope_rejects_only_it(outbox, lims):
    outbox.append(result(1), "src:1")
    outbox.append(replace(result(2), sample=Sample(name="x" * 20_000)), "src:2")
    outbox.append(result(3), "src:3")
    lims.max_bytes = 10_000
    report = asyncio.run(one_pass(outbox, lims.url))
    assert (report.delivered, report.rejected) == (2, 1)
    assert lims.seqs(GATEWAY_ID) == [1, 3]
    assert outbox.get(2).last_error.startswith("payload_too_large")


def test_unreachable_lims_raises_upload_failed_and_counts_attempts(outbox):
    fill(outbox, 2)
    with pytest.raises(UploadFailed, match="ConnectError"):
        asyncio.run(one_pass(outbox, f"http://127.0.0.1:{free_port()}"))
    assert outbox.get(1).attempts == 1 and outbox.counts().pending == 2


def test_backoff_delay_grows_with_jitter_within_bounds(outbox):
    uplink = HttpUplink(outbox, lims_config("http://127.0.0.1:1", retry_min_s=0.5, retry_max_s=4.0))
    for failures, ceiling in [(0, 0.5), (1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0), (5000, 4.0)]:
        uplink._failures = failures
        delays = [uplink.next_delay() for _ in range(200)]
        assert 0.5 <= min(delays) and max(delays) <= ceiling
    assert max(delays) > 2.0  # jitter spreads over the window


def test_run_retries_while_lims_is_down_then_drains(outbox, private_key, caplog):
    from protocols.envelope import public_key_bytes

    lims = StandInLims({GATEWAY_ID: public_key_bytes(private_key.public_key())})
    fill(outbox, 4)

    async def scenario() -> None:
        stop = asyncio.Event()
        uplink = HttpUplink(outbox, lims_config(lims.url))
        task = asyncio.create_task(uplink.run(stop))
        assert await async_wait_until(lambda: outbox.get(1).attempts >= 3)
        lims.start()
        try:
            assert await async_wait_until(lambda: outbox.counts().pending == 0)
            for n in range(5, 8):  # new appends are uploaded promptly after a wake-up
                outbox.append(result(n), f"src:{n}")
                uplink.wake()
            assert await async_wait_until(lambda: outbox.counts().delivered == 7)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
            await uplink.aclose()
            lims.stop()

    with caplog.at_level(logging.INFO, logger="gateway.uplink"):
        asyncio.run(scenario())
    assert lims.seqs(GATEWAY_ID) == list(range(1, 8))
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("LIMS upload failing, retrying with backoff") == 1  # once per outage, not per try
    assert messages.count("LIMS upload working again") == 1


@pytest.fixture
def ca_loads(monkeypatch):
    """Every ``load_verify_locations`` call (how a CA bundle gets into an SSL context), recorded."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    loads: list[tuple[object, ...]] = []
    real = ssl.SSLContext.load_verify_locations

    def spy(self, *args, **kwargs):
        loads.append(args + tuple(kwargs.values()))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    return loads


def ssl_context_of(client: HttpClient | httpx.AsyncClient) -> ssl.SSLContext | None:
    """The context the client's connection pool would use (httpcore internals, and httpx's, pinned here)."""
    if isinstance(client, HttpClient):
        return client._pool._ssl_context  # type: ignore[attr-defined]
    return client._transport._pool._ssl_context  # type: ignore[attr-defined]


def test_plain_http_clients_set_up_no_tls(outbox, ca_loads):
    uplink = HttpUplink(outbox, lims_config("http://lims.example:8000"))
    lims = client_for("http://lims.example:8000", None, timeout_s=2.0)
    camera = camera_client("http://camera.example/snap.jpg", timeout_s=2.0)
    try:
        assert ssl_context_of(uplink._client) is None and ssl_context_of(lims) is None
        assert ssl_context_of(camera) is None
        assert ca_loads == []
    finally:
        asyncio.run(uplink.aclose())
        asyncio.run(lims.aclose())
        asyncio.run(camera.aclose())


@pytest.mark.parametrize("urls", [("HTTPS://lims.example",), ("http://camera.example/snap.jpg", "https://lims.example"),
                                  ("https://camera.example/snap.jpg", None)])
def test_an_https_peer_gets_a_verifying_client_with_certifis_bundle(ca_loads, urls):
    client = client_for(*urls, timeout_s=2.0)
    try:
        context = ssl_context_of(client)
        assert context is not None and context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert [load[0] for load in ca_loads] == [certifi.where()]
    finally:
        asyncio.run(client.aclose())


def test_an_https_camera_gets_httpxs_verifying_default(ca_loads):
    camera = camera_client("https://camera.example/snap.jpg", timeout_s=2.0)
    try:
        context = ssl_context_of(camera)
        assert context is not None and context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert [load[0] for load in ca_loads] == [certifi.where()]
    finally:
        asyncio.run(camera.aclose())
