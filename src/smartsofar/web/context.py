"""What the web layer reads from and talks to: one object handed to every route."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smartsofar.engine.facade import EngineApi
from smartsofar.logbuffer import LogBuffer
from smartsofar.storage.history import History
from smartsofar.web.auth import Auth
from smartsofar.web.settings import SettingsFile


@dataclass
class WebContext:
    """The running service, as the web sees it."""

    engine: EngineApi
    auth: Auth
    logs: LogBuffer
    history: History | None = None
    settings: SettingsFile | None = None
    started_at: float = field(default_factory=time.time)
    extra_status: dict[str, Callable[[], dict[str, Any]]] = field(default_factory=dict)  # e.g. MQTT
    demo: bool = False
    cycling: Callable[[], bool] = lambda: True  # the control loop is running (``EngineRunner.cycling``)
