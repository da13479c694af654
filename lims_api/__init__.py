"""Central LIMS: enrols gateways, verifies and stores signed result envelopes, shows and exports them.

Public API: ``create_app``, ``LimsSettings``, ``init_db``, ``export_bundle``.
"""

from .app import create_app
from .audit.export import export_bundle
from .core.migrate import init_db
from .core.settings import LimsSettings

__all__ = ["LimsSettings", "create_app", "export_bundle", "init_db"]
