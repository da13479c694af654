"""Personal data in an envelope (pure): receipts publish envelopes exactly as signed, so they must hold none.

The operator is a pseudonymous technician id (letters, digits, ``._-``; no spaces or
CJK characters, so not a name). No member may be named for personal or contact
data, and no string may look like a mainland mobile number, an e-mail address or a
resident identity card number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

PSEUDONYMOUS_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PERSONAL_MEMBERS = frozenset({
    "name_of_operator", "operator_name", "technician_name", "phone", "mobile", "tel", "telephone", "email",
    "e_mail", "contact", "address", "id_card", "id_number", "wechat", "person", "owner",
})
_PATTERNS = {
    "mobile number": re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])"),
    "e-mail address": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    "identity card number": re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"),
}
# Digit runs inside hex or alphanumeric codes (UUIDs, serials, barcodes) are not numbers of people.
_SKIP = frozenset({"raw", "sig", "prev"})
"""Members holding encoded bytes or hashes, where digit runs mean nothing."""


def _strings(value: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """(path, member name, value) of every member below ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _SKIP:
                continue
            yield f"{path}.{key}", key, item
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def personal_data_findings(envelope: dict[str, Any]) -> list[str]:
    """Why ``envelope`` may hold personal data (empty when it holds only pseudonymous ids)."""
    findings = []
    operator = (envelope.get("result") or {}).get("operator")
    if not isinstance(operator, str) or not PSEUDONYMOUS_ID.match(operator):
        findings.append(f"result.operator {operator!r} is not a pseudonymous id ({PSEUDONYMOUS_ID.pattern})")
    for path, key, value in _strings(envelope, "envelope"):
        if key.lower() in PERSONAL_MEMBERS:
            findings.append(f"{path}: a member named for personal data")
        if isinstance(value, str):
            findings.extend(f"{path}: looks like a {what}" for what, pattern in _PATTERNS.items()
                            if pattern.search(value))
    return findings
