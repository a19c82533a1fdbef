"""Bus URLs: the two transports and clear errors for everything else."""

from __future__ import annotations

import pytest

from smartsofar.bus.url import BusUrl
from smartsofar.errors import ConfigError


def test_serial_url_with_defaults_and_options() -> None:
    assert BusUrl.parse("serial:///dev/ttyUSB0") == BusUrl("serial", path="/dev/ttyUSB0")
    url = BusUrl.parse("serial:///dev/ttyAMA0?baudrate=19200&parity=e&stopbits=2")
    assert (url.baudrate, url.parity, url.stopbits) == (19200, "E", 2)
    assert str(url) == "serial:///dev/ttyAMA0?baudrate=19200"


def test_tcp_url() -> None:
    assert BusUrl.parse("tcp://127.0.0.1:8899") == BusUrl("tcp", host="127.0.0.1", port=8899)


@pytest.mark.parametrize(("url", "message"), [
    ("tcp://127.0.0.1", "tcp://HOST:PORT"), ("tcp://127.0.0.1:99999", "99999"), ("serial://", "serial:///dev"),
    ("serial:///dev/ttyUSB0?speed=9600", "unknown option"), ("serial:///dev/ttyUSB0?baudrate=fast", "numbers"),
    ("serial:///dev/ttyUSB0?parity=X", "parity"), ("modbus://x", "use serial"), ("/dev/ttyUSB0", "use serial"),
])
def test_bad_urls_name_the_problem(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BusUrl.parse(url)
