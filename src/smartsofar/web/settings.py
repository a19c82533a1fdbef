"""Settings from the web page: the catalogue of every setting, and saving changes to the TOML file.

The catalogue comes from the configuration models (help text, limits, choices), so it cannot drift from
what the file accepts. A change is validated as a whole new configuration first; nothing is written when
any key is wrong. Then the file is rewritten with tomlkit (the user's comments and layout stay) and
replaced atomically. Which settings apply live is the engine's rule (``engine.facade.applies_live``): the
page marks them, and ``EngineApi.reconfigure`` puts the saved configuration to work.

Secrets are never sent to the page: a password shows only whether it is set, and can be replaced; a URL shows
its password as ``***``, and a URL saved back with ``***`` keeps the stored password.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Union

import annotated_types
import tomlkit
from pydantic import BaseModel, SecretStr, ValidationError
from tomlkit.items import Table

from smartsofar.config import Config, describe_errors, parse_config
from smartsofar.config_meters import METER_SOURCES, meter_type
from smartsofar.config_tariff import ScheduleEntry
from smartsofar.engine.facade import applies_live
from smartsofar.errors import ConfigError, InvalidInputError, NotFoundError, StorageError
from smartsofar.redact import keep_secret, redact_url
from smartsofar.storage.atomic import atomic_write, remove_orphans
from smartsofar.web import setting_labels

SECTIONS = ("control", "meter", "buses", "tariff", "planner", "pv_forecast", "mqtt", "web", "storage")
TITLES = {"control": "Control", "meter": "Grid meter", "tariff": "Tariff and prices", "planner": "Planner",
          "pv_forecast": "PV forecast",
          "mqtt": "MQTT & Home Assistant", "web": "Web & security", "storage": "Storage"}  # buses: a card each
HIDDEN_KEYS = {"web.password_hash", "web.api_token_hash"}


@dataclass(frozen=True, slots=True)
class Field:
    """One setting as the page shows it."""

    key: str
    kind: str  # bool / int / number / text / choice / secret / list (of text)
    value: Any
    default: Any
    help: str
    nullable: bool
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    live: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form, with the label people read and whether it is folded away as advanced."""
        return {"key": self.key, "label": setting_labels.label(self.key), "kind": self.kind, "value": self.value,
                "default": self.default, "help": self.help, "nullable": self.nullable, "min": self.minimum,
                "max": self.maximum, "choices": list(self.choices), "live": self.live,
                "advanced": setting_labels.advanced(self.key)}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), True
    return annotation, False


def _fields(model: BaseModel, prefix: str) -> list[Field]:
    out = []
    for name, info in type(model).model_fields.items():
        key = f"{prefix}.{name}"
        value = getattr(model, name)
        if key in HIDDEN_KEYS or isinstance(value, BaseModel):
            if isinstance(value, BaseModel):
                out.extend(_fields(value, key))
            continue
        if isinstance(value, list):
            if typing.get_origin(info.annotation) is list and typing.get_args(info.annotation) == (str,):
                out.append(Field(key, "list", list(value), [], info.description or "", False, live=applies_live(key)))
                continue
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    out.extend(_fields(item, f"{key}.{index}"))
            continue
        annotation, nullable = _unwrap(info.annotation)
        default = None if info.default_factory is not None or info.is_required() else info.default
        kind = "text"
        choices: tuple[str, ...] = ()
        if annotation is bool:
            kind = "bool"
        elif annotation is int:
            kind = "int"
        elif annotation is float:
            kind = "number"
        elif annotation is SecretStr:
            kind, value, default = "secret", value is not None, None
        elif typing.get_origin(annotation) is Literal:
            kind, choices = "choice", tuple(str(a) for a in typing.get_args(annotation))
        elif isinstance(annotation, type) and issubclass(annotation, StrEnum):
            kind, choices, value = "choice", tuple(m.value for m in annotation), str(value)
            default = None if default is None else str(default)
        if isinstance(value, Path):
            value = str(value)
        if name == "url" and isinstance(value, str):
            value = redact_url(value)  # a password in a URL is written, never shown
        low = next((m.ge for m in info.metadata if isinstance(m, annotated_types.Ge)), None)
        high = next((m.le for m in info.metadata if isinstance(m, annotated_types.Le)), None)
        live = applies_live(key)
        out.append(Field(key, kind, value, default, info.description or "", nullable,
                         float(low) if isinstance(low, int | float) else None,
                         float(high) if isinstance(high, int | float) else None, choices, live))
    return out


