"""Gateway configuration: one TOML file, validated at the edge (see docs/configuration.md)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, field

from drivers import registry
from protocols._validation import DueDate, Invalid, Loc, Problem, convert, dec_hook, format_loc, to_builtins
from protocols.envelope import GATEWAY_ID
from protocols.errors import WireError
from protocols.result import Site, SiteKind
from protocols.toml_lines import find_key_line
from protocols.wire.topics import check_prefix

from .errors import ConfigError

__all__ = ["GatewayConfig", "Loc", "format_loc", "issue_at", "load_config", "parse_config"]

INSTRUMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
Port = Annotated[int, Meta(ge=1, le=65535)]
Positive = Annotated[float, Meta(gt=0)]
NonEmpty = Annotated[str, Meta(min_length=1)]


class LimsUrl(str):
    """An http(s) URL without its trailing ``/``."""

    @classmethod
    def parse_value(cls, value: object) -> LimsUrl:
        """``value`` checked and trimmed; ValueError says why it is refused."""
        if not isinstance(value, str):
            raise TypeError(f"Expected `str`, got `{type(value).__name__}`")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
        return cls(value.rstrip("/"))


class DriverName(str):
    """The name of a registered driver."""

    @classmethod
    def parse_value(cls, value: object) -> DriverName:
        """``value`` if a driver of that name is registered; ValueError lists the known ones."""
        if not isinstance(value, str):
            raise TypeError(f"Expected `str`, got `{type(value).__name__}`")
        if value not in registry.available():
            raise ValueError(f"unknown driver {value!r}; known: {', '.join(registry.available())}")
        return cls(value)


class _Section(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A config table: unknown keys refused, read-only once loaded."""


class GatewaySection(_Section, kw_only=True, frozen=True):
    """``[gateway]``: identity, key, outbox and default operator."""

    id: Annotated[str, Meta(pattern=GATEWAY_ID.pattern)]
    key_file: Path
    outbox: Path
    operator: NonEmpty
    status_port: Port | None = None
    status_host: NonEmpty = "127.0.0.1"
    status_interval_s: Positive = 5.0
    max_clock_skew_s: Positive = 300.0


class SiteSection(_Section, kw_only=True, frozen=True):
    """``[site]``: the test room this gateway serves."""

    id: NonEmpty
    kind: SiteKind
    name: NonEmpty

    def to_site(self) -> Site:
        """The ``site`` member every TestResult of this gateway carries."""
        return Site(id=self.id, kind=self.kind, name=self.name)


class LimsSection(_Section, kw_only=True, frozen=True):
    """``[lims]``: where and how envelopes are uploaded (``url`` is needed by the http transport)."""

    transport: Literal["http", "mqtt"] = "http"
    url: LimsUrl | None = None
    batch_size: Annotated[int, Meta(ge=1, le=10_000)] = 100
    timeout_s: Positive = 10.0
    retry_min_s: Positive = 0.5
    retry_max_s: Positive = 30.0
    heartbeat_s: Annotated[float, Meta(ge=0)] = 30.0
    """Seconds between signed heartbeats to the LIMS (http transport only; 0 turns them off)."""

    def __post_init__(self) -> None:
        if self.retry_max_s < self.retry_min_s:
            raise ValueError(f"retry_max_s ({float(self.retry_max_s)}) is below retry_min_s ({float(self.retry_min_s)})")
        if self.transport == "http" and self.url is None:
            raise ValueError('url is required when transport is "http"')


class MqttSection(_Section, kw_only=True, frozen=True):
    """``[mqtt]``: the broker used when ``[lims] transport = "mqtt"`` (see docs/mqtt.md)."""

    host: NonEmpty
    port: Port = 1883
    topic_prefix: Annotated[str, Meta(pattern=r"^[^#+\s]+[^/#+\s]$")] = "kuaijian/v1"
    client_id: Annotated[str, Meta(min_length=1, max_length=128)] | None = None
    username: str | None = None
    password: str | None = None
    keepalive: Annotated[int, Meta(ge=5, le=3600)] = 60
    window: Annotated[int, Meta(ge=1, le=10_000)] = 200

    def __post_init__(self) -> None:
        """The LIMS's own rule for a prefix (protocols.wire.topics), besides the pattern's no-whitespace rule."""
        try:
            check_prefix(self.topic_prefix)
        except WireError as exc:
            raise ValueError(f"topic_prefix: {exc}") from None


