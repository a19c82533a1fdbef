"""Running states and the bit-field words of the ME3000SP: faults, battery faults, alerts, comm board.

Every bit-field register carries two bytes of Sofar's lists: the low byte holds the even-numbered byte
(0, 2, 4, ...) and the high byte the odd one. The tables below are Sofar's lists as data; reserved bits
that are set still surface, as ``reserved IDnn``, so nothing the inverter says is silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum


class RunningState(IntEnum):
    """Register 0x0200, the eight documented ME3000 states."""

    WAIT = 0
    CHECK = 1
    CHARGING = 2
    CHECK_DISCHARGE = 3
    DISCHARGING = 4
    EPS = 5
    FAULT = 6
    PERMANENT_FAULT = 7
    UNKNOWN = 0xFFFF

    @classmethod
    def from_raw(cls, raw: int) -> RunningState:
        """Decode a raw register value; anything undocumented becomes UNKNOWN."""
        try:
            return cls(raw)
        except ValueError:
            return cls.UNKNOWN

    @property
    def words(self) -> str:
        """The state in plain words, for people."""
        return _STATE_WORDS[self]

    @property
    def is_fault(self) -> bool:
        """True for the fault and permanent-fault states."""
        return self in (RunningState.FAULT, RunningState.PERMANENT_FAULT)


_STATE_WORDS = {
    RunningState.WAIT: "standby",
    RunningState.CHECK: "checking before charging",
    RunningState.CHARGING: "charging",
    RunningState.CHECK_DISCHARGE: "checking before discharging",
    RunningState.DISCHARGING: "discharging",
    RunningState.EPS: "EPS (off-grid backup)",
    RunningState.FAULT: "fault",
    RunningState.PERMANENT_FAULT: "permanent fault",
    RunningState.UNKNOWN: "unknown state",
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One named bit of a fault, alert or status list, as the inverter's screen numbers it (IDnn)."""

    code: int
    name: str
    description: str

    @property
    def label(self) -> str:
        """'ID05 BatOVP' style label used in logs and the UI."""
        return f"ID{self.code:02d} {self.name}"


# (name, description) per bit, 8 per byte; None = reserved. Byte n of a list is the low byte of
# register n//2 when n is even, the high byte when n is odd.
_Bits = Sequence[tuple[str, str] | None]

_FAULT_BYTES: dict[int, _Bits] = {
    0: [("GridOVP", "grid over-voltage"), ("GridUVP", "grid under-voltage"),
        ("GridOFP", "grid over-frequency"), ("GridUFP", "grid under-frequency"),
        ("BatOVP", "battery over-voltage"), None, None, None],
    1: [("HW_LLCBus_OVP", "LLC bus over-voltage (hardware)"), ("HW_Boost_OVP", "bus over-voltage (hardware)"),
        ("HwBuckBoostOCP", "buck-boost over-current (hardware)"),
        ("HwBatOCP", "battery over-current (hardware)"), None, None,
        ("HwAcOCP", "output over-current (hardware)"), None],
    2: [("HwADFaultIGrid", "grid-current sampling fault"), ("HwADFaultDCI", "DCI sampling fault"),
        ("HwADFaultVGrid", "grid-voltage sampling fault"), None, ("MChip_Fault", "main chip fault"),
        ("HwAuxPowerFault", "auxiliary supply fault"), None, None],
    3: [("LLCBusOVP", "LLC bus over-voltage"), ("SwBusOVP", "bus over-voltage (software)"),
        ("BatOCP", "battery over-current"), ("DciOCP", "DC injection over-current"),
        ("SwOCPInstant", "output over-current (software)"), ("BuckOCP", "buck over-current"),
        ("AcRmsOCP", "output over-current"), None],
    4: [None] * 8,
    5: [None] * 8,
    6: [("ConsistentFault_VGrid", "master/slave DSP disagree on grid voltage"),
        ("ConsistentFault_FGrid", "master/slave DSP disagree on grid frequency"),
        ("ConsistentFault_DCI", "master/slave DSP disagree on DC injection"),
        ("BatCommunicatonFlag", "battery communication fault"), ("SpiCommLose", "SPI communication lost"),
        ("SciCommLose", "SCI communication lost"), ("RecoverRelayFail", "relay fault"), None],
    7: [("OverTempFault_BAT", "inverter temperature too high"),
        ("OverTempFault_HeatSink", "boost temperature too high"),
        ("OverTempFault_Env", "ambient temperature too high"), None, None, None, None, None],
    8: [("unrecoverHwAcOCP", "unrecoverable output over-current"),
        ("unrecoverBusOVP", "unrecoverable bus over-voltage"),
        ("BitEPSunrecoverBatOcP", "unrecoverable EPS battery over-current"), None, None,
        ("unrecoverOCPInstant", "unrecoverable instant over-current"), None, None],
    9: [None, None, ("unrecoverEEPROM_W", "EEPROM write failure"), ("unrecoverEEPROM_R", "EEPROM read failure"),
        ("unrecoverRelayFail", "unrecoverable relay fault"), None, None, None],
}

