"""Fixtures of the chaos scenarios: the crash test's work folder and restartable LIMS."""

from __future__ import annotations

from ..crash.conftest import lims_process, logs

__all__ = ["lims_process", "logs"]
