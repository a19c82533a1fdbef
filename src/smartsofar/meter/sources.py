"""Every meter source SmartSofar knows: importing this module registers them all.

Add a source by importing its module here (see ``meter.registry``).
"""

from __future__ import annotations

from smartsofar.meter import dsmr_p1 as _p1  # noqa: F401  (registers "p1")
from smartsofar.meter import factory as _shelly  # noqa: F401  (registers "shelly")
from smartsofar.meter import fronius as _fronius  # noqa: F401  (registers "fronius")
from smartsofar.meter import home_assistant as _ha  # noqa: F401  (registers "homeassistant")
from smartsofar.meter import mqtt_topic as _mqtt  # noqa: F401  (registers "mqtt")
from smartsofar.meter import sma_speedwire as _sma  # noqa: F401  (registers "sma")
from smartsofar.meter.registry import open_meter_source

__all__ = ["open_meter_source"]
