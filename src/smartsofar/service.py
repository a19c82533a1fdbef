"""The running service: engine, history, web server and (when configured) MQTT, in one process.

``Service.start`` brings everything up in order (engine first, so the first control decision does not wait
for the web), ``Service.stop`` takes it down in reverse: MQTT says it is offline, the engine's topics close
(so live streams end at once), the web stops taking requests, pending history is written, and the engine
runs its shutdown action (standby by default).
``serve`` does both around a wait for SIGTERM / SIGINT.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from smartsofar.app import build_engine
from smartsofar.config import Config
from smartsofar.engine.facade import Engine
from smartsofar.logbuffer import LogBuffer
from smartsofar.mqtt.bridge import MqttBridge
from smartsofar.mqtt.discovery import DiscoveryContext
from smartsofar.plan.service import Planning
from smartsofar.storage.energy_totals import EnergyTotals
from smartsofar.storage.history import History
from smartsofar.storage.recorder import HistoryRecorder
from smartsofar.storage.site_identity import load_site_id
from smartsofar.systemd_notify import SystemdNotifier
from smartsofar.tasks import cancel_and_wait
from smartsofar.web.app import create_app
from smartsofar.web.auth import Auth
from smartsofar.web.context import WebContext
from smartsofar.web.server import RunningHttpServer, page_url, start_http
from smartsofar.web.settings import SettingsFile

log = logging.getLogger(__name__)
CONFIG_FILE = "smartsofar.toml"


@dataclass
class Service:
    """Everything one ``smartsofar run`` holds."""

    config: Config
    settings_path: Path
    logs: LogBuffer
    demo: bool = False
    engine: Engine | None = None
    history: History | None = None
    web: RunningHttpServer | None = None
    context: WebContext | None = None
    recorder: HistoryRecorder | None = None
    totals: EnergyTotals | None = None
    site_id: str = ""
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stoppers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The web page's address."""
        assert self.web is not None
        return self.web.url

    async def start(self) -> None:
        """Bring the service up."""
        config = self.config
        data_dir = config.storage.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.site_id = load_site_id(data_dir, config.mqtt.client_id)  # before anything else writes in data_dir
        self.logs.attach_loop(asyncio.get_running_loop())
        logging.getLogger().addHandler(self.logs)
        ours = logging.getLogger("smartsofar")
        if ours.getEffectiveLevel() > logging.INFO:
            ours.setLevel(logging.INFO)  # the logs page shows the service's INFO lines whatever stdout shows
        engine = self.engine = await build_engine(config, data_dir)
        await engine.runner.start()
        history = self.history = History(data_dir / "history.db", fine_days=config.storage.history_fine_days,
                                         coarse_days=config.storage.history_coarse_days)
        recorder = self.recorder = HistoryRecorder(history, flush_every_s=config.storage.history_flush_s)
        self.tasks.append(asyncio.create_task(recorder.run(engine.snapshots), name="history"))
        totals = self.totals = EnergyTotals(data_dir)
        totals.load()  # a small file, read before anything can publish the counters
        self.tasks.append(asyncio.create_task(totals.run(engine.snapshots), name="energy totals"))
        planning = engine.planning
        if isinstance(planning, Planning):
            self.tasks.append(asyncio.create_task(planning.run(history), name="planning"))
        web = config.web
        auth = Auth(web.password_hash.get_secret_value() if web.password_hash else None,
                    web.api_token_hash.get_secret_value() if web.api_token_hash else None,
                    web.read_only_without_login)
        self.context = WebContext(engine, auth, self.logs, history, SettingsFile(self.settings_path, config),
                                  demo=self.demo, cycling=engine.runner.cycling)
        self.web = await start_http(create_app(self.context), web.host, web.port, web.trusted_proxies)
        if config.mqtt.url:
            await self._start_mqtt()
        if not auth.required and not _loopback(web.host):
            log.warning("the web page on %s is open to the whole network without a password; "
                        "set one with 'smartsofar passwd'", self.web.url)
        log.info("SmartSofar %s: web page on %s", "demo" if self.demo else "running", self.web.url)

    async def _start_mqtt(self) -> None:
        assert self.engine is not None and self.context is not None
        assert self.web is not None and self.totals is not None
        web = self.config.web
        context = DiscoveryContext(self.site_id, page_url(web.public_url, web.host, self.web.port),
                                   self.config.tariff.currency)
        bridge = MqttBridge(self.config.mqtt, self.engine, context, self.recorder.today if self.recorder else None,
                            self.totals.persisted)
        self.tasks.append(asyncio.create_task(bridge.run(), name="mqtt"))
        self.context.extra_status["mqtt"] = bridge.status
        self.stoppers.append(bridge.stop)

    async def stop(self) -> None:
        """Take the service down, the units last (shutdown action)."""
        try:
            for stopper in self.stoppers:  # MQTT says offline while it is still connected
                await stopper()
            if self.engine is not None:  # the live streams and the MQTT bridge end, so the web server stops at once
                self.engine.snapshots.close()
                self.engine.events.close()
            self.logs.stream.close()
            if self.web is not None:
                await self.web.stop()
            await cancel_and_wait(self.tasks)
        finally:  # the units' shutdown action runs whatever happened above
            if self.engine is not None:
                await self.engine.runner.stop()
                await self.engine.aclose()
            if self.history is not None:
                self.history.close()
            log.info("SmartSofar stopped")
            logging.getLogger().removeHandler(self.logs)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


async def serve(service: Service, *, on_ready: Callable[[Service], None] | None = None,
                notifier: SystemdNotifier | None = None) -> int:
    """Run until SIGTERM or SIGINT, then stop cleanly. Under systemd (``Type=notify``): ``READY=1`` once the
    first control decision is made and the page is served, the watchdog fed while the control loop cycles,
    and ``STOPPING=1`` on the way out."""
    notifier = SystemdNotifier() if notifier is None else notifier
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watchdog: asyncio.Task[None] | None = None
    try:
        await service.start()
        engine = service.engine
        assert engine is not None
        notifier.ready(_status(service))
        watchdog = asyncio.create_task(notifier.watch(engine.runner.cycling, lambda: _status(service)),
                                       name="systemd watchdog")
        if on_ready is not None:
            on_ready(service)
        await stop.wait()
        log.info("stopping")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        notifier.stopping()
        if watchdog is not None:
            await cancel_and_wait([watchdog])
        await service.stop()
    return 0


def _status(service: Service) -> str:
    """One line for ``systemctl status``: the mode and what the controller is doing."""
    snapshot = service.engine.latest() if service.engine else None
    if snapshot is None:
        return "starting"
    return f"{snapshot.mode.mode}: {snapshot.message}"[:200]
