"""Simulated instruments (pty serial, Modbus RTU/TCP, ASTM) with fault injection.

Imports none of kuaijian's other packages: each simulator encodes its frames
from the instrument documents in ``docs/instruments/``.
"""
