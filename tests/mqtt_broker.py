"""A real Mosquitto broker on a free loopback port, and a test client that records what it hears."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiomqtt

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Broker:
    """One Mosquitto process; ``restart`` brings it back on the same port."""

    def __init__(self, directory: Path, tls: tuple[Path, Path] | None = None,
                 users: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.directory = directory
        self.tls = tls  # (certificate, key): a second, TLS listener on ``tls_port``
        self.users = users or {}  # with users, only they may connect (as the Mosquitto add-on's broker)
        self.tls_port = free_port() if tls else 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        conf = self.directory / "mosquitto.conf"
        # As root, mosquitto would switch to its own user and then fail to read files in pytest's private tmp.
        text = ("user root\nper_listener_settings false\npersistence false\n"
                f"listener {self.port} 127.0.0.1\n")
        if self.users:
            passwords = self.directory / "passwords"
            passwords.write_text("")
            for user, password in self.users.items():
                subprocess.run([MOSQUITTO_PASSWD, "-b", str(passwords), user, password], check=True)
            text += f"allow_anonymous false\npassword_file {passwords}\n"
        else:
            text += "allow_anonymous true\n"
        if self.tls:
            text += f"listener {self.tls_port} 127.0.0.1\ncertfile {self.tls[0]}\nkeyfile {self.tls[1]}\n"
        conf.write_text(text)
        with (self.directory / "mosquitto.log").open("ab") as log:  # the broker keeps its own copy
            self.process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not start: {(self.directory / 'mosquitto.log').read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def make_certificates(directory: Path, name: str = "test") -> tuple[Path, Path, Path]:
    """A certificate authority and a server certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    ca, ca_key = directory / f"{name}-ca.pem", directory / f"{name}-ca.key"
    cert, key, csr = directory / f"{name}-server.pem", directory / f"{name}-server.key", directory / f"{name}.csr"
    san = directory / f"{name}-san.cnf"
    san.write_text("subjectAltName=IP:127.0.0.1\n")
    for command in (
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
             "-subj", f"/CN={name} test CA"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
             "-extfile", san]):
        subprocess.run([OPENSSL, *map(str, command)], check=True, capture_output=True)
    return ca, cert, key


class Listener:
    """A client subscribed to everything, keeping what arrives (topic -> payloads, retained flags)."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None) -> None:
        self.port = port
        self.messages: dict[str, list[str]] = defaultdict(list)
        self.retained: dict[str, bool] = {}
        self.client = aiomqtt.Client("127.0.0.1", port, identifier=f"test-listener-{free_port()}", username=username,
                                     password=password)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Listener:
        await self.client.__aenter__()
        await self.client.subscribe("#")
        self._task = asyncio.create_task(self._collect())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await self._task
        with contextlib.suppress(aiomqtt.MqttError):
            await self.client.__aexit__(None, None, None)

    async def _collect(self) -> None:
        async for message in self.client.messages:
            payload = message.payload
            if isinstance(payload, bytes | bytearray):
                text = payload.decode()
            else:
                text = "" if payload is None else str(payload)
            self.messages[str(message.topic)].append(text)
            self.retained[str(message.topic)] = message.retain

    def last(self, topic: str) -> str | None:
        values = self.messages.get(topic)
        return values[-1] if values else None

    def last_json(self, topic: str) -> Any:
        text = self.last(topic)
        return json.loads(text) if text else None

    async def wait_for(self, topic: str, check: Any = None, timeout_s: float = 15.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for text in reversed(self.messages.get(topic, [])):
                if check is None or check(text):
                    return text
            await asyncio.sleep(0.05)
        raise AssertionError(f"nothing matching on {topic}; got {self.messages.get(topic)}")

    async def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        await self.client.publish(topic, payload, qos=1, retain=retain)


async def retained(port: int, topic: str, timeout_s: float = 5.0) -> str | None:
    """What the broker keeps for ``topic`` (a new subscriber gets it with the retain flag), or None."""
    async with Listener(port) as fresh:
        try:
            text = await fresh.wait_for(topic, timeout_s=timeout_s)
        except AssertionError:
            return None
        return text if fresh.retained.get(topic) else None
