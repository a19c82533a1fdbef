"""The sliding RTU framer: noise, foreign frames and corrupted frames on the line (pymodbus hazard 2)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.register_message import ReadHoldingRegistersResponse

from smartsofar.bus.framer import SlidingRtuFramer, add_pdus, crc16
from smartsofar.sofar.passive import SOFAR_PDUS, PassiveResponse

REPLY = bytes.fromhex("01 03 02 00 04 B9 87")  # unit 1, running state 4
FOREIGN = bytes.fromhex("02 42 02 03 00 E8 88")  # a reply from unit 2
HEARTBEAT_ECHO = bytes.fromhex("01 49 22 01 22 02 1E DD")


def _client_framer() -> SlidingRtuFramer:
    decoder = DecodePDU(False)
    add_pdus(decoder, SOFAR_PDUS)
    return SlidingRtuFramer(decoder)


def _corrupt(frame: bytes, index: int) -> bytes:
    return frame[:index] + bytes([frame[index] ^ 0x10]) + frame[index + 1 :]


def test_noise_before_the_reply_does_not_lose_it() -> None:
    framer = _client_framer()
    used, pdu = framer.handleFrame(b"\x00\xff\x13" + REPLY, 1, 0)
    assert isinstance(pdu, ReadHoldingRegistersResponse)
    assert pdu.registers == [4]
    assert used == 3 + len(REPLY)


def test_foreign_frame_then_reply_in_one_chunk() -> None:
    framer = _client_framer()
    _used, pdu = framer.handleFrame(FOREIGN + REPLY, 1, 0)
    assert isinstance(pdu, ReadHoldingRegistersResponse)
    assert framer.foreign_frames == 1


def test_corrupted_frame_then_good_frame_slides_one_byte_at_a_time() -> None:
    framer = _client_framer()
    _used, pdu = framer.handleFrame(_corrupt(REPLY, 4) + REPLY, 1, 0)
    assert isinstance(pdu, ReadHoldingRegistersResponse)
    assert framer.crc_errors == 1


def test_exactly_one_frame_is_consumed() -> None:
    framer = _client_framer()
    used, pdu = framer.handleFrame(HEARTBEAT_ECHO + REPLY, 1, 0)
    assert used == len(HEARTBEAT_ECHO)  # the reply behind it stays in the buffer
    assert pdu is not None and pdu.function_code == 0x49


def test_incomplete_frame_waits_for_more_bytes() -> None:
    framer = _client_framer()
    used, pdu = framer.handleFrame(REPLY[:4], 1, 0)
    assert (used, pdu) == (0, None)
    _used, pdu = framer.handleFrame(REPLY, 1, 0)
    assert pdu is not None


def test_garbage_that_looks_like_a_long_frame_does_not_hide_a_later_reply() -> None:
    framer = _client_framer()
    _used, pdu = framer.handleFrame(b"\x01\x03\xf0" + REPLY, 1, 0)
    assert isinstance(pdu, ReadHoldingRegistersResponse)


def test_corrupted_reply_alone_is_never_accepted() -> None:
    for index in range(len(REPLY)):
        framer = _client_framer()
        _used, pdu = framer.handleFrame(_corrupt(REPLY, index), 1, 0)
        assert pdu is None, f"corruption at byte {index} accepted"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_and_only_crc_valid_frames_come_out(data: bytes) -> None:
    framer = _client_framer()
    buffer = data
    while buffer:
        used, pdu = framer.handleFrame(buffer, 0, 0)
        if pdu is None:
            assert used <= len(buffer)
            break
        assert used > 0
        frame = buffer[:used]
        # the accepted frame is the tail of what was consumed and its CRC checks
        assert any(frame[i:-2] and crc16(frame[i:-2]) == frame[-2:] for i in range(len(frame)))
        buffer = buffer[used:]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.integers(min_value=0, max_value=6), st.binary(max_size=10))
def test_reply_is_found_behind_any_prefix_when_intact(prefix: bytes, corrupt_at: int, suffix: bytes) -> None:
    good = bytes.fromhex("01 42 02 03 00 AC 88")
    framer = _client_framer()
    data = prefix + _corrupt(good, corrupt_at) + good + suffix
    buffer = data
    found: list[int] = []
    while buffer:
        used, pdu = framer.handleFrame(buffer, 1, 0)
        if pdu is None:
            break
        if isinstance(pdu, PassiveResponse):
            found.append(pdu.status_word)
        buffer = buffer[used:]
    assert 0x0300 in found
