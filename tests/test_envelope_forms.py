"""``canonical_forms`` (one JCS pass) gives the same signing bytes and hash as the two separate JCS passes."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from protocols.envelope import canonical_forms, envelope_hash, signing_bytes

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(result=st.dictionaries(st.text(max_size=8), JSON, max_size=5), sig=st.text(), seq=st.integers(1, 2**53 - 1))
def test_one_pass_forms_equal_the_separate_passes(result: dict[str, Any], sig: str, seq: int) -> None:
    envelope = {"v": 1, "gateway": "gw-1", "kid": "0" * 16, "seq": seq, "prev": "a" * 64, "result": result, "sig": sig}
    assert canonical_forms(envelope) == (signing_bytes(envelope), envelope_hash(envelope))
