"""The gateway daemon: drivers -> outbox -> uplink, all tasks of one asyncio loop."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import datetime

import httpx

from drivers import registry
from drivers.base import Driver, DriverContext, ResultSink
from protocols.result import TestResult

from .config import GatewayConfig, InstrumentSection
from .errors import GatewayError
from .keys import kid_of, load_private_key
from .outbox import Outbox
from .uplink_http import HttpUplink, UploadFailed

log = logging.getLogger("gateway.daemon")


def local_now() -> datetime:
    """Gateway clock: local time with its UTC offset."""
    return datetime.now().astimezone()


class Gateway:
    """One gateway: reads every enabled instrument, seals and stores results, uploads them."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        clock: Callable[[], datetime] = local_now,
        restart_delay_s: float = 5.0,
        final_upload_s: float = 3.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.restart_delay_s = restart_delay_s
        self.final_upload_s = final_upload_s
        self._client = client

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then stop drivers, try one last upload and close the outbox.

        Startup faults (key file, outbox, a driver's options) raise before anything runs.
        """
        gateway = self.config.gateway
        key = load_private_key(gateway.key_file)
        outbox = Outbox(gateway.outbox, gateway_id=gateway.id, private_key=key, clock=self.clock)
        uplink = HttpUplink(outbox, self.config.lims, self._client)
        try:
            instruments = [(item, self._build(item)) for item in self.config.instruments if item.enabled]
            counts = outbox.counts()
            log.info("gateway started", extra={"gateway": gateway.id, "kid": kid_of(key), "last_seq": counts.last_seq,
                                               "pending": counts.pending, "instruments": [i.id for i, _ in instruments]})
            sink = _outbox_sink(outbox, uplink)
            drivers = [
                asyncio.create_task(self._supervise(item, driver, sink), name=f"driver:{item.id}")
                for item, driver in instruments
            ]
            await self._until_stopped(stop, uplink, drivers)
        finally:
            await uplink.aclose()
            outbox.close()
        log.info("gateway stopped", extra={"gateway": gateway.id})

    async def _until_stopped(self, stop: asyncio.Event, uplink: HttpUplink, drivers: list[asyncio.Task[None]]) -> None:
        uploading = asyncio.create_task(uplink.run(stop), name="uplink")
        stopping = asyncio.create_task(stop.wait(), name="stop")
        try:
            await asyncio.wait([uploading, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (*drivers, uploading, stopping):
                task.cancel()
            await asyncio.gather(*drivers, uploading, stopping, return_exceptions=True)
        if not uploading.cancelled() and (error := uploading.exception()) is not None:
            raise GatewayError(f"uplink failed: {error}") from error
        await self._final_upload(uplink)

    async def _final_upload(self, uplink: HttpUplink) -> None:
        """One bounded attempt to deliver what is pending before exit; the rest waits for next start."""
        try:
            report = await asyncio.wait_for(uplink.upload_pass(), self.final_upload_s)
            log.info("final upload done", extra={"delivered": report.delivered})
        except (UploadFailed, TimeoutError) as exc:
            log.warning("final upload incomplete; pending envelopes stay in the outbox",
                        extra={"error": str(exc) or type(exc).__name__})

    def _build(self, instrument: InstrumentSection) -> Driver:
        context = DriverContext(
            site=self.config.site.to_site(),
            instrument_id=instrument.id,
            operator=self.config.gateway.operator,
            clock=self.clock,
        )
        try:
            return registry.build(instrument.driver, dict(instrument.options), context)
        except Exception as exc:  # a plug-in's constructor may raise anything on bad options
            raise GatewayError(f"instrument {instrument.id!r} (driver {instrument.driver}): {exc}") from exc

    async def _supervise(self, instrument: InstrumentSection, first: Driver, sink: ResultSink) -> None:
        """Run the driver; when it crashes (or returns), log it and start a fresh one after a delay."""
        driver: Driver | None = first
        while True:
            try:
                driver = driver or self._build(instrument)
                await driver.run(sink)
                log.warning("driver returned; restarting it", extra={"instrument": instrument.id})
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("driver crashed; restarting it in %.1f s", self.restart_delay_s,
                              extra={"instrument": instrument.id, "driver": instrument.driver})
            driver = None
            await asyncio.sleep(self.restart_delay_s)


def _outbox_sink(outbox: Outbox, uplink: HttpUplink) -> ResultSink:
    """The drivers' sink: commit to the outbox (durable on return), then wake the uplink."""

    async def sink(result: TestResult, source_key: str | None) -> bool:
        stored = outbox.append(result, source_key)
        if stored is None:
            log.info("reading already stored; not stored again", extra={"source_key": source_key})
            return False
        log.info("result stored", extra={"seq": stored.seq, "result_id": stored.result_id,
                                         "instrument": result.instrument.id, "verdict": result.verdict})
        uplink.wake()
        return True

    return sink


def serve(config: GatewayConfig) -> None:
    """Run the daemon in a fresh event loop until SIGTERM or SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await Gateway(config).run(stop)

    asyncio.run(main())
