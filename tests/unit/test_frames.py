"""Every example frame in Sofar's two PDFs, and the constructed ones, reproduced byte for byte."""

from __future__ import annotations

import pytest
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
)

from smartsofar.bus.framer import SlidingRtuFramer, add_pdus, crc16
from smartsofar.sofar.passive import (
    SOFAR_PDUS,
    EpsRequest,
    HeartbeatRequest,
    HeartbeatResponse,
    PassiveCommand,
    PassiveRequest,
    PassiveResponse,
    StatusWord,
)


def _frame(pdu: ModbusPDU) -> str:
    return FramerRTU(DecodePDU(False)).buildFrame(pdu).hex(" ").upper()


def _passive(unit: int, command: PassiveCommand) -> PassiveRequest:
    register, value = command.register_and_value()
    return PassiveRequest(register, value, dev_id=unit)


def test_crc_check_value() -> None:
    assert crc16(b"123456789") == bytes([0x37, 0x4B])  # CRC-16/MODBUS check 0x4B37, low byte first


PDF_VECTORS = [
    ("1 heartbeat to slave 1", HeartbeatRequest(dev_id=1), "01 49 22 01 22 02 1E DD"),
    ("2 broadcast heartbeat", HeartbeatRequest(dev_id=0x88), "88 49 22 01 22 02 01 84"),
    ("3 standby", _passive(1, PassiveCommand("standby")), "01 42 01 00 55 55 87 56"),
    ("4 discharge 500", _passive(1, PassiveCommand("discharge", 500)), "01 42 01 01 01 F4 29 EE"),
    ("5 discharge 1000", _passive(1, PassiveCommand("discharge", 1000)), "01 42 01 01 03 E8 29 47"),
    ("6 discharge 1500", _passive(1, PassiveCommand("discharge", 1500)), "01 42 01 01 05 DC 2B 30"),
    ("7 discharge 2000", _passive(1, PassiveCommand("discharge", 2000)), "01 42 01 01 07 D0 2A 55"),
    ("8 discharge 2500", _passive(1, PassiveCommand("discharge", 2500)), "01 42 01 01 09 C4 2E 3A"),
    ("9 discharge 3000", _passive(1, PassiveCommand("discharge", 3000)), "01 42 01 01 0B B8 2E BB"),
    ("10 charge 500", _passive(1, PassiveCommand("charge", 500)), "01 42 01 02 01 F4 D9 EE"),
    ("11 charge 1000", _passive(1, PassiveCommand("charge", 1000)), "01 42 01 02 03 E8 D9 47"),
    ("12 charge 1500", _passive(1, PassiveCommand("charge", 1500)), "01 42 01 02 05 DC DB 30"),
    ("13 charge 2000", _passive(1, PassiveCommand("charge", 2000)), "01 42 01 02 07 D0 DA 55"),
    ("14 charge 3000", _passive(1, PassiveCommand("charge", 3000)), "01 42 01 02 0B B8 DE BB"),
    ("15 EPS enable", EpsRequest(True, dev_id=1), "01 41 00 00 00 01 00 55 41 3C"),
    ("16 EPS disable", EpsRequest(False, dev_id=1), "01 41 00 00 00 01 00 AA 01 7C"),
    ("17 read holding 0x0000", ReadHoldingRegistersRequest(address=0, count=1, dev_id=1), "01 03 00 00 00 01 84 0A"),
    ("18 its response", ReadHoldingRegistersResponse(registers=[0], dev_id=1), "01 03 02 00 00 B8 44"),
    ("19 read input 0x1000", ReadInputRegistersRequest(address=0x1000, count=1, dev_id=1), "01 04 10 00 00 01 35 0A"),
    ("20 its response", ReadInputRegistersResponse(registers=[0], dev_id=1), "01 04 02 00 00 B9 30"),
]

