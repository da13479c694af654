"""Gateway configuration: one TOML file, validated at the edge (see docs/configuration.md)."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import ErrorDetails

from drivers import registry
from protocols.calibration import parse_due_date
from protocols.envelope import GATEWAY_ID
from protocols.errors import WireError
from protocols.result import Site, SiteKind
from protocols.toml_lines import find_key_line
from protocols.wire.topics import check_prefix

from .errors import ConfigError

Loc = tuple[str | int, ...]
"""A key path into the config, as pydantic reports it: ``("instruments", 1, "driver")``."""

INSTRUMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

ConfigPath = Annotated[Path, Field(strict=False)]


def _in_config_folder(value: Path, info: ValidationInfo) -> Path:
    """A relative path taken from the folder of the config file being read (``base_dir`` context)."""
    base = (info.context or {}).get("base_dir")
    return value if value.is_absolute() or base is None else Path(base) / value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class GatewaySection(_Section):
    """``[gateway]``: identity, key, outbox and default operator."""

    id: Annotated[str, Field(pattern=GATEWAY_ID.pattern)]
    key_file: ConfigPath
    outbox: ConfigPath
    operator: Annotated[str, Field(min_length=1)]
    status_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    status_host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    status_interval_s: Annotated[float, Field(gt=0)] = 5.0
    max_clock_skew_s: Annotated[float, Field(gt=0)] = 300.0

    @field_validator("key_file", "outbox")
    @classmethod
    def _relative_to_config_folder(cls, value: Path, info: ValidationInfo) -> Path:
        return _in_config_folder(value, info)


class SiteSection(_Section):
    """``[site]``: the test room this gateway serves."""

    id: Annotated[str, Field(min_length=1)]
    kind: SiteKind
    name: Annotated[str, Field(min_length=1)]

    def to_site(self) -> Site:
        """The ``site`` member every TestResult of this gateway carries."""
        return Site(id=self.id, kind=self.kind, name=self.name)


class LimsSection(_Section):
    """``[lims]``: where and how envelopes are uploaded (``url`` is needed by the http transport)."""

    transport: Literal["http", "mqtt"] = "http"
    url: str | None = None
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 100
    timeout_s: Annotated[float, Field(gt=0)] = 10.0
    retry_min_s: Annotated[float, Field(gt=0)] = 0.5
    retry_max_s: Annotated[float, Field(gt=0)] = 30.0
    heartbeat_s: Annotated[float, Field(ge=0)] = 30.0
    """Seconds between signed heartbeats to the LIMS (http transport only; 0 turns them off)."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _retry_bounds_ordered(self) -> LimsSection:
        if self.retry_max_s < self.retry_min_s:
            raise ValueError(f"retry_max_s ({self.retry_max_s}) is below retry_min_s ({self.retry_min_s})")
        if self.transport == "http" and self.url is None:
            raise ValueError('url is required when transport is "http"')
        return self


class MqttSection(_Section):
    """``[mqtt]``: the broker used when ``[lims] transport = "mqtt"`` (see docs/mqtt.md)."""

    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    topic_prefix: Annotated[str, Field(pattern=r"^[^#+\s]+[^/#+\s]$")] = "kuaijian/v1"
    client_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    username: str | None = None
    password: str | None = None
    keepalive: Annotated[int, Field(ge=5, le=3600)] = 60
    window: Annotated[int, Field(ge=1, le=10_000)] = 200

    @field_validator("topic_prefix")
    @classmethod
    def _prefix_heads_the_topics(cls, prefix: str) -> str:
        """The LIMS's own rule for a prefix (protocols.wire.topics), besides the pattern's no-whitespace rule."""
        try:
            return check_prefix(prefix)
        except WireError as exc:
            raise ValueError(str(exc)) from None


