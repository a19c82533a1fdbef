"""The ME3000SP running-data register map as data, and its decoding into a typed reading.

One table of frozen rows (address, name, unit, scale, signed, words, description) covers Sofar's documented
block 0x0200-0x0245 plus 0x0252/0x0255; the single bulk read (function 0x03, 0x0200..0x0255, 86 registers)
and the decoding both derive from it. Units and signs are in the names: ``battery_w`` is charge-positive,
``grid_feed_w`` (0x0212) is export-positive as the inverter reports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from smartsofar.errors import ProtocolError
from smartsofar.sofar.status import (
    Fault,
    RunningState,
    decode_alerts,
    decode_battery_faults,
    decode_comm_board,
    decode_faults,
)


@dataclass(frozen=True, slots=True)
class Register:
    """One value in the running-data block."""

    address: int
    name: str
    unit: str
    scale: float
    signed: bool
    description: str
    words: int = 1  # 2 for a 32-bit pair, high word at the lower address


def _r(address: int, name: str, unit: str, scale: float, signed: bool, description: str, words: int = 1) -> Register:
    return Register(address, name, unit, scale, signed, description, words)


RUNNING_DATA: tuple[Register, ...] = (
    _r(0x0200, "running_state", "", 1, False, "running state (WaitState ... PermanentState)"),
    _r(0x0201, "fault_word_1", "bits", 1, False, "fault bytes 0 (lo) and 1 (hi)"),
    _r(0x0202, "fault_word_2", "bits", 1, False, "fault bytes 2 and 3"),
    _r(0x0203, "fault_word_3", "bits", 1, False, "fault bytes 4 and 5 (reserved)"),
    _r(0x0204, "fault_word_4", "bits", 1, False, "fault bytes 6 and 7"),
    _r(0x0205, "fault_word_5", "bits", 1, False, "fault bytes 8 and 9 (unrecoverable)"),
    _r(0x0206, "grid_a_v", "V", 0.1, False, "grid phase A (L1) voltage"),
    _r(0x0207, "grid_a_a", "A", 0.01, True, "grid phase A current"),
    _r(0x0208, "grid_b_v", "V", 0.1, False, "grid phase B voltage"),
    _r(0x0209, "grid_b_a", "A", 0.01, True, "grid phase B current"),
    _r(0x020A, "grid_c_v", "V", 0.1, False, "grid phase C voltage"),
    _r(0x020B, "grid_c_a", "A", 0.01, True, "grid phase C current"),
    _r(0x020C, "grid_hz", "Hz", 0.01, False, "grid frequency"),
    _r(0x020D, "battery_w", "W", 10, True, "battery power, charge positive"),
    _r(0x020E, "battery_v", "V", 0.1, False, "battery voltage (0.1 V per PDF, 0.01 V on field firmware)"),
    _r(0x020F, "battery_a", "A", 0.01, True, "battery current, charge positive"),
    _r(0x0210, "soc_pct", "%", 1, False, "battery state of charge"),
    _r(0x0211, "battery_temp_c", "°C", 1, True, "battery temperature"),
    _r(0x0212, "grid_feed_w", "W", 10, True, "grid power at the inverter's CT, export positive"),
    _r(0x0213, "load_w", "W", 10, False, "house load power"),
    _r(0x0214, "inverter_w", "W", 10, True, "inverter AC input/output power"),
    _r(0x0215, "pv_w", "W", 10, False, "PV generation power (PV CT)"),
    _r(0x0216, "eps_v", "V", 0.1, False, "EPS output voltage"),
    _r(0x0217, "eps_w", "W", 10, False, "EPS output power"),
    _r(0x0218, "pv_today_wh", "Wh", 10, False, "PV generation today"),
    _r(0x0219, "export_today_wh", "Wh", 10, False, "energy sold to the grid today"),
    _r(0x021A, "import_today_wh", "Wh", 10, False, "energy bought from the grid today"),
    _r(0x021B, "load_today_wh", "Wh", 10, False, "load consumption today"),
    _r(0x021C, "pv_total_kwh", "kWh", 1, False, "total PV generation", 2),
    _r(0x021E, "export_total_kwh", "kWh", 1, False, "total energy sold to the grid", 2),
    _r(0x0220, "import_total_kwh", "kWh", 1, False, "total energy bought from the grid", 2),
    _r(0x0222, "load_total_kwh", "kWh", 1, False, "total load consumption", 2),
    _r(0x022A, "countdown", "", 1, False, "countdown time (unit not documented)"),
    _r(0x022B, "alert_word", "bits", 1, False, "inverter alert message"),
    _r(0x022C, "battery_cycles", "", 1, False, "battery cycle count"),
    _r(0x022D, "inv_bus_raw", "", 1, True, "INV bus voltage (unit not documented)"),
    _r(0x022E, "llc_bus_raw", "", 1, False, "LLC bus voltage (unit not documented)"),
    _r(0x022F, "buck_current_raw", "", 1, False, "buck current (unit not documented)"),
    _r(0x0230, "grid_r_v", "V", 0.1, False, "grid R voltage"),
    _r(0x0231, "grid_r_a", "A", 0.01, False, "grid R current"),
    _r(0x0232, "grid_s_v", "V", 0.1, False, "grid S voltage"),
    _r(0x0233, "grid_s_a", "A", 0.01, False, "grid S current"),
    _r(0x0234, "grid_t_v", "V", 0.1, False, "grid T voltage"),
    _r(0x0235, "grid_t_a", "A", 0.01, False, "grid T current"),
    _r(0x0236, "pv_current_raw", "", 1, False, "PV current (unit not documented)"),
    _r(0x0238, "inverter_temp_c", "°C", 1, True, "inner (inverter) temperature"),
    _r(0x0239, "heatsink_temp_c", "°C", 1, True, "heat-sink temperature"),
    _r(0x023A, "country_code", "", 1, False, "grid code / country setting"),
    _r(0x023B, "dc_current_ma", "mA", 1, True, "DC current component"),
    _r(0x023C, "dc_voltage_v", "V", 0.1, True, "DC voltage component"),
    _r(0x023D, "battery_fault_word_1", "bits", 1, False, "battery fault bytes 0 and 1"),
    _r(0x023E, "battery_fault_word_2", "bits", 1, False, "battery fault bytes 2 and 3"),
    _r(0x023F, "battery_fault_word_3", "bits", 1, False, "battery fault bytes 4 and 5"),
    _r(0x0240, "battery_fault_word_4", "bits", 1, False, "battery fault bytes 6 and 7"),
    _r(0x0241, "battery_fault_word_5", "bits", 1, False, "battery fault bytes 8 and 9"),
    _r(0x0242, "comm_board_word", "bits", 1, False, "communication-board message"),
    _r(0x0243, "generation_today_min", "min", 1, False, "generation time today"),
    _r(0x0244, "generation_total_h", "h", 1, False, "total generation time", 2),
    _r(0x0252, "hybrid_pv1_w", "W", 10, False, "PV1 power on Sofar hybrid models; undefined on an ME3000"),
    _r(0x0255, "hybrid_pv2_w", "W", 10, False, "PV2 power on Sofar hybrid models; undefined on an ME3000"),
)

BLOCK_START = 0x0200
BLOCK_COUNT = 0x0256 - BLOCK_START  # 86 registers, one 0x03 read per unit
BATTERY_POWER_ADDRESS = 0x020D  # battery power alone: the short read while a command settles
BATTERY_V_MILLI_THRESHOLD = 1000  # raw >= this means the firmware sends 0.01 V, not the PDF's 0.1 V


def decode_battery_power(registers: Sequence[int]) -> float:
    """0x020D read on its own: battery power, W, charge positive (signed, 10 W per step)."""
    if len(registers) != 1:
        raise ProtocolError(f"expected 1 register at 0x020D, got {len(registers)}")
    raw = registers[0]
    return float((raw - 0x10000 if raw >= 0x8000 else raw) * 10)


class UnitReading(NamedTuple):
    """Everything one bulk read of a unit says, decoded. Field names are the register table's names."""

    running_state: RunningState
    fault_word_1: int
    fault_word_2: int
    fault_word_3: int
    fault_word_4: int
    fault_word_5: int
    grid_a_v: float
    grid_a_a: float
    grid_b_v: float
    grid_b_a: float
    grid_c_v: float
    grid_c_a: float
    grid_hz: float
    battery_w: float
    battery_v: float
    battery_a: float
    soc_pct: float
    battery_temp_c: float
    grid_feed_w: float
    load_w: float
    inverter_w: float
    pv_w: float
    eps_v: float
    eps_w: float
    pv_today_wh: float
    export_today_wh: float
    import_today_wh: float
    load_today_wh: float
    pv_total_kwh: float
    export_total_kwh: float
    import_total_kwh: float
    load_total_kwh: float
    countdown: float
    alert_word: int
    battery_cycles: float
    inv_bus_raw: float
    llc_bus_raw: float
    buck_current_raw: float
    grid_r_v: float
    grid_r_a: float
    grid_s_v: float
    grid_s_a: float
    grid_t_v: float
    grid_t_a: float
    pv_current_raw: float
    inverter_temp_c: float
    heatsink_temp_c: float
    country_code: float
    dc_current_ma: float
    dc_voltage_v: float
    battery_fault_word_1: int
    battery_fault_word_2: int
    battery_fault_word_3: int
    battery_fault_word_4: int
    battery_fault_word_5: int
    comm_board_word: int
    generation_today_min: float
    generation_total_h: float
    hybrid_pv1_w: float
    hybrid_pv2_w: float

    @property
    def faults(self) -> tuple[Fault, ...]:
        """Inverter faults ID01-ID80 that are set."""
        return decode_faults([self.fault_word_1, self.fault_word_2, self.fault_word_3,
                              self.fault_word_4, self.fault_word_5])

    @property
    def battery_faults(self) -> tuple[Fault, ...]:
        """Battery faults that are set."""
        return decode_battery_faults([self.battery_fault_word_1, self.battery_fault_word_2,
                                      self.battery_fault_word_3, self.battery_fault_word_4,
                                      self.battery_fault_word_5])

    @property
    def alerts(self) -> tuple[Fault, ...]:
        """Inverter alerts (derating, remote shutdown, low battery) that are set."""
        return decode_alerts(self.alert_word)

    @property
    def comm_board_faults(self) -> tuple[Fault, ...]:
        """Communication-board messages that are set."""
        return decode_comm_board(self.comm_board_word)

    @property
    def fault_words(self) -> tuple[int, ...]:
        """Every raw bit-field word (faults, battery faults, alerts, comm board), to see if anything changed."""
        return (self.fault_word_1, self.fault_word_2, self.fault_word_3, self.fault_word_4, self.fault_word_5,
                self.battery_fault_word_1, self.battery_fault_word_2, self.battery_fault_word_3,
                self.battery_fault_word_4, self.battery_fault_word_5, self.alert_word, self.comm_board_word)

    @property
    def in_fault(self) -> bool:
        """True when the unit reports a fault state or any fault bit."""
        return self.running_state.is_fault or any((
            self.fault_word_1, self.fault_word_2, self.fault_word_3, self.fault_word_4, self.fault_word_5,
            self.battery_fault_word_1, self.battery_fault_word_2, self.battery_fault_word_3,
            self.battery_fault_word_4, self.battery_fault_word_5))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready dict: every register value plus decoded names."""
        out: dict[str, Any] = self._asdict()
        out["running_state"] = self.running_state.name.lower()
        out["running_state_words"] = self.running_state.words
        out["faults"] = [f.name for f in self.faults]
        out["battery_faults"] = [f.name for f in self.battery_faults]
        out["alerts"] = [f.name for f in self.alerts]
        out["comm_board_faults"] = [f.name for f in self.comm_board_faults]
        return out


_BIT_WORDS = frozenset(row.name for row in RUNNING_DATA if row.unit == "bits")
# The table compiled once: (name, offset, words, signed, scale or None for raw integers)
_PLAN = tuple((row.name, row.address - BLOCK_START, row.words, row.signed,
               None if row.name in _BIT_WORDS or row.name == "running_state" else row.scale)
              for row in RUNNING_DATA)


def decode_running_data(registers: Sequence[int]) -> UnitReading:
    """Decode the 86-register block 0x0200..0x0255 into a typed reading."""
    if len(registers) != BLOCK_COUNT:
        raise ProtocolError(f"expected {BLOCK_COUNT} registers from 0x0200, got {len(registers)}")
    values: list[Any] = []  # in table order, which is the field order
    for name, offset, words, signed, scale in _PLAN:
        raw = registers[offset] if words == 1 else (registers[offset] << 16) | registers[offset + 1]
        if signed and raw >= 1 << (16 * words - 1):
            raw -= 1 << (16 * words)
        if scale is None or scale == 1:
            values.append(raw)
        elif name == "battery_v" and raw >= BATTERY_V_MILLI_THRESHOLD:
            values.append(round(raw * 0.01, 2))
        else:
            values.append(round(raw * scale, 3))
    values[0] = RunningState.from_raw(values[0])
    return UnitReading._make(values)


def encode_running_data(values: Mapping[str, float]) -> list[int]:
    """The inverse of decoding, for the simulator: register words from values in their units.

    Names missing from ``values`` read as 0; 0x0246..0x0255 outside the table read as 0.
    """
    registers = [0] * BLOCK_COUNT
    for name, offset, words, _signed, scale in _PLAN:
        value = values.get(name, 0)
        if not value:
            continue
        raw = int(value) if scale is None else round(value / scale)
        raw &= (1 << (16 * words)) - 1
        if words == 1:
            registers[offset] = raw
        else:
            registers[offset], registers[offset + 1] = raw >> 16, raw & 0xFFFF
    return registers
