"""The ME3000SP's battery settings (0x10B0..0x10BC) and identity (0x2000..0x200F), read with function 0x04.

Both are read once per unit at start and on demand; neither changes while the service runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smartsofar.errors import ProtocolError

SETTINGS_START = 0x10B0
SETTINGS_COUNT = 13
INFO_START = 0x2000
INFO_COUNT = 16

# (offset from 0x10B0, name, scale, unit, description)
SETTINGS_MAP: tuple[tuple[int, str, float, str, str], ...] = (
    (0x0, "battery_type", 1, "", "battery type code"),
    (0x1, "battery_capacity_ah", 1, "Ah", "battery capacity"),
    (0x2, "energy_management_model", 1, "", "energy-management model (reserved)"),
    (0x3, "max_charge_v", 0.1, "V", "maximum charge voltage"),
    (0x4, "max_charge_a", 0.01, "A", "maximum charge current"),
    (0x5, "over_voltage_protection_v", 0.1, "V", "over-voltage protection point"),
    (0x6, "min_discharge_v", 0.1, "V", "minimum discharge voltage"),
    (0x7, "max_discharge_a", 0.01, "A", "maximum discharge current"),
    (0x8, "under_voltage_protection_v", 0.1, "V", "under-voltage protection point"),
    (0x9, "depth_of_discharge_pct", 1, "%", "depth of discharge"),
    (0xA, "discharge_time_periods", 1, "", "discharge time periods (reserved)"),
    (0xB, "empty_battery_v", 0.01, "V", "empty-battery voltage"),
    (0xC, "full_battery_v", 0.01, "V", "full-battery voltage"),
)

_BATTERY_TYPES = {0: "DARFON", 1: "PYLON", 2: "SOLTARO", 3: "ALPHA.ESS", 4: "GENERAL", 0x80: "TELE", 0x100: "default"}


@dataclass(frozen=True, slots=True)
class UnitSettings:
    """The battery settings block, in units."""

    values: dict[str, float]

    @property
    def battery_type_name(self) -> str:
        """Battery brand as the inverter's firmware V1.20 list names it."""
        code = int(self.values["battery_type"])
        return _BATTERY_TYPES.get(code, f"code {code}")

    @property
    def depth_of_discharge_pct(self) -> float:
        """How much of the battery the inverter lets us use."""
        return self.values["depth_of_discharge_pct"]


def decode_settings(registers: Sequence[int]) -> UnitSettings:
    """Decode the 13 registers read from 0x10B0."""
    if len(registers) != SETTINGS_COUNT:
        raise ProtocolError(f"expected {SETTINGS_COUNT} settings registers, got {len(registers)}")
    values = {name: round(registers[offset] * scale, 3) for offset, name, scale, _u, _d in SETTINGS_MAP}
    return UnitSettings(values)


@dataclass(frozen=True, slots=True)
class UnitInfo:
    """Identity of a unit: production code, serial number, firmware and hardware versions."""

    production_code: int
    serial: str
    software_version: str
    hardware_version: str


def _ascii(words: Sequence[int]) -> str:
    raw = b"".join(w.to_bytes(2, "big") for w in words)
    return raw.decode("ascii", errors="replace").strip("\x00 ")


def decode_info(registers: Sequence[int]) -> UnitInfo:
    """Decode the 16 registers read from 0x2000."""
    if len(registers) != INFO_COUNT:
        raise ProtocolError(f"expected {INFO_COUNT} info registers, got {len(registers)}")
    return UnitInfo(
        production_code=registers[0],
        serial=_ascii(registers[1:8]),
        software_version=_ascii(registers[8:10]),
        hardware_version=_ascii(registers[10:12]),
    )


def encode_info(info: UnitInfo) -> list[int]:
    """The inverse of decode_info, for the simulator."""

    def words(text: str, count: int) -> list[int]:
        raw = text.encode("ascii")[: 2 * count].ljust(2 * count, b"\x00")
        return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, 2 * count, 2)]

    return ([info.production_code] + words(info.serial, 7) + words(info.software_version, 2)
            + words(info.hardware_version, 2) + [0] * 4)


def encode_settings(values: dict[str, float]) -> list[int]:
    """The inverse of decode_settings, for the simulator."""
    return [round(values.get(name, 0) / scale) & 0xFFFF for _o, name, scale, _u, _d in SETTINGS_MAP]
