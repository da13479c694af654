"""Built-in Modbus instrument profiles (``*.toml`` package data, found with importlib.resources)."""
