"""The ``[meter]`` section: one model per meter source, tagged by ``type`` (or by the URL's scheme).

Every source is given by one URL; options may ride in its query (``mqtt://broker/topic?path=power&invert=1``)
or be keys of the section. A key set in the section wins over the same option in the URL. An unknown URL
option is an error, as an unknown key is. Add a source here (its model, its schemes and its tag in
``MeterConfig``), then register its client (see ``meter.registry``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Discriminator, Field, SecretStr, Tag, field_validator, model_validator

from smartsofar.meter.base import MeterModel, PhaseChoice


class Section(BaseModel):
    """A part of the configuration file: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _split_paths(value: Any) -> Any:
    """'a.x,b.x,c.x' -> ('a.x', 'b.x', 'c.x'), for options given as text in a URL."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class MeterSourceConfig(Section):
    """What every grid meter source has: where it is, how to read its sign and phases, and its timing."""

    # URL query option -> key of the section, for every source; each source adds its own.
    URL_OPTIONS: ClassVar[dict[str, str]] = {"invert": "invert", "phase": "phase"}
    SOURCE_OPTIONS: ClassVar[dict[str, str]] = {}

    type: str
    url: str = Field(description="Where the meter is (its scheme names the source: http://HOST for a Shelly)")
    invert: bool = Field(False, description="The meter is installed the wrong way round")
    phase: PhaseChoice = Field("sum", description="Follow the sum of the phases, or one phase (a, b, c)")
    poll_interval_s: float = Field(1.0, ge=0.2, le=60, description="Seconds between readings (polled meters)")
    timeout_s: float = Field(2.0, ge=0.2, le=30, description="Seconds to wait for the meter")
    stale_after_s: float = Field(5.0, ge=1, le=120, description="A reading older than this is never used; a "
                                 "pushing meter silent this long is unavailable")

    @model_validator(mode="before")
    @classmethod
    def _url_options(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            return data
        options = {**cls.URL_OPTIONS, **cls.SOURCE_OPTIONS}
        merged = dict(data)
        for name, value in parse_qsl(urlsplit(data["url"]).query, keep_blank_values=True):
            key = options.get(name)
            if key is None:
                raise ValueError(f"unknown URL option {name!r} (known: {', '.join(sorted(options))})")
            merged.setdefault(key, value)
        return merged

    @property
    def label(self) -> str:
        """The source, for people."""
        return self.type

    @property
    def host(self) -> str:
        """The URL's host."""
        return urlsplit(self.url).hostname or ""

    @property
    def username(self) -> str | None:
        """The URL's user, if it has one."""
        user = urlsplit(self.url).username
        return unquote(user) if user else None

    @property
    def url_password(self) -> str | None:
        """The URL's password, if it has one."""
        password = urlsplit(self.url).password
        return unquote(password) if password else None


def _require_scheme(value: str, schemes: tuple[str, ...], shape: str, *, host: bool = True) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or (host and not parts.hostname):
        raise ValueError(f"must be {shape}")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise ValueError(f"has a port that is not a number; must be {shape}") from None
    return value


class ShellyMeterConfig(MeterSourceConfig):
    """A Shelly energy meter: its WebSocket notifications where it has them, else its HTTP RPC polled."""

    SOURCE_OPTIONS: ClassVar[dict[str, str]] = {"push": "push", "model": "model", "channel": "channel"}

    type: Literal["shelly"] = Field("shelly", description="The kind of meter (shelly)")
    url: str = Field(description="http://HOST of the Shelly")
    model: MeterModel = Field("auto", description="auto asks the device; or pro3em, pro3em-monophase, proem, "
                              "3em-gen1, em-gen1")
    user: str | None = Field(None, description="User name (Gen2 devices always use admin)")
    password: SecretStr | None = Field(None, description="The meter's password, if one is set")
    channel: int = Field(0, ge=0, le=1, description="Pro EM / EM Gen3 / EM Gen1: the channel measuring the grid")
    push: Literal["auto", "on", "off"] = Field("auto", description="Gen2+: take the device's WebSocket "
                                               "notifications (auto: where it has them, polling otherwise)")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        return _require_scheme(value, ("http", "https"), "http://HOST or https://HOST")

    @property
    def label(self) -> str:
        """The source, for people."""
        return f"Shelly ({self.model})"


