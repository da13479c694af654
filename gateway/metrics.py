"""Prometheus ``/metrics`` (and ``/status`` JSON) on ``[gateway] status_host:status_port``.

Each Gateway has its own ``CollectorRegistry`` whose collector reads the live ``Health`` and the
outbox at scrape time. The server is a few lines on ``asyncio.start_server`` inside the daemon's
own loop: no thread at all, and the outbox connection is used from its own thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .health import Health

log = logging.getLogger("gateway.metrics")


class GatewayCollector(Collector):
    """Turns one gateway's Health and backlog into Prometheus metric families at scrape time."""

    def __init__(self, health: Health, backlog: Callable[[], int]) -> None:
        self.health = health
        self.backlog = backlog

    def collect(self) -> Iterator[Metric]:
        health, uplink = self.health, self.health.uplink
        results = CounterMetricFamily("kuaijian_results", "Results stored in the outbox.", labels=["instrument"])
        up = GaugeMetricFamily("kuaijian_instrument_up", "1 while the instrument's driver runs.", labels=["instrument"])
        skew = GaugeMetricFamily("kuaijian_clock_skew_seconds", "Latest instrument clock minus gateway clock.",
                                 labels=["instrument"])
        for entry in health.instruments.values():
            results.add_metric([entry.id], entry.results)
            up.add_metric([entry.id], 1.0 if entry.state == "online" else 0.0)
            if entry.clock_skew_s is not None:
                skew.add_metric([entry.id], entry.clock_skew_s)
        yield results
        yield up
        yield skew
        yield CounterMetricFamily("kuaijian_uploads", "Envelopes the LIMS acknowledged (stored or duplicate).",
                                  value=uplink.delivered_total)
        yield CounterMetricFamily("kuaijian_rejections", "Envelopes the LIMS rejected for good.",
                                  value=uplink.rejected_total)
        yield GaugeMetricFamily("kuaijian_backlog", "Envelopes pending in the outbox.", value=self.backlog())
        yield GaugeMetricFamily("kuaijian_last_upload_timestamp_seconds",
                                "Unix time of the last acknowledged upload (0: none yet).",
                                value=uplink.last_upload_at or 0.0)


def gateway_registry(health: Health, backlog: Callable[[], int]) -> CollectorRegistry:
    """A fresh registry (not the global one) holding only this gateway's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GatewayCollector(health, backlog))
    return registry


class MetricsServer:
    """``GET /metrics`` (Prometheus text) and ``GET /status`` (the status snapshot as JSON)."""

    def __init__(self, registry: CollectorRegistry, status: Callable[[], dict[str, Any]]) -> None:
        self.registry = registry
        self.status = status
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port``; returns the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(self._serve, host, port)
        bound = int(self._server.sockets[0].getsockname()[1])
        log.info("metrics listening", extra={"url": f"http://{host}:{bound}/metrics"})
        return bound

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            method, _, rest = request.decode("latin-1").partition(" ")
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            status, content_type, body = self._answer(method, path)
            head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                    "Connection: close\r\n\r\n")
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    def _answer(self, method: str, path: str) -> tuple[str, str, bytes]:
        if method != "GET":
            return "405 Method Not Allowed", "text/plain", b"only GET\n"
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self.registry)
        if path == "/status":
            return "200 OK", "application/json", json.dumps(self.status(), ensure_ascii=False).encode("utf-8")
        return "404 Not Found", "text/plain", b"try /metrics or /status\n"
