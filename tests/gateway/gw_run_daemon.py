"""``python -m tests.gateway.gw_run_daemon CONFIG``: the real daemon with the counting driver registered."""

from __future__ import annotations

import sys

from drivers import registry
from gateway.config import load_config
from gateway.daemon import serve
from gateway.logging_setup import setup_json_logging

from .gw_fake_driver import DRIVER_NAME, DRIVER_TARGET

if __name__ == "__main__":
    registry.BUILTIN[DRIVER_NAME] = DRIVER_TARGET
    setup_json_logging()
    serve(load_config(sys.argv[1]))
