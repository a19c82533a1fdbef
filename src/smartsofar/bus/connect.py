"""The pymodbus client each bus address opens, with our framer and no retries of its own."""

from __future__ import annotations

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.framer import FramerType

from smartsofar.bus.framer import SlidingRtuFramer
from smartsofar.bus.url import BusUrl


def open_client(url: BusUrl, timeout_s: float) -> ModbusBaseClient:
    """A pymodbus client for ``url`` with our framer, and no retries of its own."""
    client: ModbusBaseClient
    if url.kind == "tcp":
        client = AsyncModbusTcpClient(url.host, port=url.port, framer=FramerType.RTU,
                                      timeout=timeout_s, retries=0, reconnect_delay=0.5,
                                      reconnect_delay_max=10)
    else:
        client = AsyncModbusSerialClient(url.path, framer=FramerType.RTU, baudrate=url.baudrate,
                                         parity=url.parity, stopbits=url.stopbits, bytesize=url.bytesize,
                                         timeout=timeout_s, retries=0, reconnect_delay=0.5,
                                         reconnect_delay_max=10)
    client.ctx.framer = SlidingRtuFramer(client.ctx.framer.decoder)
    return client
