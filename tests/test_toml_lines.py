"""``protocols.toml_lines.find_key_line``: the line an error message points at, for tables, arrays of tables and inline tables."""

from __future__ import annotations

import pytest

from protocols.toml_lines import find_key_line

TEXT = """\
[gateway]
id = "gw-01"
operator.name = "tech"

[[instruments]]
id = "ei-01"
options = { port = "/dev/ttyUSB0", baud = 9600 }

[[instruments]]
id = "gold-01"

[instruments.options]
host = "10.0.0.5"
"quoted key" = 1

[[instruments]]
id = "astm-01"
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("gateway",), 1),
        (("gateway", "id"), 2),
        (("gateway", "operator", "name"), 3),
        (("gateway", "missing_key"), 1),  # an absent key: its table's line
        (("instruments",), 5),
        (("instruments", 0, "id"), 6),
        (("instruments", 0, "options", "baud"), 7),  # inside an inline table
        (("instruments", 1), 9),
        (("instruments", 1, "id"), 10),
        (("instruments", 1, "options"), 12),  # sub-table of the second element
        (("instruments", 1, "options", "host"), 13),
        (("instruments", 1, "options", "quoted key"), 14),
        (("instruments", 2, "id"), 17),
        (("instruments", 7, "id"), 5),  # no such element: the array's first line
        (("lims", "url"), None),
    ],
)
def test_line_of_key_path(path, line):
    assert find_key_line(TEXT, path) == line


def test_string_indexes_count_like_ints():
    assert find_key_line(TEXT, ["instruments", "2", "id"]) == 17
