"""systemd's ``Type=notify`` and watchdog, over a real Unix datagram socket: the service says READY=1 once it
decides, feeds the watchdog only while its control loop cycles, and says STOPPING=1 on the way out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartsofar.control.decision import Decision
from smartsofar.systemd_notify import SystemdNotifier
from tests.cli_process import smartsofar
from tests.live_service import live_service
from tests.mqtt_broker import free_port


@contextlib.contextmanager
def notify_socket(path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    try:
        yield sock
    finally:
        sock.close()


async def messages(sock: socket.socket, seconds: float) -> list[str]:
    """Every datagram that arrives within ``seconds``."""
    heard: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            heard.append(sock.recv(4096).decode())
        except BlockingIOError:
            await asyncio.sleep(0.05)
    return heard


async def first(sock: socket.socket, text: str, timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for message in await messages(sock, 0.2):
            if text in message:
                return message
    raise AssertionError(f"no {text!r} from the service in {timeout_s} s")


@pytest.mark.slow
async def test_the_service_under_systemd_says_ready_feeds_the_watchdog_and_says_stopping(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with notify_socket(path) as sock:
        env = {**os.environ, "NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "1000000"}  # a ping every 0.5 s
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smartsofar.cli", "demo", "--web", f"127.0.0.1:{free_port()}", "--data-dir",
            str(tmp_path / "data"), "--history-days", "0", env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        try:
            ready = await first(sock, "READY=1")
            assert "STATUS=auto: " in ready
            heard = await messages(sock, 2.0)
            assert heard.count("WATCHDOG=1") >= 3
            proc.send_signal(signal.SIGSTOP)  # a hung process feeds nothing: systemd would restart it
            await asyncio.sleep(0.3)
            await messages(sock, 0.1)  # what was on its way
            assert "WATCHDOG=1" not in await messages(sock, 1.5)
            proc.send_signal(signal.SIGCONT)
            await first(sock, "WATCHDOG=1", 5)
            proc.send_signal(signal.SIGTERM)
            assert (await first(sock, "STOPPING=1", 10)).startswith("STOPPING=1")
            assert await asyncio.wait_for(proc.wait(), 20) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_a_stalled_control_loop_stops_feeding_the_watchdog_and_fails_the_health_check(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "notify"
    with notify_socket(path) as sock:
        notifier = SystemdNotifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "400000"})
        async with live_service(tmp_path) as live:
            engine = live.service.engine
            assert engine is not None
            watch = asyncio.create_task(notifier.watch(engine.runner.cycling, lambda: "running"))
            try:
                assert (await messages(sock, 1.0)).count("WATCHDOG=1") >= 3
                code, out, _ = await smartsofar("healthcheck", "--url", live.service.url)
                assert (code, out.strip()) == (0, "ok")  # what Docker's HEALTHCHECK runs

                async def hang(now: float | None = None, *, keep_alive: bool = True) -> Decision:
                    await asyncio.Event().wait()
                    raise AssertionError("never")

                engine.site.step = hang  # type: ignore[method-assign]  # the next cycle never ends
                await messages(sock, 6)  # past the 5 s a stalled loop is given
                assert "WATCHDOG=1" not in await messages(sock, 1.0)
                assert "control loop stalled" in caplog.text
                code, _, err = await smartsofar("healthcheck", "--url", live.service.url)
                assert code == 1 and "503" in err and "stalled" in err
            finally:
                watch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watch


@pytest.mark.parametrize(("env", "address", "watchdog_s"), [
    pytest.param({}, None, None, id="not under systemd: nothing is sent"),
    pytest.param({"NOTIFY_SOCKET": "@sd/notify", "WATCHDOG_USEC": "30000000"}, "\0sd/notify", 30.0,
                 id="an abstract socket, a 30 s watchdog"),
    pytest.param({"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, "/run/n", None,
                 id="a watchdog meant for another process"),
    pytest.param({"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "soon"}, "/run/n", None, id="a bad period"),
])
def test_reading_the_environment_as_sd_notify_says(env: dict[str, str], address: str | None,
                                                   watchdog_s: float | None) -> None:
    notifier = SystemdNotifier(env)
    assert (notifier.address, notifier.watchdog_s) == (address, watchdog_s)
    assert notifier.enabled == (address is not None)


def test_a_busy_systemd_never_stalls_the_service(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "notify"
    with notify_socket(path):  # nobody reads: its queue fills up
        notifier = SystemdNotifier({"NOTIFY_SOCKET": str(path)})
        started = time.monotonic()
        sent = [notifier.send("WATCHDOG=1") for _ in range(200)]
        assert time.monotonic() - started < 5  # it would block for ever if it waited
        assert sent[0] and not sent[-1]
        assert caplog.text.count("could not notify systemd") == 1


async def test_the_health_check_fails_when_nothing_answers() -> None:
    code, _, err = await smartsofar("healthcheck", "--url", f"http://127.0.0.1:{free_port()}", "--timeout", "2")
    assert code == 1 and "did not answer" in err
