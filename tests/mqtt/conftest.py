"""A real Mosquitto on a free loopback port, for every MQTT test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.mqtt_broker import Broker, make_certificates


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@dataclass(frozen=True)
class TlsBroker:
    """A Mosquitto with a TLS listener too, the CA that signed its certificate, and a CA that did not."""

    broker: Broker
    ca: Path
    other_ca: Path


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[TlsBroker]:
    ca, cert, key = make_certificates(tmp_path)
    other_ca, _, _ = make_certificates(tmp_path, "other")
    broker = Broker(tmp_path, tls=(cert, key))
    broker.start()
    yield TlsBroker(broker, ca, other_ca)
    broker.stop()
