"""The one "no complete event yet" sentinel of every sans-I/O parser (enzyme, line profile, ASTM).

A single-member enum, so ``if event is NEED_DATA`` (or ``while (event := p.next_event()) is not
NEED_DATA``) narrows ``Event | NeedData`` to ``Event`` for a type checker.
"""

from __future__ import annotations

import enum
from typing import Final, Literal


class NeedData(enum.Enum):
    """Type of :data:`NEED_DATA`: the parser has no complete event until more bytes arrive."""

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = NeedData.NEED_DATA
NeedDataType = Literal[NeedData.NEED_DATA]
