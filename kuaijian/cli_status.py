"""``kuaijian gateway status``: the daemon's last status file plus fresh backlog counts from the outbox."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from protocols.calibration import calibration_state

from gateway.config import load_config
from gateway.errors import ConfigError, OutboxError
from gateway.health import read_status_file, status_path
from gateway.outbox import read_counts

STALE_AFTER_INTERVALS = 3


def collect_status(config_path: Path) -> dict[str, Any]:
    """Status as JSON-ready dict: ``daemon`` is running, stale (no fresh status file) or never_ran."""
    config = load_config(config_path)
    outbox = config.gateway.outbox
    snapshot = read_status_file(status_path(outbox)) or {}
    backlog = asdict(read_counts(outbox)) if outbox.exists() else None
    age = None
    if written := snapshot.get("written_at"):
        age = round((datetime.now().astimezone() - datetime.fromisoformat(written)).total_seconds(), 1)
    fresh = age is not None and age <= STALE_AFTER_INTERVALS * config.gateway.status_interval_s
    daemon = "never_ran" if not snapshot else ("running" if fresh and snapshot["uplink"]["state"] != "stopped"
                                               else "stopped_or_stale")
    return {**snapshot, "instruments": snapshot.get("instruments", []),
            "gateway": config.gateway.id, "daemon": daemon, "status_age_s": age,
            "status_file": str(status_path(outbox)), "backlog": backlog or snapshot.get("backlog")}


def show_status(config: Path, as_json: bool) -> None:
    """``kuaijian gateway status``: the status as JSON or tables; exit 1 when the config or outbox cannot be read."""
    try:
        status = collect_status(config)
    except (ConfigError, OutboxError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(status, ensure_ascii=False, indent=1))
        return
    _print_tables(status, Console(soft_wrap=True))


def _print_tables(status: dict[str, Any], console: Console) -> None:
    age = status["status_age_s"]
    console.print(f"gateway [bold]{status['gateway']}[/bold]: daemon {status['daemon']}"
                  + (f" (status written {age} s ago)" if age is not None else ""))
    instruments = Table("instrument", "driver", "state", "results", "last result", "clock skew s", "calibration due",
                        "last error", title="instruments")
    today = datetime.now().astimezone().date()
    for item in status.get("instruments", []):
        colour = {"online": "green", "error": "red"}.get(item["state"], "yellow")
        instruments.add_row(item["id"], item["driver"], f"[{colour}]{item['state']}[/{colour}]", str(item["results"]),
                            item["last_result_at"] or "-", _text(item["clock_skew_s"]),
                            _calibration(item.get("calibration_due"), today), item["last_error"] or "")
    console.print(instruments)
    uplink, backlog = status.get("uplink") or {}, status.get("backlog") or {}
    summary = Table("key", "value", title="uplink and backlog", show_header=False)
    for label, value in [("transport", uplink.get("transport")), ("uplink state", uplink.get("state")),
                         ("last upload", uplink.get("last_upload_at")), ("uplink error", uplink.get("last_error")),
                         ("pending", backlog.get("pending")), ("delivered", backlog.get("delivered")),
                         ("rejected", backlog.get("rejected")), ("last seq", backlog.get("last_seq")),
                         ("last delivered at", backlog.get("last_delivered_at")), ("outbox", _outbox(status))]:
        summary.add_row(label, _text(value))
    console.print(summary)


def _outbox(status: dict[str, Any]) -> str | None:
    """``ok``, or ``FAILING: <why>`` (red) while the outbox cannot store results (disk full)."""
    outbox = status.get("outbox") or {}
    if outbox.get("state") == "failing":
        return f"[red]FAILING: {outbox.get('error')}[/red]"
    return outbox.get("state")


def _calibration(due: str | None, today: date) -> str:
    """The due date, marked ``OVERDUE`` (red) after it or ``due soon`` within 30 days of it."""
    if due is None:
        return "-"
    state = calibration_state(date.fromisoformat(due), today)
    return {"overdue": f"[red]{due} OVERDUE[/red]", "due_soon": f"[yellow]{due} due soon[/yellow]"}.get(state, due)


def _text(value: object) -> str:
    return "-" if value is None else str(value)
