"""The configuration: one TOML file (``smartsofar.toml``), validated into typed, frozen models.

Every section and key is declared here with its default, its limits and a help text; the web settings
page, ``smartsofar init`` and the error messages all derive from these declarations. A broken file is
reported with the key and the problem (``control.deadband_w: Input should be greater than or equal to 0``)
and nothing starts. Secrets (passwords, password hashes) are ``SecretStr`` so they never reach a log line.

Units and signs follow the rest of SmartSofar: grid W > 0 is import, battery W > 0 is charge.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from smartsofar.bus.url import BusUrl
from smartsofar.config_meters import (
    METER_TYPES,
    METER_URL_SHAPES,
    MeterConfig,
    MeterSourceConfig,
    Section,
    meter_type,
)
from smartsofar.config_tariff import PlannerConfig, PvForecastConfig, ScheduleEntry, TariffConfig
from smartsofar.errors import ConfigError
from smartsofar.modes import MAX_TARGET_W, Mode
from smartsofar.sofar.limits import MAX_UNIT_POWER_W

AllocationName = Literal["equal", "soc_balance", "fewest_units"]
ShutdownAction = Literal["standby", "keep", "inverter_auto"]
HeartbeatKind = Literal["unicast", "broadcast"]
SectionT = TypeVar("SectionT", bound=BaseModel)
CONFIG_ENV = "SMARTSOFAR_CONFIG"
DATA_DIR_ENV = "SMARTSOFAR_DATA_DIR"


def default_data_dir() -> Path:
    """``$SMARTSOFAR_DATA_DIR``, else ``$STATE_DIRECTORY`` (systemd), else ``~/.local/share/smartsofar``."""
    for env in (DATA_DIR_ENV, "STATE_DIRECTORY"):
        if value := os.environ.get(env):
            return Path(value.split(":")[0])
    return Path.home() / ".local" / "share" / "smartsofar"



class UnitConfig(Section):
    """One ME3000SP on a bus."""

    id: int = Field(ge=1, le=247, description="Modbus slave id set on the unit's screen (1..247, never 136)")
    name: str = Field("", max_length=40, description="A name for people; default 'unit <id>'")
    phase: Literal["a", "b", "c"] | None = Field(None, description="Grid phase the unit is connected to")
    max_charge_w: int = Field(MAX_UNIT_POWER_W, ge=0, le=MAX_UNIT_POWER_W,
                              description="Largest charge power to ask, W")
    max_discharge_w: int = Field(MAX_UNIT_POWER_W, ge=0, le=MAX_UNIT_POWER_W,
                                 description="Largest discharge power to ask, W")
    capacity_wh: int = Field(4800, gt=0, le=100_000, description="Usable battery energy, Wh")
    min_soc_pct: float = Field(0, ge=0, le=100, description="Never discharge below this state of charge "
                               "(0: leave it to the battery's own depth of discharge)")
    reserve_soc_pct: float = Field(0, ge=0, le=100,
                                   description="Auto mode keeps this much; manual mode may go down to the minimum")
    max_soc_pct: float = Field(100, ge=0, le=100, description="Never charge above this state of charge "
                               "(100: until the battery says it is full)")
    dead_time_s: float = Field(1.0, ge=0, le=10, description="Seconds before a command starts to act: the first "
                               "guess while the unit's response is learned (or the fixed value)")
    ramp_w_per_s: float = Field(1000, gt=0, le=100_000, description="How fast the unit's power moves, W/s: the "
                                "first guess while the unit's response is learned (or the fixed value)")
    learn_response: bool = Field(True, description="Learn the unit's dead time and ramp from what it does; off: "
                                 "use dead_time_s and ramp_w_per_s as they are")

    @field_validator("id")
    @classmethod
    def _not_broadcast(cls, value: int) -> int:
        if value == 0x88:
            raise ValueError("136 (0x88) is the broadcast address; give the unit another id")
        return value

    @model_validator(mode="after")
    def _soc_order(self) -> UnitConfig:
        if not self.min_soc_pct <= self.reserve_soc_pct <= self.max_soc_pct:
            raise ValueError("need min_soc_pct <= reserve_soc_pct <= max_soc_pct")
        return self

    @property
    def label(self) -> str:
        """The unit's name for people."""
        return self.name or f"unit {self.id}"