def catalogue(config: Config) -> list[dict[str, Any]]:
    """Every setting, in the cards the page shows: one per section, and for the buses one card per bus and
    one per unit ("garage · id 1"), with the bus and unit index a card's add and remove buttons need."""
    groups: list[dict[str, Any]] = []
    for section in SECTIONS:
        value = getattr(config, section)
        if section == "buses":
            for b, bus in enumerate(config.buses):
                fields = [f for f in _fields(bus, f"buses.{b}") if ".units." not in f.key]
                groups.append({"name": f"buses.{b}", "title": f"RS485 bus {b + 1}", "kind": "bus", "bus": b,
                               "fields": [f.to_json() for f in fields]})
                for u, unit in enumerate(bus.units):
                    groups.append({"name": f"buses.{b}.units.{u}", "title": f"{unit.label} · id {unit.id}",
                                   "kind": "unit", "bus": b, "unit": u,
                                   "fields": [f.to_json() for f in _fields(unit, f"buses.{b}.units.{u}")]})
            continue
        fields = [] if value is None else _fields(value, section)
        groups.append({"name": section, "title": TITLES[section], "kind": "section",
                       "fields": [f.to_json() for f in fields]})
    return groups


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What saving did."""

    config: Config
    path: Path
    keys: tuple[str, ...]  # the dotted keys that were set


class SettingsFile:
    """Reads and rewrites one configuration file, keeping its comments."""

    def __init__(self, path: Path, effective: Config) -> None:
        self.path = path
        self.effective = effective  # what the service runs with (the file, plus any flags)
        remove_orphans(path)  # a save killed half-way leaves its temporary file
    def _document(self) -> tomlkit.TOMLDocument:
        if self.path.exists():
            try:
                return tomlkit.parse(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"{self.path}: cannot be read ({exc}); it was not changed") from None
        # No file yet (started from flags): begin with what the service runs with, secrets included.
        document = tomlkit.document()
        for key, value in _plain(self.effective.model_dump(exclude_none=True)).items():
            document[key] = value
        return document

    def save(self, changes: dict[str, Any], *, hidden_ok: bool = False) -> SaveResult:
        """Validate and write ``changes`` (dotted keys); InvalidInputError naming the keys, nothing written.

        The password and token hashes are written only by their own commands (``hidden_ok``).
        """
        if not changes:
            raise InvalidInputError("no settings given")
        changes = _flatten(changes)  # a whole table counts key by key: the hidden keys stay hidden
        whole = [k for k, v in changes.items() if isinstance(v, dict) or (
            isinstance(v, list) and any(isinstance(item, dict) for item in v))]
        if whole:
            raise InvalidInputError(f"give settings key by key, not whole tables: {', '.join(sorted(whole))}")
        bad = [k for k in changes if not _a_setting(k) or (k in HIDDEN_KEYS and not hidden_ok)]
        if bad:
            raise InvalidInputError(f"unknown setting(s): {', '.join(sorted(bad))}")
        _check_kinds(changes, self.effective)
        document = self._document()
        current = self.effective.model_dump(mode="json")
        for key, value in changes.items():
            if key.endswith(".url") and isinstance(value, str):
                try:
                    value = keep_secret(value, _lookup(current, key.split(".")))
                except ValueError as exc:
                    raise InvalidInputError(f"{key}: {exc}") from None
            _set(document, key.split("."), value)
        if "meter.url" in changes and self.effective.meter is not None:
            _fit_meter_to_its_url(document, self.effective.meter.type)
        return self._write(document, tuple(changes))

    def _write(self, document: tomlkit.TOMLDocument, keys: tuple[str, ...]) -> SaveResult:
        """Validate the whole changed document, then write it atomically; nothing is written if it is invalid."""
        try:
            config = parse_config(document.unwrap(), "settings")
        except ConfigError as exc:
            raise InvalidInputError(str(exc).removeprefix("settings: ")) from None
        try:
            atomic_write(self.path, tomlkit.dumps(document), mode=0o600)
        except OSError as exc:  # a full or read-only disk: the old file stands
            raise StorageError(f"{self.path} could not be written ({exc.strerror or exc}); nothing was changed") \
                from None
        self.effective = config
        return SaveResult(config, self.path, keys)

    # --- buses and units: added and removed whole -------------------------------------------------------------

    def _buses(self, document: tomlkit.TOMLDocument) -> Any:
        buses = document.get("buses")
        if buses is None:
            buses = document["buses"] = tomlkit.aot()
        return buses

    def add_bus(self, url: str, unit_id: int, name: str = "") -> SaveResult:
        """A new bus with its first unit; InvalidInputError (nothing written) when it is not valid."""
        document = self._document()
        buses = self._buses(document)
        bus = tomlkit.table()
        bus["url"] = url
        bus["units"] = [_unit_table(unit_id, name)]
        buses.append(bus)
        return self._write(document, (f"buses.{len(buses) - 1}",))

    def remove_bus(self, bus: int) -> SaveResult:
        """Remove bus ``bus`` (0-based) and its units; the last bus cannot go."""
        document = self._document()
        buses = self._buses(document)
        if not 0 <= bus < len(buses):
            raise NotFoundError(f"no bus {bus + 1}")
        if len(buses) == 1:
            raise InvalidInputError("the site needs a bus: change its address instead of removing it")
        del buses[bus]
        return self._write(document, ("buses",))

    def add_unit(self, bus: int, unit_id: int, name: str = "") -> SaveResult:
        """A new unit on bus ``bus``; InvalidInputError (nothing written) for a bad or repeated id."""
        document = self._document()
        buses = self._buses(document)
        if not 0 <= bus < len(buses):
            raise NotFoundError(f"no bus {bus + 1}")
        units = buses[bus].setdefault("units", tomlkit.aot())
        if any(int(u.get("id", -1)) == unit_id for b in buses for u in b.get("units", [])):
            raise InvalidInputError(f"id: slave id {unit_id} is already used by another unit")
        units.append(_unit_table(unit_id, name))
        return self._write(document, (f"buses.{bus}.units.{len(units) - 1}",))

    def remove_unit(self, bus: int, unit: int) -> SaveResult:
        """Remove unit ``unit`` of bus ``bus`` (both 0-based); a bus keeps at least one."""
        document = self._document()
        buses = self._buses(document)
        if not 0 <= bus < len(buses) or not 0 <= unit < len(buses[bus].get("units", [])):
            raise NotFoundError(f"no unit {unit + 1} on bus {bus + 1}")
        units = buses[bus]["units"]
        if len(units) == 1:
            raise InvalidInputError("a bus needs a unit: remove the bus, or add another unit first")
        del units[unit]
        return self._write(document, (f"buses.{bus}.units",))

    def save_schedule(self, entries: list[dict[str, Any]]) -> SaveResult:
        """Replace the ``[[schedule]]`` entries; InvalidInputError naming the entry and key, nothing written."""
        for index, entry in enumerate(entries):
            try:
                ScheduleEntry.model_validate(entry)
            except ValidationError as exc:
                raise InvalidInputError(f"schedule entry {index + 1}: {describe_errors(exc)}") from None
        document = self._document()
        if entries:
            table = tomlkit.aot()
            for entry in entries:
                table.append(tomlkit.item({k: v for k, v in entry.items() if v is not None}))
            document["schedule"] = table
        elif "schedule" in document:
            del document["schedule"]
        return self._write(document, ("schedule",))


def _a_setting(key: str) -> bool:
    """A dotted key inside a section (``web.port``), never a section itself or an empty part (``web``, ``web.``):
    removing a whole table would remove the secrets in it."""
    parts = key.split(".")
    return len(parts) >= 2 and parts[0] in SECTIONS and all(parts)


_KIND_WORDS = {"bool": "true or false", "int": "a whole number", "number": "a number", "text": "text",
               "choice": "one of the choices", "secret": "text", "list": "a list of text"}


def _kind_ok(kind: str, value: Any) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, str)


def _check_kinds(changes: dict[str, Any], config: Config) -> None:
    """Each value of the JSON type its setting has (true, not "t"; 5, not "5"); InvalidInputError naming them."""
    kinds = {f["key"]: f["kind"] for group in catalogue(config) for f in group["fields"]}
    bad = [f"{key}: must be {_KIND_WORDS.get(kinds[key], kinds[key])}, got {str(value)[:40]!r}"
           for key, value in changes.items()
           if key in kinds and value is not None and not _kind_ok(kinds[key], value)]
    if bad:
        raise InvalidInputError("; ".join(bad))


def _unit_table(unit_id: int, name: str) -> Table:
    table = tomlkit.table()
    table["id"] = unit_id
    if name:
        table["name"] = name
    return table


def _fit_meter_to_its_url(document: tomlkit.TOMLDocument, old_type: str) -> None:
    """A meter URL of another kind (a Shelly's http:// replaced by mqtt://): the section becomes that kind's,
    keeping the keys both kinds have and dropping the others (a Shelly's model, say)."""
    meter = document.get("meter")
    if not isinstance(meter, Table) or not isinstance(meter.get("url"), str):
        return
    new_type = meter_type({"url": str(meter["url"])})
    if new_type == old_type or new_type not in METER_SOURCES:
        return
    known = METER_SOURCES[new_type].model_fields
    for key in [k for k in meter if k not in known or k == "type"]:
        del meter[key]


def _plain(value: Any) -> Any:
    """Model-dump values as TOML can hold them: secrets revealed, paths as text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    return value


def _flatten(changes: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"web": {"port": 80}}`` as ``{"web.port": 80}``; dotted keys as they are."""
    flat: dict[str, Any] = {}
    for key, value in changes.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def _lookup(data: Any, path: list[str]) -> str | None:
    """The string at a dotted path of dumped configuration, or None."""
    for part in path:
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data if isinstance(data, str) else None


def _set(container: Any, path: list[str], value: Any) -> None:
    """Set (or, for None, remove) one dotted key inside a tomlkit document, creating tables as needed."""
    head, rest = path[0], path[1:]
    if head.isdigit():
        index = int(head)
        if not isinstance(container, list) or index >= len(container):
            raise InvalidInputError(f"no item {index} here: add buses and units in the configuration file")
        if rest:
            _set(container[index], rest, value)
            return
        raise InvalidInputError("a list item cannot be replaced whole")
    if rest:
        if head not in container:
            container[head] = tomlkit.table()
        child = container[head]
        if not isinstance(child, Table | list):
            raise InvalidInputError(f"{head} is a value, not a section")
        _set(child, rest, value)
        return
    if value is None or value == "":
        if head in container:
            del container[head]
        return
    container[head] = value

