"""The gateway daemon: drivers -> outbox -> uplink, all tasks of one asyncio loop."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from drivers.base import Driver, ResultSink

from .config import GatewayConfig, InstrumentSection
from .errors import GatewayError
from .instruments import build_driver
from .health import Health, status_path, write_status_file
from .heartbeat import start_heartbeats, stop_heartbeats
from .http_client import HttpClient, client_for
from .keys import kid_of, load_private_key
from .label_store import LabelBook
from .outbox import Outbox
from .plausibility import InstrumentPlausibility, label_timing
from .roster_sync import sign_in_for, start_roster_sync
from .technicians import SignIn

if TYPE_CHECKING:
    from .room import RoomPage
    from .evidence_upload import EvidenceUploader
    from .room_camera import RoomCamera
from .sink import outbox_sink
from .uplink_base import Uplink, wait_any
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
        client: HttpClient | None = None,
    ) -> None:
        """``client``: the LIMS client shared by uplink, heartbeats, roster sync and evidence upload
        (each builds its own when None); the camera always has its own (httpx, for digest auth)."""
        self.config = config
        self.clock = clock
        self.restart_delay_s = restart_delay_s
        self.final_upload_s = final_upload_s
        self._client = client
        self.metrics_port: int | None = None
        """Port ``/metrics`` listens on once running (None when ``status_port`` is not set)."""
        self.room_port: int | None = None
        """Port the room page listens on once running (None: disabled or it cannot listen)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then stop drivers, try one last upload and close the outbox.

        Startup faults (key file, outbox, a driver's options) raise before anything runs.
        """
        gateway = self.config.gateway
        key = load_private_key(gateway.key_file)
        outbox = Outbox(gateway.outbox, gateway_id=gateway.id, private_key=key, clock=self.clock)
        uplink = self._uplink(outbox)
        health = Health(gateway.id, self.config.lims.transport, uplink.stats)
        metrics = None
        checks = {item.id: InstrumentPlausibility(item.id, item.plausibility) for item in self.config.instruments}
        for check in checks.values():
            check.seed(outbox)
        labels = LabelBook(outbox, self.clock, lambda r: label_timing(checks, r)) if self.config.room_page.enabled else None
        sign_in = None
        room = None
        beats = None
        camera, uploader = self._camera(outbox)
        roster = None
        try:
            instruments = [(item, self._build(item)) for item in self.config.instruments if item.enabled]
            for item in self.config.instruments:
                health.add_instrument(item.id, item.driver, enabled=item.enabled, calibration_due=item.calibration_due)
            if gateway.status_port is not None:
                from .metrics import MetricsServer, gateway_registry  # prometheus_client only when served

                metrics = MetricsServer(gateway_registry(health, outbox.pending_count),
                                        lambda: health.snapshot(outbox.counts(), self.clock()))
                try:
                    self.metrics_port = await metrics.start(gateway.status_host, gateway.status_port)
                except OSError as exc:  # port in use or address not local: results matter more than metrics
                    log.error("status port cannot listen; running without /metrics and /status",
                              extra={"host": gateway.status_host, "port": gateway.status_port, "error": str(exc)})
                    metrics = None
            counts = outbox.counts()
            log.info("gateway started", extra={"gateway": gateway.id, "kid": kid_of(key), "last_seq": counts.last_seq,
                                               "pending": counts.pending, "instruments": [i.id for i, _ in instruments],
                                               "transport": self.config.lims.transport})
            sign_in = sign_in_for(self.config)  # after "gateway started": it may log about the roster
            if labels is not None:
                room = await self._start_room_page(health, outbox, labels, sign_in)
            on_stored = room.feed.stored if room is not None else None
            drivers = [
                asyncio.create_task(self._supervise(item, driver, health, outbox_sink(
                    outbox, uplink, health, gateway.max_clock_skew_s, item.id, labels=labels,
                    calibration_due=item.calibration_due, on_stored=on_stored, plausibility=checks[item.id],
                    identity=driver.reading_identity, camera=camera, sign_in=sign_in)),
                    name=f"driver:{item.id}")
                for item, driver in instruments
            ] + ([asyncio.create_task(uploader.run(stop), name="evidence-upload")] if uploader else [])
            roster = start_roster_sync(self.config, sign_in, key, self.clock, stop, self._client)
            beats = start_heartbeats(self.config, key, lambda: health.snapshot(outbox.counts(), self.clock()),
                                     self.clock, stop, self._client)
            await self._until_stopped(stop, uplink, drivers, lambda: self._write_status(health, outbox))
        finally:
            await stop_heartbeats(beats)
            await stop_heartbeats(roster)  # cancels and awaits any helper task, as the heartbeats'
            if camera is not None:
                await camera.client.aclose()
            if uploader is not None and uploader.client is not self._client:
                await uploader.client.aclose()
            if room is not None:
                await room.close()
            if metrics is not None:
                await metrics.close()
            await uplink.aclose()
            uplink.stats.state = "stopped"
            health.all_offline()
            self._write_status(health, outbox)
            outbox.close()
        log.info("gateway stopped", extra={"gateway": gateway.id})

    async def _start_room_page(self, health: Health, outbox: Outbox, labels: LabelBook,
                               sign_in: SignIn | None) -> RoomPage | None:
        """Serve the room page; if it cannot listen, log why and run without it (results matter more)."""
        from .room import ResultFeed, RoomPage  # imported only when enabled: keeps a page-less gateway lean

        section = self.config.room_page
        room = RoomPage(gateway_id=self.config.gateway.id, site_name=self.config.site.name, health=health,
                        outbox=outbox, labels=labels, feed=ResultFeed(), recent_results=section.recent_results,
                        sign_in=sign_in)
        try:
            self.room_port = await room.start(section.host, section.port)
        except OSError as exc:
            log.error("room page cannot listen; running without it",
                      extra={"host": section.host, "port": section.port, "error": str(exc)})
            return None
        health.room_page = f"http://{section.host}:{self.room_port}/"
        log.info("room page listening", extra={"url": health.room_page})
        return room

    def _camera(self, outbox: Outbox) -> tuple[RoomCamera | None, EvidenceUploader | None]:
        """The room camera and its image uploader (http transport only), when ``[camera]`` is configured."""
        section = self.config.camera
        if section is None:
            return None, None
        from .camera import camera_client  # httpx (digest auth) only with a camera
        from .evidence_store import EvidenceStore, evidence_dir
        from .evidence_upload import EvidenceUploader
        from .room_camera import RoomCamera

        lims = self.config.lims
        upload_url = lims.url if lims.transport == "http" else None
        camera = RoomCamera(section, camera_client(section.snapshot_url, lims.timeout_s),
                            EvidenceStore(evidence_dir(self.config.gateway.outbox)), self.clock)
        if upload_url is None:
            log.warning("snapshots are kept but not uploaded: image upload needs the http transport")
            return camera, None
        client = self._client or client_for(upload_url, timeout_s=lims.timeout_s)
        uploader = EvidenceUploader(camera.store, outbox, upload_url, client)
        camera.on_kept = uploader.wake
        return camera, uploader

    def _uplink(self, outbox: Outbox) -> Uplink:
        if self.config.lims.transport == "mqtt":
            from .uplink_mqtt import MqttUplink  # aiomqtt/paho only when MQTT is configured

            assert self.config.mqtt is not None  # GatewayConfig guarantees it
            return MqttUplink(outbox, self.config.lims, self.config.mqtt, client_id=self.config.mqtt_client_id(),
                              clock=self.clock, drain_s=self.final_upload_s)
        return HttpUplink(outbox, self.config.lims, self._client)

    def _write_status(self, health: Health, outbox: Outbox) -> None:
        path = status_path(self.config.gateway.outbox)
        try:
            write_status_file(path, health.snapshot(outbox.counts(), self.clock()))
        except OSError as exc:
            log.warning("cannot write the status file", extra={"path": str(path), "error": str(exc)})

    async def _until_stopped(self, stop: asyncio.Event, uplink: Uplink, drivers: list[asyncio.Task[None]],
                             write_status: Callable[[], None]) -> None:
        """Run until ``stop``; then stop the drivers, let the uplink finish (bounded) and try a last upload."""
        uploading = asyncio.create_task(uplink.run(stop), name="uplink")
        try:
            while not stop.is_set() and not uploading.done():
                write_status()
                await wait_any(stop, timeout=self.config.gateway.status_interval_s)
            for task in drivers:
                task.cancel()
            await asyncio.gather(*drivers, return_exceptions=True)
            await asyncio.wait([uploading], timeout=self.final_upload_s + 2.0)
        finally:
            for task in (*drivers, uploading):
                task.cancel()
            await asyncio.gather(*drivers, uploading, return_exceptions=True)
        if not uploading.cancelled() and (error := uploading.exception()) is not None:
            raise GatewayError(f"uplink failed: {error}") from error
        await self._final_upload(uplink)

    async def _final_upload(self, uplink: Uplink) -> None:
        """One bounded attempt to deliver what is pending before exit; the rest waits for next start."""
        try:
            delivered = await uplink.final_delivery(self.final_upload_s)
            log.info("final upload done", extra={"delivered": delivered})
        except UploadFailed as exc:
            log.warning("final upload incomplete; pending envelopes stay in the outbox",
                        extra={"error": str(exc) or type(exc).__name__})

    def _build(self, instrument: InstrumentSection) -> Driver:
        return build_driver(self.config, instrument, self.clock)

    async def _supervise(self, instrument: InstrumentSection, first: Driver, health: Health,
                         sink: ResultSink) -> None:
        """Run the driver; when it crashes (or returns), log it and start a fresh one after a delay."""
        driver: Driver | None = first
        while True:
            try:
                driver = driver or self._build(instrument)
                driver.link_listener = functools.partial(health.link_changed, instrument.id)
                health.driver_running(instrument.id)
                await driver.run(sink)
                log.warning("driver returned; restarting it", extra={"instrument": instrument.id})
                health.driver_failed(instrument.id, "driver returned")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("driver crashed; restarting it in %.1f s", self.restart_delay_s,
                              extra={"instrument": instrument.id, "driver": instrument.driver})
                health.driver_failed(instrument.id, f"{type(exc).__name__}: {exc}")
            driver = None
            await asyncio.sleep(self.restart_delay_s)


def serve(config: GatewayConfig) -> None:
    """Run the daemon in a fresh event loop until SIGTERM or SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        # held since start-up (gateway.__main__, kuaijian gateway run): one that came meanwhile stops us now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        await Gateway(config).run(stop)

    asyncio.run(main())
