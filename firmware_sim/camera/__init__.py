"""A simulated IP camera answering HTTP snapshot requests (as ONVIF cameras expose ``GetSnapshotUri``)."""

from .image import png_image
from .server import FAULTS, CameraServer

__all__ = ["FAULTS", "CameraServer", "png_image"]
