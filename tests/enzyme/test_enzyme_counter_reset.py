"""EI-412 readings under a reused ``serial:run:channel``: a SEND re-send is one reading, a new run is another."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drivers.enzyme_inhibition import EnzymeInhibitionDriver, to_test_result
from firmware_sim.enzyme import ChannelPlan, RunPlan
from gateway.outbox import SOURCE_COUNTER_RESET_FLAG, Outbox
from protocols.enzyme import judge_reading, reading_from_raw
from protocols.result import TestResult

from .enzyme_support import context

RUN = RunPlan(run=7, measured_at=datetime(2024, 5, 1, 9, 30), control_delta_a=Decimal("0.4812"),
              channels=(ChannelPlan(1, Decimal("0.4100"), "1234"),))


def _result(driver: EnzymeInhibitionDriver, plan: RunPlan) -> tuple[TestResult, str]:
    frames = plan.frames()
    reading = reading_from_raw(b"".join(data for tag, data in frames if tag in ("H", "C", 1)))
    result = to_test_result(reading, judge_reading(reading, driver.rules), driver.context, driver.config)
    return result, reading.source_key


def test_send_resend_with_another_header_time_is_one_reading_a_reset_run_is_a_new_one(tmp_path):
    driver = EnzymeInhibitionDriver({"port": str(tmp_path / "tty")}, context())
    outbox = Outbox(tmp_path / "box.sqlite3", gateway_id="gw-test", private_key=Ed25519PrivateKey.generate(),
                    clock=lambda: datetime.now().astimezone())
    first, key = _result(driver, RUN)
    assert outbox.append(first, key, identity=driver.reading_identity) is not None
    resend, same_key = _result(driver, dataclasses.replace(RUN, measured_at=RUN.measured_at + timedelta(minutes=4)))
    assert same_key == key and resend.raw != first.raw  # SEND key: same run, other header time
    assert outbox.append(resend, key, identity=driver.reading_identity) is None
    after_reset = dataclasses.replace(RUN, measured_at=RUN.measured_at + timedelta(days=3),
                                      channels=(ChannelPlan(1, Decimal("0.2010"), ""),))  # run counter back at 7
    new, _ = _result(driver, after_reset)
    assert outbox.append(new, key, identity=driver.reading_identity) is not None
    flags = [json.loads(text)["result"]["qc"]["flags"] for (text,) in outbox.query("SELECT envelope FROM envelopes")]
    assert [SOURCE_COUNTER_RESET_FLAG in f for f in flags] == [False, True]
    outbox.close()