CONSTRUCTED_VECTORS = [
    ("charge 2500", _passive(1, PassiveCommand("charge", 2500)), "01 42 01 02 09 C4 DE 3A"),
    ("charge 0", _passive(1, PassiveCommand("charge", 0)), "01 42 01 02 00 00 D9 F9"),
    ("discharge 0", _passive(1, PassiveCommand("discharge", 0)), "01 42 01 01 00 00 29 F9"),
    ("auto target 0", _passive(1, PassiveCommand("auto", 0)), "01 42 01 03 00 00 88 39"),
    # our auto power is import-positive; the register is export-positive
    ("auto export 300", _passive(1, PassiveCommand("auto", -300)), "01 42 01 03 01 2C 88 74"),
    ("auto import 500", _passive(1, PassiveCommand("auto", 500)), "01 42 01 03 FE 0C C8 5C"),
    ("auto export 9999", _passive(1, PassiveCommand("auto", -9999)), "01 42 01 03 27 0F D3 CD"),
    ("auto import 9999", _passive(1, PassiveCommand("auto", 9999)), "01 42 01 03 D8 F1 13 BD"),
    ("standby slave 2", _passive(2, PassiveCommand("standby")), "02 42 01 00 55 55 87 65"),
    ("heartbeat slave 2", HeartbeatRequest(dev_id=2), "02 49 22 01 22 02 1E EE"),
    ("broadcast standby", _passive(0x88, PassiveCommand("standby")), "88 42 01 00 55 55 98 0F"),
    ("broadcast auto 0", _passive(0x88, PassiveCommand("auto", 0)), "88 42 01 03 00 00 97 60"),
    ("reply accepted 0x0300", PassiveResponse(0x0300, dev_id=1), "01 42 02 03 00 AC 88"),
    ("reply invalid mode", PassiveResponse(0x0001, dev_id=1), "01 42 02 00 01 6D B8"),
    ("heartbeat echo reply", HeartbeatResponse(dev_id=1), "01 49 22 01 22 02 1E DD"),
    ("read 86 from 0x0200 slave 1", ReadHoldingRegistersRequest(address=0x200, count=86, dev_id=1),
     "01 03 02 00 00 56 C4 4C"),
    ("read 86 from 0x0200 slave 2", ReadHoldingRegistersRequest(address=0x200, count=86, dev_id=2),
     "02 03 02 00 00 56 C4 7F"),
    ("read settings", ReadInputRegistersRequest(address=0x10B0, count=13, dev_id=1), "01 04 10 B0 00 0D 34 E8"),
    ("read info", ReadInputRegistersRequest(address=0x2000, count=16, dev_id=1), "01 04 20 00 00 10 FA 06"),
]


@pytest.mark.parametrize(("meaning", "pdu", "wire"), PDF_VECTORS + CONSTRUCTED_VECTORS,
                         ids=[v[0] for v in PDF_VECTORS + CONSTRUCTED_VECTORS])
def test_frame_is_byte_exact(meaning: str, pdu: ModbusPDU, wire: str) -> None:
    assert _frame(pdu) == wire


def _decode_reply(wire: str) -> ModbusPDU | None:
    decoder = DecodePDU(False)
    add_pdus(decoder, SOFAR_PDUS)
    used, pdu = SlidingRtuFramer(decoder).handleFrame(bytes.fromhex(wire), 1, 0)
    assert used == len(bytes.fromhex(wire))
    return pdu


@pytest.mark.parametrize(("wire", "raw"), [
    ("01 42 02 03 00 AC 88", 0x0300), ("01 42 02 00 00 AC 78", 0x0000), ("01 42 02 00 01 6D B8", 0x0001),
    ("01 42 02 03 04 AD 4B", 0x0304), ("01 42 02 06 00 AF D8", 0x0600), ("01 42 02 06 03 EF D9", 0x0603),
])
def test_passive_replies_decode_to_their_status_word(wire: str, raw: int) -> None:
    pdu = _decode_reply(wire)
    assert isinstance(pdu, PassiveResponse)
    assert pdu.status_word == raw


@pytest.mark.parametrize("wire", ["01 49 22 01 22 02 1E DD", "01 49 02 03 00 AE AC"], ids=["echo", "status"])
def test_both_heartbeat_reply_forms_are_accepted(wire: str) -> None:
    assert isinstance(_decode_reply(wire), HeartbeatResponse)


def test_read_reply_decodes_running_state() -> None:
    pdu = _decode_reply("01 03 02 00 04 B9 87")
    assert isinstance(pdu, ReadHoldingRegistersResponse)
    assert pdu.registers == [4]


def test_status_word_flags_and_results() -> None:
    assert StatusWord(0x0300).accepted
    assert StatusWord(0x0300).charge_allowed and StatusWord(0x0300).discharge_allowed
    full = StatusWord(0x0600)
    assert full.battery_full and full.discharge_allowed and not full.charge_allowed and full.accepted
    flat = StatusWord(0x0901)
    assert flat.battery_flat and flat.charge_allowed and not flat.accepted
    assert StatusWord(0x0603).result.name == "BUSY"
    assert StatusWord(0x0004).result.name == "INVALID_DATA"
    assert StatusWord(0x0002).result.name == "CRC_FAILED"
    assert StatusWord(0x0009).result.name == "UNKNOWN"


def test_invalid_mode_tells_the_user_to_select_passive_mode() -> None:
    assert "select Passive mode on the inverter's screen" in StatusWord(0x0301).message
