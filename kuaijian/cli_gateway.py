"""``kuaijian gateway ...``: create, check and run a test-room gateway.

The gateway package is imported by the commands that use it, so other ``kuaijian`` commands (``audit verify``)
start without it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tomllib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from gateway.config import GatewayConfig

gateway_app = typer.Typer(help="The test-room gateway daemon.", no_args_is_help=True, add_completion=False)

CONFIG_NAME = "gateway.toml"
KEY_NAME = "gateway.key"
CONFIG_OPTION = typer.Option(..., "--config", "-c", help="Path of gateway.toml.")

_TEMPLATE = """\
# kuaijian gateway configuration; every key is described in docs/configuration.md.

[gateway]
id = {gateway_id}  # envelope "gateway": ^[a-z0-9][a-z0-9-]{{0,63}}$
key_file = "{key_name}"  # Ed25519 key, PKCS#8 PEM, mode 0600 (relative to this file)
outbox = "outbox.sqlite3"  # SQLite outbox (relative to this file)
operator = "tech-001"  # technician id used when the room page names nobody
# status_port = 9108  # Prometheus /metrics and /status JSON on status_host (127.0.0.1)
# max_clock_skew_s = 300  # flag results whose instrument clock is further off than this

[site]
id = {site_id}
kind = {site_kind}  # market | supermarket | school | canteen | station
name = {site_name}

[lims]
transport = "http"  # or "mqtt" (then fill in [mqtt] below)
url = {lims_url}
batch_size = 100
timeout_s = 10
retry_min_s = 0.5
retry_max_s = 30

# [room_page]  # technicians label samples and watch results (docs/room-page.md)
# enabled = true
# host = "0.0.0.0"  # default 127.0.0.1: this machine only; 0.0.0.0 for the room's tablets
# port = 8780

# [mqtt]
# host = "mqtt.example.cn"
# port = 1883
# topic_prefix = "kuaijian/v1"

[[instruments]]
id = "ei-01"
driver = "enzyme_inhibition"
enabled = true
# calibration_due = 2027-03-01   # last day of its calibration/verification: later results are flagged

[instruments.options]
port = "/dev/ttyUSB0"
"""


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML escapes)."""
    return json.dumps(value, ensure_ascii=False)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


@gateway_app.command("init")
def init(
    directory: Path = typer.Option(Path("."), "--dir", help="Folder to write gateway.toml and gateway.key into."),
    gateway_id: str = typer.Option("gw-01", help="Gateway id (lowercase letters, digits, '-')."),
    site_id: str = typer.Option("site-01", help="Site id as enrolled at the LIMS."),
    site_kind: str = typer.Option("market", help="market | supermarket | school | canteen | station."),
    site_name: str = typer.Option("Example market", help="Site name shown on published results."),
    lims_url: str = typer.Option("http://127.0.0.1:8000", help="Base URL of the LIMS."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing config and REPLACE the key."),
) -> None:
    """Write gateway.toml (one example instrument) and a new gateway.key (mode 0600)."""
    from gateway.config import parse_config
    from gateway.errors import ConfigError, GatewayError
    from gateway.keys import generate_key_file, kid_of, public_key_b64url

    config_path, key_path = directory / CONFIG_NAME, directory / KEY_NAME
    existing = [str(path) for path in (config_path, key_path) if path.exists()]
    if existing and not force:
        raise _fail(f"refusing to overwrite {', '.join(existing)}; pass --force to replace them (new key!)")
    text = _TEMPLATE.format(
        gateway_id=_toml_string(gateway_id),
        key_name=KEY_NAME,
        site_id=_toml_string(site_id),
        site_kind=_toml_string(site_kind),
        site_name=_toml_string(site_name),
        lims_url=_toml_string(lims_url),
    )
    try:
        parse_config(tomllib.loads(text), source=config_path, text=text)
        directory.mkdir(parents=True, exist_ok=True)
        key = generate_key_file(key_path, overwrite=force)
    except (ConfigError, GatewayError) as exc:
        raise _fail(str(exc)) from None
    config_path.write_text(text, "utf-8")
    typer.echo(f"config:     {config_path}")
    typer.echo(f"key file:   {key_path} (mode 0600)")
    typer.echo(f"public key: {public_key_b64url(key)}")
    typer.echo(f"kid:        {kid_of(key)}")
    typer.echo("Enrol the public key for this gateway at the LIMS, then run: kuaijian gateway run --config ...")


def _load(config: Path) -> GatewayConfig:
    from gateway.config import load_config
    from gateway.errors import ConfigError

    try:
        return load_config(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


@gateway_app.command("check-config")
def check_config(
    config: Path = CONFIG_OPTION,
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on warnings too (e.g. a serial device not present)."),
) -> None:
    """Check what `run` needs: config, key file and its mode, outbox owner, driver options, serial devices.

    Exit 1 on any error (`run` would refuse to start); a missing serial device is a warning
    (`run` starts and shows that instrument offline), an error with --strict.
    """
    from gateway.preflight import preflight

    loaded = _load(config)
    found = preflight(loaded, config, lambda: datetime.now().astimezone())
    for issue in found.errors:
        typer.echo(issue, err=True)
    for issue in found.warnings:
        typer.echo(f"warning: {issue}", err=True)
    if found.errors or (strict and found.warnings):
        raise typer.Exit(1)
    enabled = sum(1 for instrument in loaded.instruments if instrument.enabled)
    warned = f", {len(found.warnings)} warning(s)" if found.warnings else ""
    typer.echo(f"{config}: ok (gateway {loaded.gateway.id}, {enabled} enabled instrument(s){warned})")


@gateway_app.command("pubkey")
def pubkey(config: Path = CONFIG_OPTION) -> None:
    """Print the gateway's public key (base64url) and kid, on one line."""
    from gateway.errors import GatewayError
    from gateway.keys import kid_of, load_private_key, public_key_b64url

    loaded = _load(config)
    try:
        key = load_private_key(loaded.gateway.key_file)
    except GatewayError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{public_key_b64url(key)} {kid_of(key)}")


@gateway_app.command("run")
def run(config: Path = CONFIG_OPTION) -> None:
    """Run the daemon (JSON logs on stderr) until SIGTERM/SIGINT; exit 0 after a clean stop.

    The config is checked here (exit 1 with the reason); then this process becomes
    ``python -m gateway run`` (same PID), which runs the daemon without the CLI's libraries.
    SIGTERM/SIGINT are held from here on (the mask survives ``execv``) until the daemon handles them.
    """
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        _load(config)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "gateway", "run", "--config", str(config.resolve())])
    finally:  # reached only when there was no exec: the caller keeps the signal mask it had
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


@gateway_app.command("status")
def status(
    config: Path = CONFIG_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show instruments, uplink and backlog of the gateway (works while the daemon runs)."""
    from .cli_status import show_status

    show_status(config, as_json)
