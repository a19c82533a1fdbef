"""Bus URLs and the pymodbus client each one opens.

``serial:///dev/ttyUSB0?baudrate=9600`` (also ``parity``, ``stopbits``, ``bytesize``) for a USB/RS485
adapter, ``tcp://host:port`` for an RS485-to-Ethernet gateway that carries raw RTU frames over TCP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.framer import FramerType

from smartsofar.bus.framer import SlidingRtuFramer
from smartsofar.errors import ConfigError
from smartsofar.sofar.passive import install_sofar_pdus

_SERIAL_KEYS = {"baudrate", "parity", "stopbits", "bytesize"}


@dataclass(frozen=True, slots=True)
class BusUrl:
    """A parsed bus address."""

    kind: Literal["serial", "tcp"]
    path: str = ""
    host: str = ""
    port: int = 0
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8

    @classmethod
    def parse(cls, url: str) -> BusUrl:
        """Parse ``serial:///dev/...`` or ``tcp://host:port``; ConfigError naming the problem otherwise."""
        parts = urlsplit(url)
        if parts.scheme == "tcp":
            try:
                port = parts.port
            except ValueError as exc:
                raise ConfigError(f"bus URL {url!r}: {exc}") from None
            if not parts.hostname or not port:
                raise ConfigError(f"bus URL {url!r}: expected tcp://HOST:PORT")
            return cls("tcp", host=parts.hostname, port=port)
        if parts.scheme == "serial":
            if not parts.path:
                raise ConfigError(f"bus URL {url!r}: expected serial:///dev/DEVICE")
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if unknown := set(query) - _SERIAL_KEYS:
                raise ConfigError(f"bus URL {url!r}: unknown option(s) {', '.join(sorted(unknown))}")
            try:
                baudrate = int(query.get("baudrate", 9600))
                stopbits = int(query.get("stopbits", 1))
                bytesize = int(query.get("bytesize", 8))
            except ValueError:
                raise ConfigError(f"bus URL {url!r}: baudrate, stopbits and bytesize must be numbers") from None
            parity = query.get("parity", "N").upper()
            if parity not in ("N", "E", "O"):
                raise ConfigError(f"bus URL {url!r}: parity must be N, E or O")
            return cls("serial", path=parts.path, baudrate=baudrate, parity=parity,
                       stopbits=stopbits, bytesize=bytesize)
        raise ConfigError(f"bus URL {url!r}: use serial:///dev/ttyUSB0?baudrate=9600 or tcp://HOST:PORT")

    def __str__(self) -> str:
        if self.kind == "tcp":
            return f"tcp://{self.host}:{self.port}"
        return f"serial://{self.path}?baudrate={self.baudrate}"


def open_client(url: BusUrl, timeout_s: float) -> ModbusBaseClient:
    """A pymodbus client for ``url`` with our framer and Sofar's PDUs installed, and no retries of its own."""
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
    framer = SlidingRtuFramer(client.ctx.framer.decoder)
    install_sofar_pdus(framer.decoder)
    client.ctx.framer = framer
    return client
