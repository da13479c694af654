"""A label binds exactly once across a SIGKILL between commit and ack, and a restart of the daemon."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from gateway.label_store import LabelBook
from gateway.labels import UNLABELLED_FLAG, SampleLabel
from gateway.outbox import Outbox

from .conftest import GATEWAY_ID, config_data, now, wait_until, write_config
from .gw_fake_driver import read_ack

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("菠菜", "韭菜", "芹菜")


def start_daemon(config: Path) -> subprocess.Popen[bytes]:
    """The daemon as a real process; its JSON log goes to ``daemon.log`` next to the config."""
    with (config.parent / "daemon.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "tests.gateway.gw_room_driver", str(config)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=log)


@pytest.mark.crash
def test_label_binds_exactly_once_across_sigkill_and_restart(tmp_path, key_path, private_key, lims):
    ack = tmp_path / "instrument.ack"
    data = config_data(lims.url, [{"id": "ei-01", "driver": "channel_one",
                                   "options": {"count": 4, "ack_file": str(ack), "kill_after": 2},
                                   "plausibility": {"channel_cycle_s": 0.001, "label_to_result_s": 0}}])
    # labels and readings come within milliseconds here: the method's times are not the point
    data["room_page"] = {"port": 0, "sign_in": False}  # the labels' operators are the point here
    config = write_config(tmp_path, data)
    outbox_path = tmp_path / "outbox.sqlite3"
    box = Outbox(outbox_path, gateway_id=GATEWAY_ID, private_key=private_key, clock=now)
    for name in NAMES:  # what the page writes: rows in the outbox file, queued before the run
        LabelBook(box, now).queue(SampleLabel(instrument="ei-01", channel=1, name=name, category="vegetable",
                                              operator="tech-li", kit_lot="EI-2411", kit_expiry=date(2099, 1, 1)))
    box.close()

    first = start_daemon(config)
    assert first.wait(20) == -signal.SIGKILL, (tmp_path / "daemon.log").read_text()
    assert read_ack(ack) == 1 and (tmp_path / "instrument.killed").exists()  # reading 2 committed, never acked

    second = start_daemon(config)
    try:
        assert wait_until(lambda: read_ack(ack) == 4 and len(lims.stored) == 4, 20)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0

    results = [lims.envelopes[(GATEWAY_ID, seq)]["result"] for seq in range(1, 5)]
    assert [r["sample"]["name"] for r in results] == [*NAMES, "sample 4"]
    assert [r["qc"]["flags"] for r in results] == [[], [], [], [UNLABELLED_FLAG]]
    assert all(r["operator"] == "tech-li" for r in results[:3]) and results[3]["operator"] == "tech-001"
    db = Outbox(outbox_path, gateway_id=GATEWAY_ID, private_key=private_key, clock=now)
    try:
        rows = db.query("SELECT state, bound_seq, bound_result_id FROM sample_labels ORDER BY id")
        assert rows == [("bound", seq, results[seq - 1]["id"]) for seq in (1, 2, 3)]
        envelopes = [json.loads(text) for (text,) in db.query("SELECT envelope FROM envelopes ORDER BY seq")]
        assert [env["seq"] for env in envelopes] == [1, 2, 3, 4]  # the re-sent reading 2 was not stored again
    finally:
        db.close()
