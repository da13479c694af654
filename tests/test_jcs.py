"""``protocols.jcs.dumps`` gives byte for byte what ``rfc8785.dumps`` gives, and raises what it raises.

Properties compare the two on generated JSON values (edge floats, ints around 2**53, all of
Unicode with lone surrogates, member names that sort differently in UTF-16 and in code points,
deep nesting), on real envelopes with values replaced, and on values outside JSON. The default
run takes a few thousand examples; ``make test-slow`` (marker ``slow``) takes 100,000 per property.
"""

from __future__ import annotations

import copy
import enum
import hashlib
import json
import math
from collections import OrderedDict
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.envelopes import Chain
from protocols import envelope as env
from protocols import jcs
from protocols.errors import EnvelopeError

from .bundle_factory import VECTOR, chain

SLOW_EXAMPLES = 100_000
SAFE = 2**53 - 1
BOUNDS = (1e-7, 1e-6, 1e-4, 2.0**53, 1e16, 1e21, 1e22, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308)
EDGE_FLOATS = [b for bound in BOUNDS for b in (math.nextafter(bound, 0), bound, math.nextafter(bound, math.inf))]
SPECIAL_CHARS = "\x00\x01\x08\t\n\x0b\x0c\r\x1f \"\\/\x7f\x80\u2028\u2029\ud800\udbff\udc00\udfff\ue000\ufb33\ufffd\uffff" \
                "\U00010000\U0001f600\U0010ffff"

floats = (st.floats() | st.sampled_from(EDGE_FLOATS + [0.0, -0.0, 100.0, math.nan, math.inf, -math.inf])
          | st.floats(1e-7, 1e-4) | st.floats(1e16, 1e22) | st.floats(allow_subnormal=True, max_value=1e-300)
          | st.integers(-(2**70), 2**70).map(float) | st.integers(-(2**54), 2**54).map(float))
floats = floats | floats.map(lambda f: -f)
integers = (st.integers(-SAFE, SAFE) | st.integers(SAFE - 3, SAFE + 3) | st.integers(-SAFE - 3, -SAFE + 3)
            | st.integers())
texts = st.text(st.characters(exclude_categories=()), max_size=12) | st.text(st.sampled_from(SPECIAL_CHARS), max_size=8)
names = st.text(st.sampled_from("a1\x00\x7f\u00f6\u20ac\ue000\ufb33\uffff\U00010000\U0001f600\U0010ffff\ud83d"),
                max_size=4) | texts
scalars = st.none() | st.booleans() | integers | floats | texts


def _nest(value: Any, depth: int, in_object: bool) -> Any:
    for _ in range(depth):
        value = {"k": value} if in_object else [value]
    return value


def json_values(max_leaves: int) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: (st.lists(inner, max_size=5) | st.dictionaries(names, inner, max_size=5)
                       | st.builds(_nest, inner, st.integers(1, 80), st.booleans())),
        max_leaves=max_leaves,
    )


SMALL_JSON = json_values(4)


class Number(enum.IntEnum):
    ONE = 1


class Text(str):
    pass


exotic_scalars = st.sampled_from([Number.ONE, Text("x"), b"x", 1j, {1}, object()]) | st.builds(Text, texts)
exotic_values = st.recursive(
    scalars | exotic_scalars,
    lambda inner: (st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple)
                   | st.dictionaries(names | st.integers() | st.none() | st.builds(Text, names), inner, max_size=4)
                   | st.dictionaries(names, inner, max_size=4).map(OrderedDict)),
    max_leaves=6,
)


def _real_envelopes() -> list[dict[str, Any]]:
    bundle = chain(Ed25519PrivateKey.generate(), "gw-jcs", 5)
    bench = [json.loads(line) for line in Chain("gw-jcs-bench").lines(5)]
    return [VECTOR["envelope"], *bundle, *bench]


REAL_ENVELOPES = _real_envelopes()


