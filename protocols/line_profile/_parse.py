"""One complete line → LineReading or LineError(s), resynchronising inside a line when needed."""

from __future__ import annotations

import re

from ._checksum import checksum_problem
from ._fields import FieldValueError, convert_all
from ._schema import Profile
from .events import LineError, LineEvent, LineReading


def parse_line(profile: Profile, raw: bytes, offset: int) -> list[LineEvent]:
    """Events of the line ``raw`` (terminator included) that starts at stream ``offset``.

    When the whole line does not match, the shortest suffix that is a good line (pattern and
    checksum) is still decoded, so noise or a cut-off line glued in front loses nothing after it:
    the prefix becomes a ``no_match`` error and the suffix a reading.
    """
    body = raw[: len(raw) - len(profile.line.terminator)]
    text = body.decode(profile.line.encoding, "surrogateescape")
    pattern = profile.regex
    match = pattern.fullmatch(text)
    if match is None:
        for start in range(1, len(text)):
            suffix = pattern.fullmatch(text, start)
            if suffix is not None and checksum_problem(profile.checksum, suffix, profile.line.encoding) is None:
                detail = f"{start} byte(s) before a good line match no pattern"
                prefix = LineError("no_match", offset, detail, body[:start])
                return [prefix, *_reading(profile, suffix, raw[start:], offset + start)]
        return [LineError("no_match", offset, f"line of {len(body)} byte(s) does not match the pattern", raw)]
    problem = checksum_problem(profile.checksum, match, profile.line.encoding)
    if problem is not None:
        return [LineError("bad_checksum", offset, problem, raw)]
    return _reading(profile, match, raw, offset)


def _reading(profile: Profile, match: re.Match[str], raw: bytes, offset: int) -> list[LineEvent]:
    try:
        return [LineReading(convert_all(profile, match), offset, raw)]
    except FieldValueError as exc:
        return [LineError("bad_field", offset, str(exc), raw)]
