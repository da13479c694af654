"""Central LIMS: enrols gateways, verifies and stores signed result envelopes, shows and exports them.

Public API: ``create_app``, ``LimsSettings``, ``init_db``, ``export_bundle``.
"""

from .app import create_app
from .audit.export import export_bundle
from .core.migrate import init_db
from .core.settings import LimsSettings
from .evidence.flagging import flag_new
from .followup.cases import open_case_for_positive
from .ingest.hooks import on_batch_stored, on_stored

on_stored(open_case_for_positive)  # in the storing transaction: no stored positive without its case
on_batch_stored(flag_new)  # per ingest request: plausibility flags, a fixed number of queries per batch

__all__ = ["LimsSettings", "create_app", "export_bundle", "init_db"]