def _slots(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) inside ``value``, the containers themselves included."""
    found: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        found += [(value, key) for key in value] + [(value, None)]
        for item in value.values():
            found += _slots(item)
    elif isinstance(value, list):
        found += [(value, index) for index in range(len(value))] + [(value, None)]
        for item in value:
            found += _slots(item)
    return found


@st.composite
def mutated_envelopes(draw: st.DrawFn) -> dict[str, Any]:
    """A real envelope with up to three values replaced, or members added, by generated JSON."""
    envelope = copy.deepcopy(draw(st.sampled_from(REAL_ENVELOPES)))
    for _ in range(draw(st.integers(0, 3))):
        slots = _slots(envelope)
        container, key = slots[draw(st.integers(0, len(slots) - 1))]
        value = draw(SMALL_JSON)
        if key is not None:
            container[key] = value
        elif isinstance(container, dict):
            container[draw(names)] = value
        else:
            container.append(value)
    return envelope


def outcome(dumps: Any, value: Any) -> bytes | tuple[type, str]:
    """The bytes ``dumps`` gives, or the type and message of what it raises."""
    try:
        return dumps(value)
    except Exception as exc:
        return type(exc), str(exc)


def assert_same(value: Any) -> None:
    assert outcome(jcs.dumps, value) == outcome(rfc8785.dumps, value)


PROPERTIES = {"json": json_values(10), "envelope": mutated_envelopes(), "exotic": exotic_values}
DEFAULT_EXAMPLES = {"json": 1200, "envelope": 600, "exotic": 200}


def run_property(name: str, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(PROPERTIES[name])
    def prop(value: Any) -> None:
        assert_same(value)

    prop()


@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_same_bytes_or_same_error_as_rfc8785(name: str) -> None:
    run_property(name, DEFAULT_EXAMPLES[name])


@pytest.mark.slow
@pytest.mark.timeout(7200)
@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_same_bytes_or_same_error_as_rfc8785_slow(name: str) -> None:
    run_property(name, SLOW_EXAMPLES)


def test_contract_vector_bytes() -> None:
    envelope = VECTOR["envelope"]
    unsigned = {k: v for k, v in envelope.items() if k != "sig"}
    assert hashlib.sha256(jcs.dumps(unsigned)).hexdigest() == VECTOR["signing_bytes_sha256"]
    assert hashlib.sha256(jcs.dumps(envelope)).hexdigest() == VECTOR["envelope_hash"]
    assert jcs.dumps(envelope) == rfc8785.dumps(envelope)


def test_real_envelopes_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [rfc8785.dumps(envelope) for envelope in REAL_ENVELOPES]
    monkeypatch.setattr(jcs.rfc8785, "dumps", lambda value: pytest.fail(f"fell back on {value!r}"))
    assert [jcs.dumps(envelope) for envelope in REAL_ENVELOPES] == expected


@pytest.mark.parametrize(("value", "text"), [
    (100.0, "100"), (-0.0, "0"), (0.0, "0"), (-1.5, "-1.5"), (0.1 + 0.2, "0.30000000000000004"),
    (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (1e-6, "0.000001"), (1.5e-5, "0.000015"), (1e-4, "0.0001"),
    (9007199254740992.0, "9007199254740992"), (9999999999999998.0, "9999999999999998"),
    (1e16, "10000000000000000"), (1.2345678901234567e16, "12345678901234568"),
    (2.0**60, "1152921504606847000"), (1e20, "100000000000000000000"), (1e21, "1e+21"), (1e23, "1e+23"),
    (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (-1e-7, "-1e-7"),
    (333333333.33333329, "333333333.3333333"), (1e30, "1e+30"), (4.50, "4.5"), (2e-3, "0.002"), (1e-27, "1e-27"),
])
def test_float_forms(value: float, text: str) -> None:
    assert jcs.dumps(value) == rfc8785.dumps(value) == text.encode()


@pytest.mark.parametrize("value", [SAFE, -SAFE, 0, 1, -1, 2**31, True, False, None])
def test_integers_and_literals(value: Any) -> None:
    assert jcs.dumps(value) == rfc8785.dumps(value) == json.dumps(value).encode()


@pytest.mark.parametrize(("value", "error"), [
    (SAFE + 1, rfc8785.IntegerDomainError), (-SAFE - 1, rfc8785.IntegerDomainError), (10**400, rfc8785.IntegerDomainError),
    (math.nan, rfc8785.FloatDomainError), (math.inf, rfc8785.FloatDomainError), (-math.inf, rfc8785.FloatDomainError),
    ("a\ud800", rfc8785.CanonicalizationError), ({"k": ["\udfff"]}, rfc8785.CanonicalizationError),
    ({"\ud800": 1}, UnicodeEncodeError), ({1: 2}, rfc8785.CanonicalizationError), ({None: 2}, rfc8785.CanonicalizationError),
    ({1, 2}, rfc8785.CanonicalizationError), (b"x", rfc8785.CanonicalizationError),
])
def test_errors_are_rfc8785s_and_canonical_maps_them(value: Any, error: type[Exception]) -> None:
    assert outcome(jcs.dumps, value) == outcome(rfc8785.dumps, value)
    with pytest.raises(error):
        jcs.dumps(value)
    with pytest.raises(EnvelopeError) as info:
        env.canonical({"result": value})
    assert info.value.code == "not_canonicalizable"


def test_string_escapes() -> None:
    value = "\x00\x01\x08\t\n\x0b\x0c\r\x1f\"\\/\x7f\u2028\u2029\U0001f600"
    expected = b'"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f\\"\\\\/\x7f' + "\u2028\u2029\U0001f600".encode() + b'"'
    assert jcs.dumps(value) == rfc8785.dumps(value) == expected
    rfc_example = "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"/"  # RFC 8785 §3.2.2.2
    assert jcs.dumps(rfc_example) == "\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"".encode()


def test_member_names_sort_by_utf16_code_units() -> None:
    value = {"\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "\U0001f600": 5, "\u0080": 6, "\u00f6": 7}  # RFC 8785 §3.2.3
    expected = '{"\\r":2,"1":4,"\u0080":6,"\u00f6":7,"\u20ac":1,"\U0001f600":5,"\ufb33":3}'.encode()
    assert jcs.dumps(value) == rfc8785.dumps(value) == expected


@pytest.mark.parametrize("value", [
    (1, "a", [2.0]), {"a": (1, 2)}, OrderedDict(b=1, a=2), Number.ONE, Text("x\n"), {Text("b"): 1, "a": 2},
    {"a": True, "b": 1, "c": 1.0}, [], {}, [[]], [{}], "",
])
def test_other_types_and_empty_containers(value: Any) -> None:
    assert outcome(jcs.dumps, value) == outcome(rfc8785.dumps, value)


@pytest.mark.parametrize("depth", [1, jcs.MAX_FAST_DEPTH - 1, jcs.MAX_FAST_DEPTH, jcs.MAX_FAST_DEPTH + 1, 500])
@pytest.mark.parametrize("in_object", [False, True])
def test_deep_nesting(depth: int, in_object: bool) -> None:
    assert_same(_nest(1.0, depth, in_object))


def test_nesting_past_the_recursion_limit_raises_as_rfc8785_does() -> None:
    value = _nest(1, 5000, False)
    with pytest.raises(RecursionError):
        rfc8785.dumps(value)
    with pytest.raises(RecursionError):
        jcs.dumps(value)
