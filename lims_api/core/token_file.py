"""The admin token read from a file (``admin_token_file``), so it never sits in argv or a unit file."""

from __future__ import annotations

import stat
from pathlib import Path

from pydantic import SecretStr

from lims_api.core.errors import SettingsError
from lims_api.core.settings import LimsSettings

MIN_TOKEN_CHARS = 16


def read_token_file(path: Path) -> SecretStr:
    """The token on the first line of ``path``; the file must not be readable by group or others."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text("utf-8")
    except OSError as exc:
        raise SettingsError(f"admin token file {path}: cannot read it: {exc.strerror}") from None
    if mode & 0o077:
        raise SettingsError(f"admin token file {path}: mode is {mode:04o}, readable by group/others; "
                            f"fix it with: chmod 600 {path}")
    lines = text.strip().splitlines()
    token = lines[0].strip() if lines else ""
    if len(token) < MIN_TOKEN_CHARS:
        raise SettingsError(f"admin token file {path}: the first line must hold a token of at least "
                            f"{MIN_TOKEN_CHARS} characters")
    return SecretStr(token)


def with_admin_token_file(settings: LimsSettings) -> LimsSettings:
    """``settings`` with ``admin_token`` read from ``admin_token_file`` when that is set."""
    if settings.admin_token_file is None:
        return settings
    return settings.model_copy(update={"admin_token": read_token_file(settings.admin_token_file)})