class RoomPageSection(_Section):
    """``[room_page]``: the technicians' page (sample labels, live results); see docs/room-page.md."""

    enabled: bool = True
    host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8780
    recent_results: Annotated[int, Field(ge=1, le=500)] = 30
    sign_in: bool = True
    """Technicians sign in (badge or PIN); the signed-in one's pseudonymous id is each result's ``operator``."""
    sign_out_idle_s: Annotated[float, Field(gt=0)] = 900.0
    roster_refresh_s: Annotated[float, Field(gt=0)] = 300.0
    roster: ConfigPath | None = None
    """The cached technician roster; default ``<outbox>.technicians.json``."""

    @field_validator("roster")
    @classmethod
    def _roster_relative_to_config_folder(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return None if value is None else _in_config_folder(value, info)


class CameraSection(_Section):
    """``[camera]``: the room's IP camera; one snapshot per result as evidence (docs/evidence.md)."""

    snapshot_url: Annotated[str, Field(pattern=r"^https?://[^/\s]+")]
    timeout_s: Annotated[float, Field(gt=0, le=30)] = 2.0
    max_bytes: Annotated[int, Field(ge=1024, le=50_000_000)] = 5_000_000
    username: str | None = None
    password: str | None = None


class PlausibilitySection(_Section):
    """``[instruments.plausibility]``: the instrument's enrolled identity and its method's shortest times.

    Unset times fall back to the defaults of the result's test kind (``protocols/plausibility``);
    unset ``serial``/``firmware`` are not checked; without ``channels`` the hourly-rate rule is off.
    """

    channel_cycle_s: Annotated[float, Field(ge=0)] | None = None
    """0 turns the channel-cycle and hourly-rate rules off (e.g. a time-lapse simulator)."""
    label_to_result_s: Annotated[float, Field(ge=0)] | None = None
    channels: Annotated[int, Field(ge=1, le=1000)] | None = None
    serial: Annotated[str, Field(min_length=1)] | None = None
    firmware: Annotated[str, Field(min_length=1)] | None = None


class InstrumentSection(_Section):
    """``[[instruments]]``: one connected analyzer and the driver that reads it."""

    id: Annotated[str, Field(pattern=INSTRUMENT_ID.pattern)]
    driver: str
    enabled: bool = True
    options: dict[str, Any] = Field(default_factory=dict)
    calibration_due: date | None = None
    """Last day the instrument's calibration/verification is valid; later results get ``calibration_overdue``."""
    plausibility: PlausibilitySection = Field(default_factory=PlausibilitySection)

    @field_validator("driver")
    @classmethod
    def _registered_driver(cls, value: str) -> str:
        if value not in registry.available():
            raise ValueError(f"unknown driver {value!r}; known: {', '.join(registry.available())}")
        return value

    @field_validator("calibration_due", mode="before")
    @classmethod
    def _due_date(cls, value: object) -> date | None:
        return None if value is None else parse_due_date(value)


class GatewayConfig(_Section):
    """The whole gateway.toml."""

    gateway: GatewaySection
    site: SiteSection
    lims: LimsSection
    mqtt: MqttSection | None = None
    room_page: RoomPageSection = Field(default_factory=RoomPageSection)
    camera: CameraSection | None = None
    instruments: list[InstrumentSection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _mqtt_section_for_mqtt_transport(self) -> GatewayConfig:
        if self.lims.transport == "mqtt" and self.mqtt is None:
            raise ValueError('[mqtt] table is required when [lims] transport is "mqtt"')
        return self

    @model_validator(mode="after")
    def _room_page_port_free(self) -> GatewayConfig:
        room, gateway = self.room_page, self.gateway
        if room.enabled and room.port != 0 and room.port == gateway.status_port:
            raise ValueError(f"[room_page] port {room.port} is also [gateway] status_port; give them different ports")
        return self

    def roster_path(self) -> Path:
        """Where the technician roster is cached: ``[room_page] roster`` or next to the outbox."""
        outbox = self.gateway.outbox
        return self.room_page.roster or outbox.with_name(outbox.name + ".technicians.json")

    def mqtt_client_id(self) -> str:
        """MQTT client id: ``[mqtt] client_id`` or ``kuaijian-<gateway id>``."""
        return (self.mqtt.client_id if self.mqtt else None) or f"kuaijian-{self.gateway.id}"


def load_config(path: str | Path) -> GatewayConfig:
    """Read and validate a gateway TOML file; relative paths resolve against its folder."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: config file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read config file: {exc}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        where = f"{path}:{match.group(1)}" if match else str(path)
        raise ConfigError([f"{where}: TOML syntax error: {exc}"]) from None
    return parse_config(data, source=path, text=text)


def parse_config(data: dict[str, Any], *, source: Path, text: str = "") -> GatewayConfig:
    """Validate already parsed TOML ``data`` read from ``source`` (``text`` locates lines)."""
    try:
        config = GatewayConfig.model_validate(data, context={"base_dir": source.parent})
    except ValidationError as exc:
        raise ConfigError([_issue(source, text, err["loc"], _why(err)) for err in exc.errors()]) from None
    duplicates = _duplicate_instrument_ids(config)
    if duplicates:
        raise ConfigError([_issue(source, text, loc, why) for loc, why in duplicates])
    return config


def _duplicate_instrument_ids(config: GatewayConfig) -> list[tuple[Loc, str]]:
    first_index: dict[str, int] = {}
    found: list[tuple[Loc, str]] = []
    for index, instrument in enumerate(config.instruments):
        if instrument.id in first_index:
            why = f"duplicate instrument id {instrument.id!r} (first used by instruments[{first_index[instrument.id]}])"
            found.append((("instruments", index, "id"), why))
        first_index.setdefault(instrument.id, index)
    return found


def issue_at(source: Path, loc: Loc, why: str) -> str:
    """One ``FILE:LINE: key.path: why`` message for a problem found after loading ``source``."""
    try:
        text = source.read_text("utf-8")
    except OSError:
        text = ""
    return _issue(source, text, loc, why)


def _issue(source: Path, text: str, loc: Loc, why: str) -> str:
    line = find_key_line(text, loc)
    where = f"{source}:{line}" if line is not None else str(source)
    return f"{where}: {format_loc(loc)}: {why}"


def _why(err: ErrorDetails) -> str:
    kind, message = err["type"], err["msg"]
    if kind == "missing":
        return "missing table" if len(err["loc"]) == 1 else "missing required key"
    if kind == "extra_forbidden":
        return "unknown key (misspelt?)"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"wrong type: {message}, got {type(err['input']).__name__} {err['input']!r}"
    return f"{message}, got {err['input']!r}"


def format_loc(loc: Loc) -> str:
    """``("instruments", 1, "driver")`` -> ``instruments[1].driver``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"
