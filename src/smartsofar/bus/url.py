"""Bus addresses: ``serial:///dev/ttyUSB0?baudrate=9600`` (also ``parity``, ``stopbits``, ``bytesize``) for a
USB/RS485 adapter, ``tcp://host:port`` for an RS485-to-Ethernet gateway that carries raw RTU frames over TCP.

Plain parsing, so the configuration can check a bus URL without loading the Modbus stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from smartsofar.errors import ConfigError

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