class RoomPageSection(_Section, kw_only=True, frozen=True):
    """``[room_page]``: the technicians' page (sample labels, live results); see docs/room-page.md."""

    enabled: bool = True
    host: NonEmpty = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 8780
    recent_results: Annotated[int, Meta(ge=1, le=500)] = 30
    sign_in: bool = True
    """Technicians sign in (badge or PIN); the signed-in one's pseudonymous id is each result's ``operator``."""
    sign_out_idle_s: Positive = 900.0
    roster_refresh_s: Positive = 300.0
    roster: Path | None = None
    """The cached technician roster; default ``<outbox>.technicians.json``."""


class CameraSection(_Section, kw_only=True, frozen=True):
    """``[camera]``: the room's IP camera; one snapshot per result as evidence (docs/evidence.md)."""

    snapshot_url: Annotated[str, Meta(pattern=r"^https?://[^/\s]+")]
    timeout_s: Annotated[float, Meta(gt=0, le=30)] = 2.0
    max_bytes: Annotated[int, Meta(ge=1024, le=50_000_000)] = 5_000_000
    username: str | None = None
    password: str | None = None


class PlausibilitySection(_Section, kw_only=True, frozen=True):
    """``[instruments.plausibility]``: the instrument's enrolled identity and its method's shortest times.

    Unset times fall back to the defaults of the result's test kind (``protocols/plausibility``);
    unset ``serial``/``firmware`` are not checked; without ``channels`` the hourly-rate rule is off.
    """

    channel_cycle_s: Annotated[float, Meta(ge=0)] | None = None
    """0 turns the channel-cycle and hourly-rate rules off (e.g. a time-lapse simulator)."""
    label_to_result_s: Annotated[float, Meta(ge=0)] | None = None
    channels: Annotated[int, Meta(ge=1, le=1000)] | None = None
    serial: NonEmpty | None = None
    firmware: NonEmpty | None = None


class InstrumentSection(_Section, kw_only=True, frozen=True):
    """``[[instruments]]``: one connected analyzer and the driver that reads it."""

    id: Annotated[str, Meta(pattern=INSTRUMENT_ID.pattern)]
    driver: DriverName
    enabled: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    calibration_due: DueDate | None = None
    """Last day the instrument's calibration/verification is valid; later results get ``calibration_overdue``."""
    plausibility: PlausibilitySection = field(default_factory=PlausibilitySection)


class GatewayConfig(_Section, kw_only=True, frozen=True):
    """The whole gateway.toml."""

    gateway: GatewaySection
    site: SiteSection
    lims: LimsSection
    mqtt: MqttSection | None = None
    room_page: RoomPageSection = field(default_factory=RoomPageSection)
    camera: CameraSection | None = None
    instruments: list[InstrumentSection] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.lims.transport == "mqtt" and self.mqtt is None:
            raise ValueError('[mqtt] table is required when [lims] transport is "mqtt"')
        room, gateway = self.room_page, self.gateway
        if room.enabled and room.port != 0 and room.port == gateway.status_port:
            raise ValueError(f"[room_page] port {room.port} is also [gateway] status_port; give them different ports")

    def roster_path(self) -> Path:
        """Where the technician roster is cached: ``[room_page] roster`` or next to the outbox."""
        outbox = self.gateway.outbox
        return self.room_page.roster or outbox.with_name(outbox.name + ".technicians.json")

    def mqtt_client_id(self) -> str:
        """MQTT client id: ``[mqtt] client_id`` or ``kuaijian-<gateway id>``."""
        return (self.mqtt.client_id if self.mqtt else None) or f"kuaijian-{self.gateway.id}"

    def to_data(self) -> dict[str, Any]:
        """The config as TOML-ready data (paths as text, unset keys left out): ``parse_config`` reads it back."""
        return _without_none(to_builtins(self))


def _without_none(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _without_none(value) for key, value in data.items() if value is not None}
    return [_without_none(item) for item in data] if isinstance(data, list) else data


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
        config = convert(data, GatewayConfig, hook=_paths_from(source.parent))
    except Invalid as exc:
        raise ConfigError([_issue(source, text, p.loc, _why(p)) for p in exc.problems]) from None
    duplicates = _duplicate_instrument_ids(config)
    if duplicates:
        raise ConfigError([_issue(source, text, loc, why) for loc, why in duplicates])
    return config


def _paths_from(base: Path) -> Callable[[type, Any], Any]:
    """The decoding hook: a path from text, a relative one taken from ``base`` (the config file's folder)."""

    def hook(kind: type, value: Any) -> Any:
        if kind is not Path:
            return dec_hook(kind, value)
        if not isinstance(value, (str, Path)):
            raise TypeError(f"Expected `str`, got `{type(value).__name__}`")
        path = Path(value)
        return path if path.is_absolute() else base / path

    return hook


def _why(problem: Problem) -> str:
    if problem.kind == "missing" and len(problem.loc) == 1:
        return "missing table"
    return problem.why


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