class BusConfig(Section):
    """One RS485 bus: a USB adapter or an RS485-to-Ethernet gateway, and the units on it."""

    url: str = Field(description="serial:///dev/ttyUSB0?baudrate=9600 or tcp://HOST:PORT")
    timeout_s: float = Field(1.5, ge=0.2, le=10, description="Seconds to wait for a reply, per attempt")
    retries: int = Field(2, ge=0, le=5, description="Attempts after the first one")
    units: list[UnitConfig] = Field(min_length=1, description="The units on this bus")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            BusUrl.parse(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> BusConfig:
        ids = [u.id for u in self.units]
        if len(ids) != len(set(ids)):
            raise ValueError(f"two units share a slave id on {self.url}: {sorted(ids)}")
        return self


class StabilityFilterConfig(Section):
    """The v1 firmware's filter: act only after N consecutive readings agree (off by default)."""

    enabled: bool = Field(False, description="Wait for agreeing readings before acting on small changes")
    readings: int = Field(2, ge=2, le=10, description="Consecutive readings that must agree")
    within_w: float = Field(30, gt=0, le=1000, description="How close they must be, W")
    immediate_above_w: float = Field(500, gt=0, le=MAX_TARGET_W, description="Act at once on a change larger than this")
    max_cycles: int = Field(10, ge=2, le=60, description="Act on the average after this many readings anyway")


class ControlConfig(Section):
    """How the batteries are driven."""

    mode: Mode = Field(Mode.AUTO, description="Mode at the very first start (later the last mode is kept)")
    target_w: int = Field(0, ge=-MAX_TARGET_W, le=MAX_TARGET_W,
                          description="Auto mode's grid target at first start, W (> 0 import; e.g. 20 never exports)")
    allow_charge: bool = Field(True, description="Auto mode may charge (at first start)")
    allow_discharge: bool = Field(True, description="Auto mode may discharge (at first start)")
    deadband_w: float = Field(8, ge=0, le=1000, description="Errors smaller than this are left alone, W")
    step_w: float = Field(30, ge=0, le=MAX_TARGET_W, description="Errors larger than this are corrected at once, W")
    persistence_ws: float = Field(40, ge=0, le=100_000,
                                  description="Between the two: correct once the error has lasted this many W·s")
    lean_w: float = Field(5, ge=0, le=200,
                          description="While the batteries work, hold the grid this much on the import side of the "
                          "target: an exported watt is lost twice, an imported one costs only its round trip")
    min_change_w: float = Field(15, ge=0, le=1000, description="A unit is re-commanded only for a change this big, W")
    allocation: AllocationName = Field("soc_balance", description="How power is shared: equal, soc_balance "
                                       "(fuller units discharge more) or fewest_units (as few units as possible)")
    rebalance_tolerance_w: float = Field(300, ge=0, le=MAX_UNIT_POWER_W,
                                         description="equal / soc_balance: how far a unit may drift from its "
                                         "share before all units are re-commanded, W")
    grid_import_limit_w: int | None = Field(None, ge=0, le=100_000,
                                            description="Charging never pushes grid import above this, W")
    grid_export_limit_w: int | None = Field(None, ge=0, le=100_000,
                                            description="Discharging never pushes grid export above this, W")
    meter_standby_after_s: float = Field(10, ge=2, le=300,
                                         description="Auto mode: all units to standby when the meter is this silent, s")
    heartbeat: HeartbeatKind = Field("unicast", description="Keep passive mode alive per unit or by broadcast")
    heartbeat_interval_s: float = Field(20, ge=2, le=30, description="Seconds between heartbeats (30 at most)")
    unit_read_interval_s: float = Field(5, ge=1, le=300, description="Seconds between full reads of each unit")
    unit_command_interval_s: float = Field(1.0, ge=0, le=60, description="Least time between commands to a unit, s")
    shutdown_action: ShutdownAction = Field("standby", description="On stop: standby, keep (lapses after 60 s), "
                                            "or inverter_auto (the unit's own CT control)")
    confirm_below_w: float = Field(0, ge=0, le=MAX_TARGET_W,
                                   description="A jump in the house smaller than this is acted on only once the next "
                                   "meter sample shows it lasts: a short spike costs no commands, W (0: off)")
    stability_filter: StabilityFilterConfig = Field(default_factory=StabilityFilterConfig)

    @model_validator(mode="after")
    def _order(self) -> ControlConfig:
        if self.step_w and self.step_w < self.deadband_w:
            raise ValueError("step_w must not be smaller than deadband_w")
        return self


class WebConfig(Section):
    """The web page and HTTP API."""

    host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0 for the whole network)")
    port: int = Field(8080, ge=0, le=65535, description="TCP port")
    password_hash: SecretStr | None = Field(None, description="Set with 'smartsofar passwd'; empty = no login")
    api_token_hash: SecretStr | None = Field(None, description="Set with 'smartsofar token': for scripts")
    read_only_without_login: bool = Field(True, description="With a password set, let visitors watch without login")
    allowed_hosts: list[str] = Field(default_factory=list, description="Host names the page is reached by, besides "
                                     "addresses, localhost and this machine's own names (e.g. battery.example.org, "
                                     "*.example.org); any other name is refused, against DNS rebinding")
    trusted_proxies: list[str] = Field(default_factory=list, description="Addresses of reverse proxies in front of "
                                       "the page whose X-Forwarded-For is believed (none: a client is the address "
                                       "it connects from)")
    public_url: str | None = Field(None, description="The address people open the page at, for Home Assistant's "
                                   "'Visit' link (empty: this machine's name and the port)")

    @field_validator("host")
    @classmethod
    def _address(cls, value: str) -> str:
        if value != "" and not re.fullmatch(r"[A-Za-z0-9:.%_-]{1,253}|\[[0-9A-Fa-f:.%]+\]", value):
            raise ValueError(f"{value[:60]!r} is not a host name or an address")
        return value

    @field_validator("public_url")
    @classmethod
    def _page_address(cls, value: str | None) -> str | None:
        if value and (urlsplit(value).scheme not in ("http", "https", "homeassistant") or not urlsplit(value).netloc):
            raise ValueError("must be http://HOST[:PORT]/..., https://... or homeassistant://...")
        return value or None

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            try:
                ipaddress.ip_network(address, strict=False)
            except ValueError:
                raise ValueError(f"{address!r} is not an address or a network (192.0.2.10, 10.0.0.0/8)") from None
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\.?", name):
                raise ValueError(f"{name!r} is not a host name")
        return value


