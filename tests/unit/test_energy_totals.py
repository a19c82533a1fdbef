"""The lifetime energy counters Home Assistant's Energy dashboard counts from: netted grid energy, battery
energy per unit, never decreasing across restarts, crashes and broken files."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from pathlib import Path

import pytest

from smartsofar.config import parse_config
from smartsofar.engine.hub import Topic
from smartsofar.engine.snapshot import SiteSnapshot
from smartsofar.meter.base import PhaseSample
from smartsofar.storage.energy_totals import TOTALS_FILE, EnergyTotals
from tests.web.stub import SITE, StubEngine

ENGINE = StubEngine(parse_config(SITE))


def at(t: float, grid_w: float | None, unit_w: float = -700.0, unit_age_s: float = 0.8,
       phases: tuple[float, ...] | None = None) -> SiteSnapshot:
    """The stub site at time ``t``: ``grid_w`` the signed total (None: no fresh sample), each unit at ``unit_w``."""
    base = ENGINE.latest()
    units = tuple(dataclasses.replace(u, reading=u.reading._replace(battery_w=unit_w)
                                      if u.reading else None, reading_age_s=unit_age_s) for u in base.units)
    meter = base.meter
    if phases is not None and meter is not None and meter.sample is not None:
        sample = dataclasses.replace(meter.sample, phases=tuple(
            PhaseSample(p, 230.0, abs(p) / 230, 1.0) for p in phases))
        meter = dataclasses.replace(meter, sample=sample)
    return dataclasses.replace(base, at=t, grid_w=grid_w, units=units, meter=meter)


def test_grid_energy_is_netted_across_phases() -> None:
    """+2000 W on one phase and -1000 W on another for an hour: 1 kWh imported, nothing exported (a meter that
    sums each phase on its own would count 2 kWh in and 1 kWh out)."""
    totals = EnergyTotals(Path("/nonexistent"))
    for second in range(3601):
        totals.add(at(second, 1000.0, phases=(2000.0, -1000.0, 0.0)))
    assert totals.site["grid_import_wh"] == pytest.approx(1000.0)
    assert totals.site["grid_export_wh"] == 0.0


def test_battery_energy_per_unit_and_for_the_site() -> None:
    totals = EnergyTotals(Path("/nonexistent"))
    for second in range(1801):
        totals.add(at(second, 0.0, unit_w=-700.0))
    for second in range(1801, 3602):
        totals.add(at(second, 0.0, unit_w=400.0))
    assert totals.units[1]["discharged_wh"] == pytest.approx(350.0, abs=0.5)
    assert totals.units[2]["charged_wh"] == pytest.approx(200.0, abs=0.5)
    assert totals.site["discharged_wh"] == pytest.approx(700.0, abs=1)


@pytest.mark.parametrize(("gap_s", "grid_w", "unit_age_s", "in_time"), [
    pytest.param(1.0, 500.0, 0.8, True, id="samples a second apart: counted"),
    pytest.param(30.0, 500.0, 0.8, False, id="a 30 s gap: not guessed"),
    pytest.param(1.0, None, 0.8, True, id="no fresh meter sample: no grid energy"),
    pytest.param(1.0, 500.0, 25.0, True, id="a unit not read for 25 s: no battery energy"),
])
def test_what_is_not_known_is_not_counted(gap_s: float, grid_w: float | None, unit_age_s: float,
                                          in_time: bool) -> None:
    totals = EnergyTotals(Path("/nonexistent"))
    totals.add(at(0.0, grid_w, unit_age_s=unit_age_s))
    totals.add(at(gap_s, grid_w, unit_age_s=unit_age_s))
    assert (totals.site["grid_import_wh"] > 0) == (in_time and grid_w is not None)
    assert (totals.units[1]["discharged_wh"] > 0) == (in_time and unit_age_s < 10)


async def test_only_what_is_on_disk_is_shown_so_a_crash_never_lowers_a_counter(tmp_path: Path) -> None:
    totals = EnergyTotals(tmp_path)
    assert totals.persisted() is None  # not read yet: nothing shown, not a zero that looks like a reset
    totals.load()
    for second in range(61):
        totals.add(at(second, 3600.0))
    persisted = totals.persisted()
    assert persisted is not None and persisted["site"]["grid_import_wh"] == 0.0  # counted, not on disk: not shown
    await totals.save()
    persisted = totals.persisted()
    assert persisted is not None
    shown = persisted["site"]["grid_import_wh"]
    assert shown == pytest.approx(60.0)
    for second in range(61, 90):
        totals.add(at(second, 3600.0))
    # a crash here: the last 29 s are lost, but nothing shown was more than what the next start shows
    again = EnergyTotals(tmp_path)
    again.load()
    assert (again.persisted() or {})["site"]["grid_import_wh"] == shown


async def test_the_counters_survive_a_restart_through_the_service_loop(tmp_path: Path) -> None:
    snapshots: Topic[SiteSnapshot] = Topic()
    totals = EnergyTotals(tmp_path, save_every_s=0.05)
    totals.load()
    task = asyncio.create_task(totals.run(snapshots))
    await asyncio.sleep(0.05)
    for second in range(11):
        snapshots.publish(at(second, 3600.0))
        await asyncio.sleep(0.02)
    snapshots.close()
    await asyncio.wait_for(task, 5)
    saved = json.loads((tmp_path / TOTALS_FILE).read_text())
    assert saved["site"]["grid_import_wh"] == pytest.approx(10.0)
    assert saved["units"]["1"]["discharged_wh"] == pytest.approx(700 * 10 / 3600, abs=0.01)
    again = EnergyTotals(tmp_path)
    again.load()
    again.add(at(100.0, 3600.0))
    again.add(at(101.0, 3600.0))
    assert again.site["grid_import_wh"] == pytest.approx(11.0)


@pytest.mark.parametrize("content", [
    pytest.param("{not json", id="not JSON"),
    pytest.param('{"site": {"grid_import_wh": -5}}', id="a negative counter"),
    pytest.param('{"site": {}, "units": {"garage": {}}}', id="a unit that is not an id"),
])
def test_a_broken_file_is_kept_aside_and_counting_starts_again(tmp_path: Path, content: str,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / TOTALS_FILE).write_text(content)
    totals = EnergyTotals(tmp_path)
    with caplog.at_level(logging.WARNING):
        totals.load()
    assert (totals.persisted() or {})["site"]["grid_import_wh"] == 0.0
    assert (tmp_path / (TOTALS_FILE + ".bad")).read_text() == content
    assert "start again from 0" in caplog.text
