"""A Modbus RTU framer that survives a noisy RS485 line.

pymodbus 3.16's stock RTU framer returns after the first frame or the first bad CRC and throws away the
rest of the receive chunk, so noise or a foreign frame in front of a reply loses the reply. This framer:

- consumes exactly one frame and leaves the bytes after it for the next call;
- on a bad CRC slides one byte and keeps hunting in the same chunk;
- when a candidate frame at some offset is incomplete, still looks further on for a complete valid frame
  (a garbage byte can look like the start of a long frame), and only waits for more data when none is found;
- never raises from the receive path: a CRC-valid frame it cannot decode is skipped.

It also counts what it dropped, so the bus can report CRC errors and stray frames.
"""

from __future__ import annotations

from collections.abc import Mapping

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU

PduPair = tuple[type[ModbusPDU], type[ModbusPDU]]  # (request class, response class) of one function code


def add_pdus(decoder: DecodePDU, pdus: Mapping[int, PduPair]) -> None:
    """Teach one pymodbus decoder vendor function codes, without touching pymodbus' shared table.

    pymodbus registers one class for both directions; a vendor code whose request and reply differ in
    layout needs the pair set here.
    """
    if not pdus:
        return
    if "pdu_table" not in decoder.__dict__:
        decoder.pdu_table = dict(DecodePDU.pdu_table)
    decoder.pdu_table.update(pdus)


def crc16(data: bytes) -> bytes:
    """CRC-16/MODBUS of ``data``, as the two bytes sent on the wire (low byte first)."""
    return FramerRTU.compute_CRC(data).to_bytes(2, "big")


class SlidingRtuFramer(FramerRTU):
    """RTU framer that consumes one frame at a time and resynchronises byte by byte."""

    def __init__(self, decoder: DecodePDU) -> None:
        super().__init__(decoder)
        self.crc_errors = 0
        self.undecodable_frames = 0
        self.foreign_frames = 0

    def decode(self, data: bytes) -> tuple[int, int, int, bytes]:
        """Find the first complete CRC-valid frame: (bytes to consume, dev id, 0, pdu bytes)."""
        data_len = len(data)
        first_incomplete: int | None = None
        bad_crc = False
        for start in range(data_len - self.MIN_SIZE + 1):
            if not (pdu_class := self.decoder.lookupPduClass(data[start:])):
                continue
            size = pdu_class.calculateRtuFrameSize(data[start:])
            if not size or start + size > data_len:
                if first_incomplete is None:
                    first_incomplete = start
                continue
            crc_start = start + size - 2
            if data[crc_start : crc_start + 2] != crc16(data[start:crc_start]):
                bad_crc = True
                continue
            self.crc_errors += bad_crc
            return start + size, data[start], 0, data[start + 1 : crc_start]
        self.crc_errors += bad_crc
        # Nothing complete: drop what cannot start a frame, keep the rest for when more bytes arrive.
        keep_from = first_incomplete if first_incomplete is not None else max(0, data_len - self.MIN_SIZE + 1)
        return keep_from, 0, 0, self.EMPTY

    def handleFrame(self, data: bytes, exp_devid: int, exp_tid: int) -> tuple[int, ModbusPDU | None]:  # noqa: N802
        """Return (bytes consumed, the first decodable frame for ``exp_devid`` or None)."""
        used = 0
        while used < len(data):
            consumed, dev_id, _tid, frame = self.decode(data[used:])
            used += consumed
            if not frame:
                return used, None
            if exp_devid and dev_id != exp_devid:
                self.foreign_frames += 1
                continue
            pdu = self.decoder.decode(frame)
            if pdu is None:
                self.undecodable_frames += 1
                continue
            pdu.dev_id = dev_id
            pdu.transaction_id = 0
            return used, pdu
        return used, None
