"""Camera evidence: a snapshot per result named in the signed result and uploaded; faults flag, never block."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from pathlib import Path

import httpx
import pytest

from firmware_sim.camera import CameraServer
from gateway.camera import CameraFailure, Snapshot, image_kind, take_snapshot
from gateway.config import CameraSection
from gateway.evidence_store import evidence_dir

from .conftest import GATEWAY_ID, config_data, now, write_config
from .gw_standin_lims import free_port
from .test_gw_daemon import counting, run_gateway_until


async def snap(section: CameraSection) -> Snapshot | CameraFailure:
    async with httpx.AsyncClient() as client:
        return await take_snapshot(client, section, now)


def test_a_snapshot_is_a_checked_image_with_its_hash():
    with CameraServer() as camera:
        shot = asyncio.run(snap(CameraSection(snapshot_url=camera.url)))
    assert isinstance(shot, Snapshot) and shot.media_type == "image/png"
    assert shot.sha256 == hashlib.sha256(shot.data).hexdigest()
    assert image_kind(b"\xff\xd8\xff\xe0rest") == ("image/jpeg", "jpg") and image_kind(b"GIF89a") is None


@pytest.mark.parametrize(("fault", "reason"), [("not_image", "not_image"), ("oversize", "oversize"),
                                               ("timeout", "timeout"), ("error", "http_status")])
def test_each_camera_fault_gives_its_reason_within_the_timeout(fault, reason):
    with CameraServer(fault=fault, oversize_bytes=300_000, stall_s=20) as camera:
        started = time.monotonic()
        shot = asyncio.run(snap(CameraSection(snapshot_url=camera.url, timeout_s=1.0, max_bytes=100_000)))
        elapsed = time.monotonic() - started
    assert isinstance(shot, CameraFailure) and shot.reason == reason, shot
    assert elapsed < 5  # bounded by timeout_s (1 s) plus scheduling, never the camera's 20 s stall


def test_no_camera_listening_is_unreachable():
    shot = asyncio.run(snap(CameraSection(snapshot_url=f"http://127.0.0.1:{free_port()}/snapshot")))
    assert isinstance(shot, CameraFailure) and shot.reason == "unreachable"


def camera_config(tmp_path: Path, lims_url: str, camera_url: str, count: int) -> Path:
    data = config_data(lims_url, [counting(tmp_path, count)])
    data["camera"] = {"snapshot_url": camera_url, "timeout_s": 1.0}
    data["room_page"] = {"enabled": False}  # no labels: no ``unlabelled`` flag beside the camera's
    return write_config(tmp_path, data)


def test_each_result_names_its_snapshot_and_the_image_reaches_the_lims(tmp_path, key_path, lims, counting_driver):
    folder = evidence_dir(tmp_path / "outbox.sqlite3")

    def all_sent() -> bool:
        return len(lims.evidence) == 3 and (folder / "sent").is_dir() and len(list((folder / "sent").iterdir())) == 3

    with CameraServer() as camera:
        path = camera_config(tmp_path, lims.url, camera.url, 3)
        asyncio.run(run_gateway_until(path, all_sent))
    named = [lims.envelopes[(GATEWAY_ID, seq)]["result"]["evidence"] for seq in (1, 2, 3)]
    assert all(len(entries) == 1 and entries[0]["kind"] == "snapshot" for entries in named)
    for [entry] in named:
        assert hashlib.sha256(lims.evidence[entry["sha256"]]).hexdigest() == entry["sha256"]
        assert entry["media_type"] == "image/png" and entry["taken_at"]
    assert sorted(p.stem for p in (folder / "sent").iterdir()) == sorted(e["sha256"] for [e] in named)
    assert list((folder / "pending").iterdir()) == []


def test_a_stalled_camera_flags_the_result_and_does_not_hold_it(tmp_path, key_path, lims, counting_driver, caplog):
    with CameraServer(fault="timeout", stall_s=20) as camera:
        path = camera_config(tmp_path, lims.url, camera.url, 2)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="gateway.evidence"):
            asyncio.run(run_gateway_until(path, lambda: len(lims.stored) == 2))
        elapsed = time.monotonic() - started
    results = [lims.envelopes[(GATEWAY_ID, seq)]["result"] for seq in (1, 2)]
    assert [r["qc"]["flags"] for r in results] == [["camera_failed:timeout"]] * 2
    assert all("evidence" not in r for r in results)
    assert elapsed < 10  # two results, each held at most timeout_s = 1 s
    reasons = [r.__dict__.get("reason") for r in caplog.records if r.getMessage().startswith("camera gave no")]
    assert reasons == ["timeout", "timeout"]
