"""protocols.uuid7: RFC 9562 layout (version 7, variant 10, Unix milliseconds) and strict ordering."""

from __future__ import annotations

import time
import uuid

import pytest

from protocols import uuid7 as module
from protocols.uuid7 import uuid7


def test_layout_is_rfc_9562_version_7():
    before = time.time_ns() // 1_000_000
    text = uuid7()
    after = time.time_ns() // 1_000_000
    parsed = uuid.UUID(text)
    assert str(parsed) == text  # canonical: lowercase, hyphenated
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert before <= parsed.int >> 80 <= after + 1  # +1: the call may follow one in the same millisecond


def test_ids_strictly_increase_within_a_millisecond():
    ids = [uuid7() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_keep_increasing_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch):
    first = uuid7()
    monkeypatch.setattr(module.time, "time_ns", lambda: 1_000_000_000_000)  # 1970: far behind
    later = [uuid7() for _ in range(3)]
    assert [first, *later] == sorted({first, *later})


def test_random_bits_differ():
    values = {uuid.UUID(uuid7()).int & ((1 << 62) - 1) for _ in range(100)}
    assert len(values) == 100
