"""``/metrics`` in Prometheus' text format, drawn from the latest site payload at each scrape.

A value that is not known now (a stale meter, a unit not read) is left out rather than repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from smartsofar.modes import Mode
from smartsofar.payloads import SitePayload


class SnapshotCollector(Collector):
    """Yields the site's figures from whatever payload ``latest`` returns."""

    def __init__(self, latest: Callable[[], SitePayload]) -> None:
        self.latest = latest

    def collect(self) -> Iterator[Metric]:
        state = self.latest()
        grid = GaugeMetricFamily("smartsofar_grid_power_watts", "Grid power, import positive")
        if state.grid_w is not None:
            grid.add_metric([], state.grid_w)
        yield grid
        mode = GaugeMetricFamily("smartsofar_mode", "1 for the current mode", labels=["mode"])
        for name in Mode.names():
            mode.add_metric([name], 1.0 if str(state.mode.mode) == name else 0.0)
        yield mode
        yield GaugeMetricFamily("smartsofar_setpoint_watts", "Total battery setpoint, charge positive",
                                value=state.setpoint_total_w)
        yield CounterMetricFamily("smartsofar_commands", "Commands accepted by the units", value=state.commands_sent)
        labels = ["unit", "name"]
        families = {
            "battery": GaugeMetricFamily("smartsofar_unit_battery_power_watts", "Battery power, charge positive",
                                         labels=labels),
            "soc": GaugeMetricFamily("smartsofar_unit_soc_percent", "State of charge", labels=labels),
            "state": GaugeMetricFamily("smartsofar_unit_running_state", "Running state code (0x0200)", labels=labels),
            "available": GaugeMetricFamily("smartsofar_unit_available", "1 when the unit can be used", labels=labels),
            "setpoint": GaugeMetricFamily("smartsofar_unit_setpoint_watts", "Accepted setpoint", labels=labels),
        }
        counters = {name: CounterMetricFamily(f"smartsofar_unit_{name}", f"Bus {name.replace('_', ' ')}",
                                              labels=labels)
                    for name in ("requests", "retries", "timeouts", "stray_frames")}
        for unit in state.units:
            key = [str(unit.unit_id), unit.name]
            families["available"].add_metric(key, 1.0 if unit.available else 0.0)
            if unit.setpoint_w is not None:
                families["setpoint"].add_metric(key, unit.setpoint_w)
            if unit.reading is not None:
                families["battery"].add_metric(key, unit.reading.battery_w)
                families["soc"].add_metric(key, unit.reading.soc_pct)
                families["state"].add_metric(key, unit.reading.running_state_code)
            for name, family in counters.items():
                if name in unit.link_counters:
                    family.add_metric(key, unit.link_counters[name])
        yield from families.values()
        yield from counters.values()
        lag = GaugeMetricFamily("smartsofar_control_lag_seconds",
                                "From a meter sample's arrival to the control decision on it (recent samples)",
                                labels=["quantile"])
        for quantile, name in (("0.5", "p50_s"), ("0.99", "p99_s"), ("1", "max_s")):
            value = getattr(state.control_lag, name)
            if value is not None:
                lag.add_metric([quantile], value)
        yield lag
        if state.meter is not None:
            age = GaugeMetricFamily("smartsofar_meter_age_seconds", "Age of the latest meter sample")
            if state.meter.age_s is not None:
                age.add_metric([], state.meter.age_s)
            yield age
            yield CounterMetricFamily("smartsofar_meter_reads", "Meter polls", value=state.meter.reads)
            yield CounterMetricFamily("smartsofar_meter_failures", "Failed meter polls", value=state.meter.failures)


def registry_for(latest: Callable[[], SitePayload]) -> CollectorRegistry:
    """A registry holding only the site's figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(latest))
    return registry
