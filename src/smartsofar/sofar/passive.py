"""Sofar's own function codes: passive-mode commands (0x42), the heartbeat (0x49) and EPS (0x41).

Commands are validated here, before anything reaches a bus: ``PassiveCommand`` refuses out-of-range powers
with ``InvalidInputError``. The reply's status word decodes into ``StatusWord``: the low byte is the result
of this command, the high byte the unit's charge/discharge flags.

The PDU classes plug into pymodbus' decoder: ``SOFAR_PDUS`` is the (request, response) pair of each code,
for ``Bus.add_pdus`` (and the simulator's decoder).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

from pymodbus.framer import FramerRTU
from pymodbus.pdu import ModbusPDU

from smartsofar.bus.framer import PduPair
from smartsofar.errors import InvalidInputError
from smartsofar.sofar.limits import MAX_AUTO_TARGET_W, MAX_UNIT_POWER_W

BROADCAST_ID = 0x88

REG_STANDBY = 0x0100
REG_DISCHARGE = 0x0101
REG_CHARGE = 0x0102
REG_AUTO = 0x0103
STANDBY_VALUE = 0x5555
HEARTBEAT_REGISTER = 0x2201
HEARTBEAT_VALUE = 0x2202


class CommandResult(IntEnum):
    """Low byte of the 0x42 status word."""

    ACCEPTED = 0
    INVALID_MODE = 1
    CRC_FAILED = 2
    BUSY = 3
    INVALID_DATA = 4
    UNKNOWN = 0xFF


_RESULT_MESSAGES = {
    CommandResult.ACCEPTED: "accepted",
    CommandResult.INVALID_MODE: "invalid mode: the inverter is not in Passive mode; "
    "select Passive mode on the inverter's screen",
    CommandResult.CRC_FAILED: "the inverter saw a corrupted frame (CRC failed)",
    CommandResult.BUSY: "busy",
    CommandResult.INVALID_DATA: "invalid data: the value is out of the inverter's range",
    CommandResult.UNKNOWN: "unknown result code",
}


@dataclass(frozen=True, slots=True)
class StatusWord:
    """The decoded reply to a passive-mode command."""

    raw: int

    @property
    def result(self) -> CommandResult:
        """What the unit did with this command."""
        try:
            return CommandResult(self.raw & 0xFF)
        except ValueError:
            return CommandResult.UNKNOWN

    @property
    def accepted(self) -> bool:
        """True when the unit took the command."""
        return self.result is CommandResult.ACCEPTED

    @property
    def charge_allowed(self) -> bool:
        """Status bit 0."""
        return bool(self.raw & 0x0100)

    @property
    def discharge_allowed(self) -> bool:
        """Status bit 1."""
        return bool(self.raw & 0x0200)

    @property
    def battery_full(self) -> bool:
        """Status bit 2: charging prohibited."""
        return bool(self.raw & 0x0400)

    @property
    def battery_flat(self) -> bool:
        """Status bit 3: discharging prohibited."""
        return bool(self.raw & 0x0800)

    @property
    def message(self) -> str:
        """The result in words, plus the flags."""
        text = _RESULT_MESSAGES[self.result]
        if self.result is CommandResult.UNKNOWN:
            text = f"{text} {self.raw & 0xFF}"
        return text

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "raw": f"0x{self.raw:04X}",
            "result": self.result.name.lower(),
            "message": self.message,
            "charge_allowed": self.charge_allowed,
            "discharge_allowed": self.discharge_allowed,
            "battery_full": self.battery_full,
            "battery_flat": self.battery_flat,
        }

    def describe(self) -> str:
        """One line for people."""
        flags = [name for name, on in (("charge allowed", self.charge_allowed),
                                       ("discharge allowed", self.discharge_allowed),
                                       ("battery full", self.battery_full),
                                       ("battery flat", self.battery_flat)) if on]
        return f"{self.message} [status 0x{self.raw:04X}: {', '.join(flags) or 'no flags'}]"


CommandKind = Literal["standby", "charge", "discharge", "auto"]


@dataclass(frozen=True, slots=True)
class PassiveCommand:
    """One validated passive-mode command.

    ``power_w`` is the battery power for charge/discharge (0..3000 W) and, for auto, the grid target in
    SmartSofar's convention (W > 0 import). The inverter's auto register is export-positive, so the
    value on the wire is its negation.
    """

    kind: CommandKind
    power_w: int = 0

    def __post_init__(self) -> None:
        if self.kind in ("charge", "discharge"):
            if not 0 <= self.power_w <= MAX_UNIT_POWER_W:
                raise InvalidInputError(
                    f"{self.kind} power must be 0..{MAX_UNIT_POWER_W} W, got {self.power_w}")
        elif self.kind == "auto":
            if not -MAX_AUTO_TARGET_W <= self.power_w <= MAX_AUTO_TARGET_W:
                raise InvalidInputError(
                    f"auto grid target must be -{MAX_AUTO_TARGET_W}..{MAX_AUTO_TARGET_W} W, got {self.power_w}")
        elif self.kind == "standby":
            if self.power_w != 0:
                raise InvalidInputError("standby takes no power")
        else:
            raise InvalidInputError(f"unknown command {self.kind!r}")

    @classmethod
    def battery(cls, power_w: int) -> PassiveCommand:
        """Charge (W > 0), discharge (W < 0) or standby (0) for one unit."""
        if power_w > 0:
            return cls("charge", power_w)
        if power_w < 0:
            return cls("discharge", -power_w)
        return cls("standby")

    @property
    def battery_w(self) -> int:
        """Charge-positive battery power this command asks for (0 for standby and auto)."""
        return {"charge": self.power_w, "discharge": -self.power_w}.get(self.kind, 0)

    def register_and_value(self) -> tuple[int, int]:
        """The (register, 16-bit value) pair written by 0x42."""
        if self.kind == "standby":
            return REG_STANDBY, STANDBY_VALUE
        if self.kind == "discharge":
            return REG_DISCHARGE, self.power_w
        if self.kind == "charge":
            return REG_CHARGE, self.power_w
        return REG_AUTO, (-self.power_w) & 0xFFFF

    @classmethod
    def from_register(cls, register: int, value: int) -> PassiveCommand:
        """Decode a received 0x42 request (simulator side); InvalidInputError if not a valid command."""
        if register == REG_STANDBY:
            if value != STANDBY_VALUE:
                raise InvalidInputError(f"standby needs 0x5555, got 0x{value:04X}")
            return cls("standby")
        if register == REG_DISCHARGE:
            return cls("discharge", value)
        if register == REG_CHARGE:
            return cls("charge", value)
        if register == REG_AUTO:
            signed = 0 if value == STANDBY_VALUE else value - 0x10000 if value & 0x8000 else value
            return cls("auto", -signed)
        raise InvalidInputError(f"no passive-mode register 0x{register:04X}")

    def describe(self) -> str:
        """'charge 1500 W' style text."""
        if self.kind == "standby":
            return "standby"
        if self.kind == "auto":
            return f"auto, grid target {self.power_w:+d} W"
        return f"{self.kind} {self.power_w} W"


class _RegisterValuePDU(ModbusPDU):
    """A Sofar request carrying one register address and one 16-bit value (8-byte RTU frame)."""

    rtu_frame_size = 8

    def __init__(self, register: int = 0, value: int = 0, dev_id: int = 0, transaction_id: int = 0) -> None:
        super().__init__(dev_id=dev_id, transaction_id=transaction_id, address=register)
        self.value = value

    def encode(self) -> bytes:
        return struct.pack(">HH", self.address, self.value)

    def decode(self, data: bytes) -> None:
        self.address, self.value = struct.unpack(">HH", data[:4])


class PassiveRequest(_RegisterValuePDU):
    """0x42 request: write one passive-mode register."""

    function_code = 0x42


class PassiveResponse(ModbusPDU):
    """0x42 reply: byte count 2, then the status word."""

    function_code = 0x42
    rtu_byte_count_pos = 2

    def __init__(self, status: int = 0, dev_id: int = 0, transaction_id: int = 0) -> None:
        super().__init__(dev_id=dev_id, transaction_id=transaction_id)
        self.status_word = status

    def encode(self) -> bytes:
        return struct.pack(">BH", 2, self.status_word)

    def decode(self, data: bytes) -> None:
        if data[0] != 2 or len(data) < 3:
            raise ValueError("0x42 reply must carry exactly 2 data bytes")
        (self.status_word,) = struct.unpack(">H", data[1:3])


class HeartbeatRequest(_RegisterValuePDU):
    """0x49 request: 0x2201 = 0x2202."""

    function_code = 0x49

    def __init__(self, dev_id: int = 0, transaction_id: int = 0) -> None:
        super().__init__(HEARTBEAT_REGISTER, HEARTBEAT_VALUE, dev_id, transaction_id)


class HeartbeatResponse(ModbusPDU):
    """0x49 reply. Its layout is undocumented: accept an 8-byte echo or a 7-byte status frame."""

    function_code = 0x49

    def __init__(self, dev_id: int = 0, transaction_id: int = 0) -> None:
        super().__init__(dev_id=dev_id, transaction_id=transaction_id)
        self.echo = True
        self.status_word = 0

    @classmethod
    def calculateRtuFrameSize(cls, data: bytes) -> int:  # noqa: N802 (pymodbus API)
        """7 if a status-form frame's CRC checks, else 8 (0 while too short to tell)."""
        if len(data) >= 7 and data[2] == 2 and FramerRTU.check_CRC(data[:5], (data[5] << 8) | data[6]):
            return 7
        return 8 if len(data) >= 8 else 0

    def encode(self) -> bytes:
        if self.echo:
            return struct.pack(">HH", HEARTBEAT_REGISTER, HEARTBEAT_VALUE)
        return struct.pack(">BH", 2, self.status_word)

    def decode(self, data: bytes) -> None:
        if len(data) == 3 and data[0] == 2:
            self.echo = False
            (self.status_word,) = struct.unpack(">H", data[1:3])
        elif len(data) == 4:
            self.echo = True
        else:
            raise ValueError("malformed 0x49 reply")


class EpsRequest(ModbusPDU):
    """0x41 EPS enable/disable, from the only two example frames Sofar gives (10-byte frame)."""

    function_code = 0x41
    rtu_frame_size = 10

    def __init__(self, enable: bool = True, dev_id: int = 0, transaction_id: int = 0) -> None:
        super().__init__(dev_id=dev_id, transaction_id=transaction_id, address=0, count=1)
        self.enable = enable

    def encode(self) -> bytes:
        return struct.pack(">HHH", 0, 1, 0x0055 if self.enable else 0x00AA)

    def decode(self, data: bytes) -> None:
        _address, _count, value = struct.unpack(">HHH", data[:6])
        self.enable = value == 0x0055


SOFAR_PDUS: dict[int, PduPair] = {
    0x42: (PassiveRequest, PassiveResponse),
    0x49: (HeartbeatRequest, HeartbeatResponse),
    0x41: (EpsRequest, EpsRequest),
}