class MqttConfig(Section):
    """MQTT and Home Assistant discovery (off while url is empty)."""

    url: str | None = Field(None, description="mqtt://[user:pass@]host:1883 or mqtts://host:8883")
    username: str | None = Field(None, description="Broker user (or in the URL)")
    password: SecretStr | None = Field(None, description="Broker password (or in the URL)")
    client_id: str = Field("smartsofar", min_length=1, max_length=64, description="MQTT client id")
    base_topic: str = Field("smartsofar", min_length=1, description="Topic prefix for state and commands")
    discovery: bool = Field(True, description="Publish Home Assistant discovery")
    discovery_prefix: str = Field("homeassistant", min_length=1, description="Home Assistant's discovery prefix")
    publish_interval_s: float = Field(5, ge=1, le=3600, description="Seconds between state messages")
    tls_ca_file: str | None = Field(None, description="CA file for mqtts:// (default: system CAs)")
    tls_insecure: bool = Field(False, description="Do not check the broker's certificate")
    sofar2mqtt_topics: bool = Field(False, description="Also accept Sofar2mqtt/set/... command topics")

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, value: str | None) -> str | None:
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
                raise ValueError("must be mqtt://HOST:PORT or mqtts://HOST:PORT")
            parts.port  # noqa: B018  # raises ValueError on a bad port
        return value or None

    @field_validator("base_topic", "discovery_prefix")
    @classmethod
    def _topic(cls, value: str) -> str:
        if any(c in value for c in "+#") or value.startswith("/") or value.endswith("/"):
            raise ValueError("a topic prefix has no +, # or leading/trailing /")
        return value


