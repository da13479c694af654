"""Text people type (a product name, a note, a sample label): normalised and checked before use."""

from __future__ import annotations

import unicodedata
from typing import ClassVar, Self

ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
"""Unicode categories refused: controls, format characters (bidi overrides...), private use, unassigned."""


def _visible(value: str, keep_newlines: bool) -> str:
    text = "".join(ch for ch in unicodedata.normalize("NFC", value) if ch not in ZERO_WIDTH)
    allowed = "\n" if keep_newlines else ""
    for position, char in enumerate(text):
        if unicodedata.category(char) in INVISIBLE and char not in allowed and not char.isspace():
            raise ValueError(f"character U+{ord(char):04X} at position {position} is not allowed (control/format)")
    lines = [" ".join(line.split()) for line in text.split("\n")] if keep_newlines else [" ".join(text.split())]
    cleaned = "\n".join(line for line in lines if line)
    if not cleaned:
        raise ValueError("must contain visible characters")
    return cleaned


def public_line(value: str) -> str:
    """NFC, zero-width characters dropped, whitespace runs made one space, trimmed; controls refused."""
    return _visible(value, keep_newlines=False)


def public_lines(value: str) -> str:
    """Like :func:`public_line`, keeping line breaks (empty lines dropped)."""
    return _visible(value, keep_newlines=True)


class PublicLine(str):
    """A field type: one line of typed text, cleaned by :func:`public_line`; ``max_length`` counts after cleaning."""

    max_length: ClassVar[int | None] = None

    @staticmethod
    def clean(value: str) -> str:
        """The cleaning rule of this type."""
        return public_line(value)

    @classmethod
    def parse_value(cls, value: object) -> Self:
        """``value`` cleaned; ValueError/TypeError say why it is refused."""
        if not isinstance(value, str):
            raise TypeError(f"Expected `str`, got `{type(value).__name__}`")
        text = cls.clean(value)
        if cls.max_length is not None and len(text) > cls.max_length:
            raise ValueError(f"at most {cls.max_length} characters, got {len(text)}")
        return cls(text)


class PublicLines(PublicLine):
    """A field type: typed text that keeps its line breaks (:func:`public_lines`)."""

    @staticmethod
    def clean(value: str) -> str:
        """The cleaning rule of this type."""
        return public_lines(value)