class MqttMeterConfig(MeterSourceConfig):
    """Any meter whose readings reach an MQTT broker: Tasmota SML, Zigbee2MQTT, Home Assistant, OpenDTU."""

    SOURCE_OPTIONS: ClassVar[dict[str, str]] = {
        "path": "path", "minus": "minus_path", "phases": "phase_paths", "import": "import_path",
        "export": "export_path", "scale": "scale", "energy_scale": "energy_scale", "ca": "tls_ca_file"}

    type: Literal["mqtt"] = Field("mqtt", description="The kind of meter (mqtt)")
    url: str = Field(description="mqtt://[USER:PASSWORD@]HOST[:PORT]/TOPIC (mqtts:// for TLS)")
    path: str | None = Field(None, description="Dotted path to the grid power in a JSON message (none: the "
                             "message is the number)")
    minus_path: str | None = Field(None, description="Dotted path to a power subtracted from it (meters that "
                                   "report import and export power apart)")
    phase_paths: tuple[str, ...] | None = Field(None, description="Dotted paths to the phases' powers (1 or 3)")
    import_path: str | None = Field(None, description="Dotted path to the imported energy counter")
    export_path: str | None = Field(None, description="Dotted path to the exported energy counter")
    scale: float = Field(1.0, gt=0, le=1e6, description="Multiply powers by this to get W (1000 for kW)")
    energy_scale: float = Field(1.0, gt=0, le=1e6, description="Multiply counters by this to get Wh (1000 for "
                                "kWh)")
    tls_ca_file: Path | None = Field(None, description="mqtts: the certificate authority of a private broker")

    @field_validator("phase_paths", mode="before")
    @classmethod
    def _phase_list(cls, value: Any) -> Any:
        return _split_paths(value)

    @field_validator("url")
    @classmethod
    def _mqtt(cls, value: str) -> str:
        _require_scheme(value, ("mqtt", "mqtts"), "mqtt://HOST[:PORT]/TOPIC or mqtts://HOST[:PORT]/TOPIC")
        topic = unquote(urlsplit(value).path.lstrip("/"))
        if not topic:
            raise ValueError("names no topic; must be mqtt://HOST[:PORT]/TOPIC")
        if "+" in topic or "#" in topic:
            raise ValueError("must name one topic, without + or # wildcards")
        return value

    @field_validator("phase_paths")
    @classmethod
    def _one_or_three(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and len(value) not in (1, 3):
            raise ValueError("give 1 or 3 phase paths")
        return value

    @property
    def topic(self) -> str:
        """The topic the readings arrive on."""
        return unquote(urlsplit(self.url).path.lstrip("/"))

    @property
    def tls(self) -> bool:
        """mqtts://"""
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def port(self) -> int:
        """The broker's port (1883, or 8883 for mqtts)."""
        return urlsplit(self.url).port or (8883 if self.tls else 1883)

    @property
    def label(self) -> str:
        """The source, for people."""
        return f"MQTT topic {self.topic}"


SMA_GROUP = "239.12.255.254"
SMA_PORT = 9522


class SmaMeterConfig(MeterSourceConfig):
    """SMA Energy Meter or Sunny Home Manager 2.0: its Speedwire datagrams, several a second."""

    SOURCE_OPTIONS: ClassVar[dict[str, str]] = {"serial": "serial", "interface": "interface"}

    type: Literal["sma"] = Field("sma", description="The kind of meter (sma)")
    url: str = Field(f"sma://{SMA_GROUP}", description=f"sma://[GROUP][:PORT] (default {SMA_GROUP}:{SMA_PORT}); "
                     "a unicast address receives datagrams sent to it")
    serial: int | None = Field(None, ge=0, le=2**32 - 1, description="The meter's serial number, when several "
                               "are on the network")
    interface: str = Field("0.0.0.0", description="The local address whose network the meter is on")

    @field_validator("url")
    @classmethod
    def _sma(cls, value: str) -> str:
        return _require_scheme(value, ("sma",), "sma://[GROUP][:PORT]", host=False)

    @property
    def group(self) -> str:
        """The multicast group (or unicast address) datagrams arrive on."""
        return urlsplit(self.url).hostname or SMA_GROUP

    @property
    def port(self) -> int:
        """The UDP port."""
        return urlsplit(self.url).port or SMA_PORT

    @property
    def label(self) -> str:
        """The source, for people."""
        return "SMA Energy Meter" + (f" {self.serial}" if self.serial is not None else "")


DsmrVersion = Literal["2.2", "4", "5", "5B", "5L", "5S", "Q3D", "MSN", "T210"]
SLOW_DSMR = ("2.2", "4")  # a telegram every 10 s; the others every second
SLOW_DSMR_STALE_S = 12.0
ENCRYPTED_DSMR = ("MSN", "T210")  # DLMS general-global-cipher frames: they need the meter's encryption key
DLMS_KEY_HEX = 32  # AES-128: 16 bytes as hex


class P1MeterConfig(MeterSourceConfig):
    """A smart meter's P1 port (DSMR: NL, BE, LU, SE): a serial cable, or a P1-to-network bridge."""

    SOURCE_OPTIONS: ClassVar[dict[str, str]] = {"dsmr": "dsmr_version"}

    type: Literal["p1"] = Field("p1", description="The kind of meter (p1)")
    url: str = Field(description="serial:///dev/ttyUSB0 for a cable, p1://HOST:PORT for a network bridge")
    dsmr_version: DsmrVersion = Field("5", description="The telegram format: 5 (NL), 5B (Belgium), 5L "
                                      "(Luxembourg, plain), MSN (Luxembourg Smarty, encrypted), T210 (Sagemcom "
                                      "T210-D-r, encrypted), 5S (Sweden), 4, 2.2, Q3D")
    encryption_key: SecretStr | None = Field(None, description="MSN, T210: the meter's encryption key (32 hex "
                                             "digits, from the grid operator)")
    authentication_key: SecretStr | None = Field(None, description="MSN, T210: the authentication key, if the grid "
                                                 "operator gave one (MSN has a fixed one; without one, each "
                                                 "telegram's CRC checks it)")

    @field_validator("url")
    @classmethod
    def _p1(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme == "serial":
            if not parts.path.startswith("/"):
                raise ValueError("must be serial:///dev/DEVICE")
            return value
        _require_scheme(value, ("p1",), "p1://HOST:PORT or serial:///dev/DEVICE")
        if parts.port is None:
            raise ValueError("names no port; must be p1://HOST:PORT")
        return value

    @field_validator("encryption_key", "authentication_key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        text = value.get_secret_value().strip().replace(" ", "")
        if len(text) != DLMS_KEY_HEX or any(c not in "0123456789abcdefABCDEF" for c in text):
            raise ValueError(f"must be {DLMS_KEY_HEX} hexadecimal digits (16 bytes)")
        return SecretStr(text)

    @model_validator(mode="after")
    def _slow_meters(self) -> P1MeterConfig:
        if self.dsmr_version in SLOW_DSMR and self.stale_after_s < SLOW_DSMR_STALE_S:
            raise ValueError(f"DSMR {self.dsmr_version} meters send a telegram every 10 s: set stale_after_s to "
                             f"at least {SLOW_DSMR_STALE_S:.0f} (and control.meter_standby_after_s above it)")
        if self.dsmr_version in ENCRYPTED_DSMR and self.encryption_key is None:
            raise ValueError(f"{self.dsmr_version} telegrams are encrypted: set encryption_key (ask your grid "
                             "operator for the meter's key)")
        if self.dsmr_version not in ENCRYPTED_DSMR and (self.encryption_key or self.authentication_key):
            raise ValueError(f"DSMR {self.dsmr_version} telegrams are not encrypted: for an encrypted meter set "
                             f"dsmr_version to one of {', '.join(ENCRYPTED_DSMR)}")
        return self

    @property
    def encrypted(self) -> bool:
        """True for meters that send DLMS-encrypted frames instead of plain telegrams."""
        return self.dsmr_version in ENCRYPTED_DSMR

    @property
    def device(self) -> str:
        """What the telegrams are read from: a device path, or socket://HOST:PORT."""
        parts = urlsplit(self.url)
        return parts.path if parts.scheme == "serial" else f"socket://{parts.hostname}:{parts.port}"

    @property
    def label(self) -> str:
        """The source, for people."""
        return f"P1 port (DSMR {self.dsmr_version})"


class FroniusMeterConfig(MeterSourceConfig):
    """A Fronius Smart Meter, through the Fronius inverter's Solar API (polled over HTTP)."""

    SOURCE_OPTIONS: ClassVar[dict[str, str]] = {"device": "device"}

    type: Literal["fronius"] = Field("fronius", description="The kind of meter (fronius)")
    url: str = Field(description="fronius://HOST[:PORT] of the Fronius inverter or Datamanager")
    device: int = Field(0, ge=0, le=65535, description="The Smart Meter's device number on the inverter")

    @field_validator("url")
    @classmethod
    def _fronius(cls, value: str) -> str:
        return _require_scheme(value, ("fronius",), "fronius://HOST[:PORT]")

    @property
    def http_url(self) -> str:
        """The Solar API's base URL."""
        parts = urlsplit(self.url)
        return f"http://{parts.netloc}"

    @property
    def label(self) -> str:
        """The source, for people."""
        return "Fronius Smart Meter"


class HomeAssistantMeterConfig(MeterSourceConfig):
    """A grid-power sensor already in Home Assistant, followed through its WebSocket API."""

    SOURCE_OPTIONS: ClassVar[dict[str, str]] = {"ca": "tls_ca_file"}

    type: Literal["homeassistant"] = Field("homeassistant", description="The kind of meter (homeassistant)")
    url: str = Field(description="ha://HOST:8123/sensor.ENTITY (has:// for https), or three entities, one per "
                     "phase: ha://HOST:8123/sensor.L1,sensor.L2,sensor.L3")
    token: SecretStr = Field(description="A long-lived access token (your profile page in Home Assistant)")
    tls_ca_file: Path | None = Field(None, description="has: the certificate authority of a private server")

    @field_validator("url")
    @classmethod
    def _ha(cls, value: str) -> str:
        _require_scheme(value, ("ha", "has"), "ha://HOST:8123/sensor.ENTITY")
        entities = urlsplit(value).path.strip("/").split(",")
        for entity in entities:
            domain, _, name = entity.strip().partition(".")
            if not domain or not name or "/" in entity:
                raise ValueError("names no entity; must be ha://HOST:8123/sensor.ENTITY (or three, one per phase, "
                                 "separated by commas)")
        if len(entities) not in (1, 3) or len(set(entities)) != len(entities):
            raise ValueError(f"names {len(entities)} entities: give one (the grid's power) or three different ones "
                             "(phases L1, L2, L3)")
        return value

    @property
    def entity_ids(self) -> tuple[str, ...]:
        """The sensors followed: the grid's power, or its three phases in order."""
        return tuple(e.strip() for e in urlsplit(self.url).path.strip("/").split(","))

    @property
    def websocket_url(self) -> str:
        """ws(s)://HOST:PORT/api/websocket"""
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "has" else "ws"
        host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
        return f"{scheme}://{host}:{parts.port or 8123}/api/websocket"

    @property
    def label(self) -> str:
        """The source, for people."""
        return f"Home Assistant {', '.join(self.entity_ids)}"


# Each meter source: its ``type`` tag, and the URL schemes that mean it when ``type`` is not given.
METER_TYPES_BY_SCHEME = {"http": "shelly", "https": "shelly", "mqtt": "mqtt", "mqtts": "mqtt", "sma": "sma",
                         "p1": "p1", "serial": "p1", "fronius": "fronius", "ha": "homeassistant",
                         "has": "homeassistant"}


def meter_type(value: Any) -> str | None:
    """The tag of a meter section: its ``type``, else what its URL's scheme means."""
    if isinstance(value, BaseModel):
        return str(getattr(value, "type", None))
    if not isinstance(value, dict):
        return None
    if "type" in value:
        return str(value["type"])
    scheme = urlsplit(str(value.get("url", ""))).scheme
    return METER_TYPES_BY_SCHEME.get(scheme, scheme or "shelly")


MeterConfig = Annotated[
    Annotated[ShellyMeterConfig, Tag("shelly")] | Annotated[MqttMeterConfig, Tag("mqtt")]
    | Annotated[SmaMeterConfig, Tag("sma")] | Annotated[P1MeterConfig, Tag("p1")]
    | Annotated[FroniusMeterConfig, Tag("fronius")] | Annotated[HomeAssistantMeterConfig, Tag("homeassistant")],
    Discriminator(meter_type)]
METER_SOURCES: dict[str, type[MeterSourceConfig]] = {
    "shelly": ShellyMeterConfig, "mqtt": MqttMeterConfig, "sma": SmaMeterConfig, "p1": P1MeterConfig,
    "fronius": FroniusMeterConfig, "homeassistant": HomeAssistantMeterConfig}
METER_TYPES = tuple(METER_SOURCES)
METER_URL_SHAPES = "http://SHELLY, mqtt://BROKER/TOPIC, sma://, p1://HOST:PORT, serial:///dev/TTY, " \
                   "fronius://HOST, ha://HOST:8123/sensor.ENTITY"