_BATTERY_FAULT_BYTES: dict[int, _Bits] = {
    0: [("BatOCD", "battery discharge over-current"), ("BatSCD", "battery discharge short-circuit"),
        ("BatOV", "battery over-voltage"), ("BatUV", "battery under-voltage"),
        ("BatOTD", "battery discharge over-temperature"), ("BatOTC", "battery charge over-temperature"),
        ("BatUTD", "battery discharge under-temperature"), ("BatUTC", "battery charge under-temperature")],
    **{n: [None] * 8 for n in range(1, 10)},
}

_ALERT_BYTES: dict[int, _Bits] = {
    0: [("OverTempAlarmLoadShedding", "power derated for temperature"),
        ("OverFreqAlarmLoadShedding", "power derated for grid over-frequency"),
        ("bitlongdistLoadShedding", "power derated by remote control"),
        ("bitlongdistOFF", "shut down by remote control"), None, None, None,
        ("batLowVoltageAlarm", "battery low voltage")],
    1: [None] * 8,
}

_COMM_BOARD_BYTES: dict[int, _Bits] = {
    0: [None, None, None, ("SoftwareVersionMismatch", "software versions inconsistent"),
        ("CommEEPROMFault", "communication board EEPROM fault"), ("RTCFault", "real-time clock fault"),
        ("InValidCountry", "invalid country setting"), ("SDFault", "SD card fault")],
    1: [None] * 8,
}


def _decode(words: Sequence[int], table: dict[int, _Bits], first_code: int) -> tuple[Fault, ...]:
    if not any(words):
        return ()
    faults: list[Fault] = []
    for byte_index in range(2 * len(words)):
        word = words[byte_index // 2]
        byte = (word >> 8) & 0xFF if byte_index % 2 else word & 0xFF
        for bit in range(8):
            if not byte & (1 << bit):
                continue
            code = first_code + byte_index * 8 + bit
            entry = table.get(byte_index, [None] * 8)[bit]
            name, description = entry if entry else (f"reserved{code:02d}", "reserved bit set")
            faults.append(Fault(code, name, description))
    return tuple(faults)


def decode_faults(words: Sequence[int]) -> tuple[Fault, ...]:
    """Faults ID01-ID80 from registers 0x0201-0x0205."""
    return _decode(words, _FAULT_BYTES, 1)


def decode_battery_faults(words: Sequence[int]) -> tuple[Fault, ...]:
    """Battery faults ID100- from registers 0x023D-0x0241."""
    return _decode(words, _BATTERY_FAULT_BYTES, 100)


def decode_alerts(word: int) -> tuple[Fault, ...]:
    """Inverter alerts ID81-ID88 (and reserved ID89-96) from register 0x022B."""
    return _decode([word], _ALERT_BYTES, 81)


def decode_comm_board(word: int) -> tuple[Fault, ...]:
    """Communication-board messages ID91-ID106 from register 0x0242."""
    return _decode([word], _COMM_BOARD_BYTES, 91)
