"""``TestResult.to_wire()`` of every driver's results: JCS bytes pinned from the pydantic model it replaced.

``tests/data/result-wire-golden.json`` was written by the pydantic ``TestResult`` (``model_dump(mode="json")``);
the results here are built the same way (fixed clocks, ids numbered in order), so the bytes must not move.
Regenerate (only for a deliberate contract change): ``python -m tests.test_result_wire``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock

from protocols import jcs
from protocols.result import TestResult

GOLDEN = Path(__file__).parent / "data" / "result-wire-golden.json"
TZ = timezone(timedelta(hours=8))
_ID_USERS = ("drivers.enzyme_inhibition._mapping", "drivers.modbus_profile._result",
             "drivers.serial_line_profile._result", "drivers.astm_quantitative.mapping", "tests.gateway.gw_fake_driver")


ASTM_DOC = (Path(__file__).resolve().parent / "data" / "astm-worked-example.txt").read_text("utf-8").splitlines()
"""docs/instruments/multi-item-analyzer.md's worked example (also tests/astm/test_astm_mapping.py)."""


@contextmanager
def numbered_ids() -> Iterator[None]:
    """``uuid7()`` in the drivers gives ``…-000000000001``, ``…-000000000002``, … (reproducible results)."""
    count = iter(range(1, 10_000))

    def fake() -> str:
        return f"01938f2e-7c1a-7000-8000-{next(count):012d}"

    with mock.patch.multiple("tests.gateway.gw_fake_driver", uuid7=fake):
        patches = [mock.patch(f"{module}.uuid7", fake) for module in _ID_USERS[:-1]]
        for patch in patches:
            patch.start()
        try:
            yield
        finally:
            for patch in patches:
                patch.stop()


def _astm_doc() -> list[TestResult]:
    from drivers.astm_quantitative import load_limits, readings
    from drivers.base import DriverContext, LabelSource
    from protocols.astm import build_frame, parse_message
    from protocols.result import Sample, Site

    context = DriverContext(
        site=Site(id="s", kind="market", name="m"), instrument_id="aq-01", operator="tech-7",
        clock=lambda: datetime(2024, 5, 1, 1, 40, tzinfo=timezone.utc),
        labels=LabelSource(take=lambda channel: (Sample(barcode="6901234567890", supplier="渝中", name="x"), "t")))
    texts = [f"{record}\r".encode() for record in ASTM_DOC]
    frames = b"".join(build_frame(n + 1, text, final=True) for n, text in enumerate(texts))
    return [r.result for r in readings(parse_message(b"".join(texts)), frames, load_limits(None), context, TZ)]


def cases() -> dict[str, TestResult]:
    """Name -> a result as the drivers and the gateway build it."""
    from gateway.camera import Snapshot
    from gateway.evidence_store import with_evidence
    from gateway.labels import SampleLabel, apply_label
    from protocols.result import Site
    from tests.gateway.gw_fake_driver import make_result
    from tests.plausibility import test_redecode as redecode

    out: dict[str, TestResult] = {}
    with numbered_ids():
        out["enzyme"] = redecode.enzyme_result()
        out["enzyme_low"] = redecode.enzyme_result("0.5210", "0.1000")
        out["enzyme_weak_control"] = redecode.enzyme_result("0.1000", "0.0900")
        out["modbus_gr100"] = redecode.gold_result()
        out["line_ny10"] = redecode.line_result()
        for n, result in enumerate(redecode.astm_results()):
            out[f"astm_{n}"] = result
        for n, result in enumerate(_astm_doc()):
            out[f"astm_doc_{n}"] = result
        site = Site(id="yz-market-07", kind="market", name="七星岗农贸市场")
        now = datetime(2026, 12, 2, 9, 30, 0, 250000, tzinfo=TZ)
        out["fake_7"] = make_result(site, "ei-01", "tech-001", 7, now)
        out["fake_60"] = make_result(site, "ei-01", "tech-001", 60, now)
        label = SampleLabel(instrument="ei-01", channel=4, name="菠菜", category="vegetable", operator="tech-li",
                            stall="A-12", supplier="渝北蔬菜合作社", origin="重庆璧山", barcode="6901234567892",
                            kit_lot="EI-2411", kit_expiry=date(2026, 12, 1), control="negative_control")
        out["labelled"] = apply_label(out["fake_7"], label)
        out["unlabelled"] = apply_label(out["fake_60"], None)
        snapshot = Snapshot(data=b"jpeg", media_type="image/jpeg", extension="jpg", taken_at="2026-12-02T09:30:01+08:00")
        out["evidence"] = with_evidence(with_evidence(out["labelled"], snapshot), snapshot)
    vector = json.loads((Path(__file__).parent / "data" / "envelope-vector.json").read_text("utf-8"))
    out["vector"] = _validate(vector["envelope"]["result"])
    return out


def _validate(wire: dict[str, Any]) -> TestResult:
    from_wire: Callable[[dict[str, Any]], TestResult] | None = getattr(TestResult, "from_wire", None)
    return from_wire(wire) if from_wire else TestResult.model_validate(wire)  # type: ignore[attr-defined]


def _digest(wire: dict[str, Any]) -> str:
    return hashlib.sha256(jcs.dumps(wire)).hexdigest()


def test_every_case_has_a_golden_vector():
    assert sorted(cases()) == sorted(json.loads(GOLDEN.read_text("utf-8")))


def test_wire_bytes_match_the_pydantic_model():
    golden = json.loads(GOLDEN.read_text("utf-8"))
    for name, result in cases().items():
        wire = result.to_wire()
        assert wire == golden[name]["wire"], name
        assert jcs.dumps(wire) == jcs.dumps(golden[name]["wire"]), name
        assert _digest(wire) == golden[name]["jcs_sha256"], name


def test_wire_form_round_trips():
    for name, result in cases().items():
        again = _validate(json.loads(json.dumps(result.to_wire())))
        assert again == result, name
        assert jcs.dumps(again.to_wire()) == jcs.dumps(result.to_wire()), name


if __name__ == "__main__":
    pinned = {name: {"jcs_sha256": _digest(r.to_wire()), "wire": r.to_wire()} for name, r in cases().items()}
    GOLDEN.write_text(json.dumps(pinned, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"{len(pinned)} vectors -> {GOLDEN}")
