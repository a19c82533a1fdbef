"""``smartsofar simulate`` on second-resolution files and plants the controller is not told about."""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import pytest

from smartsofar.cli import build_parser
from smartsofar.errors import InvalidInputError
from smartsofar.sim.cli import build_bus
from smartsofar.sim.controllers import simulate
from smartsofar.sim.simulate import Simulation, run_smartsofar
from smartsofar.sim.simulate_cli import scenario_from_args


def args_for(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["simulate", *argv])


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    """Ten minutes of a house stepping 300 -> 1500 -> 300 W (gzip), and a PV file (plain)."""
    rows = ["second,load_w"] + [f"{s},{1500 if 120 <= s < 300 else 300}" for s in range(600)]
    load = tmp_path / "load.csv.gz"
    load.write_bytes(gzip.compress("\n".join(rows).encode()))
    pv = tmp_path / "pv.csv"
    pv.write_text("second,pv_w\n" + "\n".join(f"{s},{800 if s >= 400 else 0}" for s in range(600)) + "\n")
    return load, pv


async def test_a_second_resolution_site_runs_on_a_plant_the_controller_was_not_told(site: tuple[Path, Path]) -> None:
    load, pv = site
    scenario = scenario_from_args(args_for("--load", str(load), "--pv", str(pv), "--base-load", "50",
                                           "--start-second", "60", "--seconds", "480",
                                           "--plant-dead-time", "2.5", "--plant-ramp", "300,600"))
    assert scenario.duration_s == 480
    assert [s.dead_time_s for s in scenario.plant_specs()] == [2.5, 2.5]
    assert [s.ramp_w_per_s for s in scenario.plant_specs()] == [300, 600]
    assert scenario.unit.dead_time_s == 1.0  # the controller still starts from its configured guess
    house = scenario.household
    assert house.load_w(59) == 350 and house.load_w(60) == 1550  # played from file second 60, plus the base
    assert house.pv_w(399) == 0 and house.pv_w(400) == 800  # PV from its own second 0
    result = await simulate(scenario)
    assert result["sign_flips_per_min"] <= 0.5
    assert result["unsettled_steps"] == 0 and 0 < result["settle_max_s"] <= 2.5 + 600 / 300 + 4 + 1
    assert result["learned_response"]["1"]["samples"] >= 1


@pytest.mark.parametrize(("argv", "message"), [
    (("--plant-dead-time", "1,2,3"), "3 values for 2 units"),
    (("--plant-ramp", "fast"), "comma list of numbers"),
    (("--plant-ramp", "0"), "values must be"),
    (("--plant-report-lag", "-1"), "report-lag"),
    (("--start-second", "-5"), "start-second"),
    (("--start-second", "999999"), "outside"),
    (("--seconds", "0"), "seconds"),
], ids=["too many dead times", "not a number", "zero ramp", "negative lag", "negative start", "past the end",
        "no seconds"])
def test_bad_plant_and_site_flags_are_refused(site: tuple[Path, Path], argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        scenario_from_args(args_for("--load", str(site[0]), *argv))


def test_a_malformed_load_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("second,load_w\n0,300\n1,lots\n")
    with pytest.raises(InvalidInputError, match="line 3"):
        scenario_from_args(args_for("--load", str(bad)))
    with pytest.raises(InvalidInputError, match="go with --load"):
        scenario_from_args(args_for("--day", "summer", "--seconds", "60"))


def test_sim_inverter_takes_each_units_response() -> None:
    args = build_parser().parse_args(["sim-inverter", "--units", "1,2", "--dead-time", "2.5", "--ramp", "300,1000"])
    bus = build_bus(args)
    specs = [bus.plant.units[uid].spec for uid in (1, 2)]
    assert [s.dead_time_s for s in specs] == [2.5, 2.5] and [s.ramp_w_per_s for s in specs] == [300, 1000]
    with pytest.raises(InvalidInputError, match="2 values for 1 units"):
        build_bus(build_parser().parse_args(["sim-inverter", "--units", "1", "--dead-time", "1,2"]))


async def test_a_run_can_start_from_what_the_units_learned_before(site: tuple[Path, Path]) -> None:
    load, pv = site
    first = Simulation(scenario_from_args(args_for("--load", str(load), "--pv", str(pv), "--seconds", "480",
                                                   "--plant-dead-time", "2.5", "--plant-ramp", "300")))
    await first.sleep(1.0)
    await run_smartsofar(first)
    assert first.learned[1]["samples"] >= 1
    again = scenario_from_args(args_for("--load", str(load), "--pv", str(pv), "--seconds", "2"))
    again.responses = first.responses  # as the service's response store hands them back after a restart
    result = await simulate(again)
    assert result["learned_response"]["1"] == first.learned[1]
