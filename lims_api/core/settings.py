"""Service configuration, validated once at the edge (CLI) and passed explicitly to ``create_app``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class LimsSettings(BaseSettings):
    """LIMS settings; environment variables use the prefix ``KUAIJIAN_LIMS_``."""

    model_config = SettingsConfigDict(env_prefix="KUAIJIAN_LIMS_", extra="forbid")

    database_url: str | None = None
    """SQLAlchemy URL; ``None`` means a SQLite file ``lims.sqlite3`` inside ``data_dir``."""
    admin_token: SecretStr | None = None
    """Bearer token for admin routes (gateway enrolment); ``None`` disables them (403)."""
    admin_token_file: Path | None = None
    """File (mode 0600) whose first line is the admin token; read at start, wins over ``admin_token``."""
    data_dir: Path = Path("lims-data")
    max_body_bytes: int = Field(default=MIB, gt=0)
    """Largest body of ingest and heartbeat requests."""
    max_request_bytes: int = Field(default=64 * 1024, gt=0)
    """Largest body of every other request (login, forms, admin and case JSON)."""
    max_rejected_lines: int = Field(default=100, gt=0)
    """Ingest stops after this many rejected lines in one request and answers how many lines it left."""
    password_hash_concurrency: int = Field(default=2, gt=0)
    """Password checks and hashes running at once (argon2id takes ``password_memory_kib`` each)."""
    login_failures_per_account: int = Field(default=5, gt=0)
    """Failed logins for one username within ``login_failure_window_s`` before further tries get 429."""
    login_failures_per_client: int = Field(default=20, gt=0)
    """Failed logins from one client address within the window before its further tries get 429."""
    login_failure_window_s: float = Field(default=900.0, gt=0)
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses of reverse proxies whose ``X-Forwarded-For``/``X-Forwarded-Proto`` are believed (``kuaijian lims
    serve``); empty: the headers are ignored and the peer address is the client."""
    session_cookie_secure: bool | None = None
    """``Secure`` flag of the session cookie: ``None`` sets it when the request came over HTTPS (as the
    server sees it: behind a TLS-terminating proxy set ``true``, or trust the proxy's headers)."""
    password_hash_wait_s: float = Field(default=5.0, ge=0)
    """How long a login waits for a free hashing slot before it is answered 503 (retry)."""
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=8)
    """argon2id cost of new password hashes (defaults: argon2-cffi's RFC 9106 low-memory profile)."""
    timezone: str = "Asia/Shanghai"
    """Zone that decides which date "today" is on the site pages."""
    board_poll_s: float = Field(default=1.0, gt=0)
    """How often the live board's event stream re-reads the database (other workers' results)."""
    event_stream_max_s: float = Field(default=300.0, gt=0)
    """An event stream ends after this long; the browser reconnects (bounds stale connections)."""
    heartbeat_offline_s: float | None = Field(default=None, gt=0)
    """A gateway is offline after this many seconds without a heartbeat; ``None``: 3 × its interval, else 90 s."""
    console_refresh_s: float = Field(default=10.0, gt=0)
    """How often an open regulator console fetches its health part again (``/console/health``)."""
    tree_head_interval_min: float = Field(default=10.0, ge=0)
    """The service signs a Merkle tree head this often when the log grew (0: only ``tree-head``/``checkpoint``)."""
    witness_keys: dict[str, str] = Field(default_factory=dict)
    """Witnesses whose tree-head co-signatures are kept: kid -> raw Ed25519 public key, base64url."""

    def resolved_database_url(self) -> str:
        """The configured URL, or the default SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lims.sqlite3').resolve()}"