class StorageConfig(Section):
    """Where SmartSofar keeps its state and history."""

    data_dir: Path = Field(default_factory=default_data_dir, description="State and history directory")

    @field_validator("data_dir")
    @classmethod
    def _a_path(cls, value: Path) -> Path:
        text = str(value)
        if "\x00" in text or any(ord(c) < 32 for c in text):
            raise ValueError("has a control character in it (a NUL, a newline): not a directory name")
        return value

    history_fine_days: int = Field(7, ge=1, le=365, description="Keep 10-second samples this many days")
    history_coarse_days: int = Field(730, ge=1, le=7300, description="Keep 5-minute samples this many days")
    history_flush_s: float = Field(60, ge=1, le=3600, description="Write history this often; a power cut loses "
                                   "at most this much of it")


class Config(Section):
    """The whole file."""

    buses: list[BusConfig] = Field(default_factory=list, description="RS485 buses and their units")
    meter: MeterConfig | None = Field(None, description="The grid meter (needed for auto mode)")
    control: ControlConfig = Field(default_factory=ControlConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    tariff: TariffConfig = Field(default_factory=TariffConfig)
    planner: PlannerConfig = Field(default_factory=PlannerConfig)
    pv_forecast: PvForecastConfig = Field(default_factory=PvForecastConfig)
    schedule: list[ScheduleEntry] = Field(default_factory=list, description="Battery modes at set hours "
                                          "(charge, hold), e.g. charge to 80 % from 01:00 to 05:00 on weekdays")

    @model_validator(mode="after")
    def _ready(self) -> Config:
        names = [u.label for b in self.buses for u in b.units]
        if len(names) != len(set(names)):
            raise ValueError(f"two units have the same name: {names}")
        return self

    def missing(self) -> list[str]:
        """What a running service still needs, in words (empty when it can run)."""
        out = []
        if not self.buses:
            out.append("no bus with units (give --bus and --units, or a [[buses]] section)")
        if self.meter is None and self.control.mode == "auto":
            out.append("no grid meter for auto mode (give --meter, or a [meter] section)")
        return out

    @property
    def units(self) -> list[tuple[BusConfig, UnitConfig]]:
        """Every unit with its bus, in configuration order."""
        return [(bus, unit) for bus in self.buses for unit in bus.units]


def describe_errors(exc: ValidationError) -> str:
    """'control.deadband_w: ...; meter.url: ...' from a pydantic error."""
    parts = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        for at in (0, 1):  # the meter union's tag is not a key of the file
            if len(loc) > at and loc[at] in METER_TYPES and (at == 0 or loc[0] == "meter"):
                del loc[at]
                break
        where = ".".join(loc) or "file"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "union_tag_invalid":
            message = (f"unknown meter type {meter_type(error['input'])!r}: give type = one of "
                       f"{', '.join(METER_TYPES)}, or a URL that names one ({METER_URL_SHAPES})")
        elif error["type"] == "missing":
            message = "missing"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def validate_section(model: type[SectionT], data: dict[str, Any], source: str) -> SectionT:
    """Validate one section (or the whole file); ConfigError naming every bad key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_errors(exc)}") from None


_METER_ADAPTER: TypeAdapter[MeterSourceConfig] = TypeAdapter(MeterConfig)


def parse_meter(data: dict[str, Any], source: str = "meter") -> MeterSourceConfig:
    """Validate one meter section (``smartsofar meter``'s flags); ConfigError naming every bad key."""
    try:
        return _METER_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_errors(exc)}") from None


def parse_config(data: dict[str, Any], source: str = "configuration") -> Config:
    """Validate a dict (from TOML or flags); ConfigError naming every bad key."""
    return validate_section(Config, data, source)


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; ConfigError with the line on a syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (create one with 'smartsofar init {path}')") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_config(path: Path) -> Config:
    """Read and validate one configuration file."""
    return parse_config(load_toml(path), str(path))


def config_path(flag: str | None) -> Path | None:
    """The file named by ``--config`` or ``$SMARTSOFAR_CONFIG``, if any."""
    value = flag or os.environ.get(CONFIG_ENV)
    return Path(value) if value else None
