"""``protocols.result``: extra members kept, strict ``from_wire`` with every problem named, checks on construction."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from msgspec.structs import replace

from protocols.result import QC, Measurement, Raw, ResultError, Sample, Site, TestResult

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = json.loads((ROOT / "tests" / "data" / "result-wire-golden.json").read_text("utf-8"))


def wire(name: str = "enzyme") -> dict:
    return json.loads(json.dumps(GOLDEN[name]["wire"]))


def problems(obj: object) -> list[tuple[str, str]]:
    with pytest.raises(ResultError) as caught:
        TestResult.from_wire(obj)
    assert isinstance(caught.value, msgspec.ValidationError)
    return caught.value.problems


def test_importing_the_result_model_imports_no_pydantic():
    code = "import protocols.result, sys; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_members_at_every_level_are_kept_and_put_back():
    obj = wire()
    obj["kit"] = {"lot": "L1", "expiry": "2099-01-01"}
    obj["extra"] = [1, {"extra": None}]  # a member called "extra" is just another unknown member
    for name in ("site", "instrument", "sample", "test", "qc", "raw"):
        obj[name] = {**obj[name], "note": name, "extra": name}
    result = TestResult.from_wire(obj)
    assert result.extra == {"kit": obj["kit"], "extra": obj["extra"]}
    assert result.site.extra == {"note": "site", "extra": "site"}
    assert result.measurement.extra["control_delta_a"] == 0.521
    assert result.to_wire() == obj and list(result.to_wire()) == list(obj)
    assert TestResult.from_wire(result.to_wire()) == result


def test_measurement_extras_are_the_constructor_extra_dict():
    m = Measurement(value=5, unit="%", cutoff=None, extra={"t_intensity": 1.5, "comments": ["a"]})
    assert m.value == 5.0 and type(m.value) is float
    assert msgspec.to_builtins(m)["extra"] == {"t_intensity": 1.5, "comments": ["a"]}
    assert m == Measurement(value=5.0, unit="%", cutoff=None, extra={"t_intensity": 1.5, "comments": ["a"]})
    assert m != Measurement(value=5.0, unit="%", cutoff=None)


def test_every_problem_is_named_with_its_path():
    obj = wire()
    obj["site"]["id"] = 7
    obj["measurement"]["value"] = "lots"
    obj["tested_at"] = "2026-11-23T09:15:04"
    obj["channel"] = 1.5
    obj["qc"]["flags"] = ["ok", 3]
    del obj["verdict"]
    assert problems(obj) == [
        ("$.site.id", "Expected `str`, got `int`"),
        ("$.channel", "Expected `int | str | null`, got `float`"),
        ("$.measurement.value", "Expected `float | null`, got `str`"),
        ("$", "Object missing required field `verdict`"),
        ("$.qc.flags[1]", "Expected `str`, got `int`"),
        ("$.tested_at", "RFC 3339 time needs an explicit offset: '2026-11-23T09:15:04'"),
    ]


@pytest.mark.parametrize(("path", "value", "where", "words"), [
    (("verdict",), "maybe", "$.verdict", "Invalid enum value 'maybe'"),
    (("site", "kind"), "farm", "$.site.kind", "Invalid enum value 'farm'"),
    (("test", "kind"), "pcr", "$.test.kind", "Invalid enum value 'pcr'"),
    (("qc", "control"), "spike", "$.qc.control", "Invalid enum value 'spike'"),
    (("raw", "transport"), "usb", "$.raw.transport", "Invalid enum value 'usb'"),
    (("raw", "encoding"), "hex", "$.raw.encoding", "Invalid enum value 'hex'"),
    (("channel",), True, "$.channel", "got `bool`"),
    (("measurement", "cutoff"), "50", "$.measurement.cutoff", "got `str`"),
    (("sample", "name"), 5, "$.sample.name", "got `int`"),
    (("received_at",), "yesterday", "$.received_at", "not an RFC 3339 time: 'yesterday'"),
    (("measurement",), [], "$.measurement", "Expected `object`, got `array`"),
])
def test_strict_decode_refuses(path, value, where, words):
    obj = wire()
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    [(found, message)] = problems(obj)
    assert found == where and words in message, (found, message)


def test_a_non_object_and_a_missing_part_are_refused():
    assert problems([1]) == [("$", "Expected `object`, got `array`")]
    obj = wire()
    del obj["raw"]["data"]
    assert problems(obj) == [("$.raw", "Object missing required field `data`")]


def test_construction_checks_what_the_wire_checks():
    with pytest.raises(ValueError, match="`value` must be a finite number"):
        Measurement(value=math.nan, unit="%", cutoff=None)
    with pytest.raises(ValueError, match="`cutoff` must be a number or null, got str"):
        Measurement(value=1.0, unit="%", cutoff="50")
    with pytest.raises(ValueError, match="`kind` must be one of"):
        Site(id="s", kind="farm", name="n")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`barcode` must be a string or null, got int"):
        Sample(barcode=690)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`flags` must be a list of strings"):
        QC(flags=["a", 1])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="`transport` must be one of"):
        Raw(transport="usb", data="")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Missing required argument 'data'"):
        Raw(transport="serial")  # type: ignore[call-arg]
    result = TestResult.from_wire(wire())
    with pytest.raises(ValueError, match="`tested_at`: RFC 3339 time needs an explicit offset"):
        replace(result, tested_at="2026-12-02T09:29:00")
    with pytest.raises(ValueError, match="`channel` must be an integer, a string or null, got float"):
        replace(result, channel=1.0)
    with pytest.raises(ValueError, match="`site` must be a Site, got dict"):
        replace(result, site={"id": "s"})


def test_results_are_frozen_and_replace_makes_changed_copies():
    result = TestResult.from_wire(wire())
    with pytest.raises(AttributeError):
        result.verdict = "negative"  # type: ignore[misc]
    flagged = replace(result, qc=replace(result.qc, flags=[*result.qc.flags, "x"]))
    assert flagged.qc.flags == ["x"] and result.qc.flags == [] and flagged != result


def test_an_extra_member_may_not_repeat_a_named_one():
    result = TestResult.from_wire(wire())
    clash = replace(result, measurement=replace(result.measurement, extra={"value": 1}))
    with pytest.raises(ValueError, match=r"repeats named member\(s\) \['value'\]"):
        clash.to_wire()


RACE = """
import json, sys, threading
sys.setswitchinterval(1e-6)
from protocols.result import ResultError, TestResult
wire = json.load(open("tests/data/result-wire-golden.json"))["enzyme"]["wire"]
start = threading.Barrier(8)
def work():
    start.wait()
    for _ in range(30):
        TestResult.from_wire(wire)
        try:
            TestResult.from_wire({**wire, "channel": 1.5})
        except ResultError:
            pass
threads = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
"""


def test_first_decodes_in_many_threads_at_once_do_not_crash():
    """msgspec builds type information on first use; done at import, threads never see it half built."""
    for _ in range(3):
        run = subprocess.run([sys.executable, "-c", RACE], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
