"""Meter sources by type: each source registers the builder that opens its client from its configuration.

A source is a configuration model in ``config`` (tagged by ``type``), a module here that registers its
builder with ``@register("type")``, and one import line in ``meter.sources``. Nothing else changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from smartsofar.config_meters import MeterSourceConfig
from smartsofar.errors import ConfigError
from smartsofar.meter.base import Meter

Builder = Callable[[Any], Awaitable[Meter]]  # a source's configuration section in, a ready client out
B = TypeVar("B", bound=Builder)
_BUILDERS: dict[str, Builder] = {}


def register(kind: str) -> Callable[[B], B]:
    """Decorator: ``builder`` opens meters whose configuration says ``type = kind``."""
    def add(builder: B) -> B:
        if kind in _BUILDERS:
            raise ValueError(f"meter type {kind!r} is registered twice")
        _BUILDERS[kind] = builder
        return builder
    return add


def registered() -> tuple[str, ...]:
    """The types that have a builder."""
    return tuple(sorted(_BUILDERS))


async def open_meter_source(config: MeterSourceConfig) -> Meter:
    """The client for one configured meter."""
    builder = _BUILDERS.get(config.type)
    if builder is None:
        raise ConfigError(f"meter type {config.type!r} has no client (known: {', '.join(registered())})")
    return await builder(config)
