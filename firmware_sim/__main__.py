"""``python -m firmware_sim FAMILY [options]``: run one simulated instrument."""

from __future__ import annotations

import importlib
import sys

FAMILIES = {
    "enzyme": "firmware_sim.enzyme.cli",
    "gold": "firmware_sim.gold.cli",
    "astm": "firmware_sim.astm.cli",
    "line": "firmware_sim.line.cli",
    "camera": "firmware_sim.camera.cli",
}


def main(argv: list[str]) -> int:
    """Dispatch to the family's own ``main(argv)``."""
    if not argv or argv[0] not in FAMILIES:
        print(f"usage: python -m firmware_sim {{{','.join(FAMILIES)}}} [options]", file=sys.stderr)
        return 2
    module = importlib.import_module(FAMILIES[argv[0]])
    return int(module.main(argv[1:]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
