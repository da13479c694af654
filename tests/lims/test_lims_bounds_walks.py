"""The bounds check's quick walk never lets through what the naming walk would refuse."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lims_api.ingest import limits

SHORT = st.integers(min_value=0, max_value=3)
TEXT = st.one_of(st.text(max_size=8), st.builds(lambda n: "x" * n, st.sampled_from(
    [limits.MAX_TEXT_CHARS, limits.MAX_TEXT_CHARS + 1])))
KEY = st.one_of(st.text(max_size=6), st.builds(lambda n: "k" * n, st.sampled_from(
    [limits.MAX_KEY_CHARS, limits.MAX_KEY_CHARS + 1])))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
JSON = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(KEY, inner, max_size=4)), max_leaves=40)


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": [value]}
    return value


def _naming_walk(document: Any) -> str | None:
    original = limits._plainly_within
    limits._plainly_within = lambda document: False  # type: ignore[assignment]
    try:
        return limits.bounds_problem(document, "result", limits.RESULT_UNBOUNDED_TEXT)
    finally:
        limits._plainly_within = original


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.dictionaries(KEY, JSON, max_size=6), st.builds(_deep, st.integers(1, 6))))
def test_the_quick_walk_agrees_with_the_naming_walk(document: Any) -> None:
    expected = _naming_walk(document)
    assert limits.bounds_problem(document, "result", limits.RESULT_UNBOUNDED_TEXT) == expected
    if limits._plainly_within(document):
        assert expected is None


def test_a_long_raw_text_is_allowed_only_where_it_is_unbounded() -> None:
    long = "A" * (limits.MAX_TEXT_CHARS + 1)
    assert limits.result_bounds_problem({"raw": {"data": long}}) is None
    assert limits.result_bounds_problem({"raw": {"note": long}}) == \
        f"result.raw.note: {len(long)} characters, at most {limits.MAX_TEXT_CHARS} allowed"
