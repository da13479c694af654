"""Error hierarchy of the gateway daemon: config, key file, outbox."""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway core raises on purpose."""


class ConfigError(GatewayError):
    """The config file is missing or invalid; ``issues`` holds one line per problem.

    Each issue names the file, the line when known, the key path and why.
    """

    def __init__(self, issues: list[str]) -> None:
        super().__init__("\n".join(issues))
        self.issues = issues


class KeyFileError(GatewayError):
    """The gateway key file is missing, unreadable, not Ed25519 or too widely readable."""


class OutboxError(GatewayError):
    """The outbox database cannot be used (wrong gateway id, corrupt schema)."""
