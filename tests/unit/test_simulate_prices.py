"""``smartsofar simulate`` with prices: several days, a scored part, the bill with and without the plan."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smartsofar.cli import build_parser
from smartsofar.errors import ConfigError, InvalidInputError
from smartsofar.sim.controllers import simulate
from smartsofar.sim.simulate import Simulation
from smartsofar.sim.simulate_cli import scenario_from_args


def args_for(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["simulate", *argv])


@pytest.fixture
def days(tmp_path: Path) -> Path:
    """Two days of a house drawing 600 W at night and 1500 W from 07:00 to 22:00."""
    rows = ["minute,load_w,pv_w"] + [f"{m},{1500 if 420 <= m % 1440 < 1320 else 600},0" for m in range(2 * 1440)]
    path = tmp_path / "two_days.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def peak_prices(tmp_path: Path) -> Path:
    """Hourly prices for 2024-01-08..10 (UTC): 0.10 at night (22:00-06:00 Paris), 0.60 in the day."""
    first = datetime(2024, 1, 7, 23, tzinfo=UTC)  # 2024-01-08 00:00 in Paris
    rows = ["start_utc,price_eur_per_kwh"]
    for hour in range(72):
        start = first + timedelta(hours=hour)
        local = (start.hour + 1) % 24  # Paris is UTC+1 in January
        rows.append(f"{start:%Y-%m-%dT%H:%M:%SZ},{0.10 if local >= 22 or local < 6 else 0.60}")
    path = tmp_path / "prices.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.slow
@pytest.mark.timeout(600)  # two simulated days; under coverage on two busy cores it has taken over 4 minutes
async def test_the_planner_charges_at_night_and_the_bill_beats_zero_export(days: Path, peak_prices: Path) -> None:
    scenario = scenario_from_args(args_for("--day", str(days), "--prices", str(peak_prices),
                                           "--prices-from", "2024-01-08", "--score-from-day", "1", "--soc", "20"))
    assert scenario.duration_s == 86400 and scenario.start_s == 86400
    assert scenario.pricing is not None and len(scenario.pricing.history) == 288  # day 0, as 5-minute means
    planned = await simulate(scenario)
    plain = scenario_from_args(args_for("--day", str(days), "--prices", str(peak_prices), "--prices-from",
                                        "2024-01-08", "--score-from-day", "1", "--soc", "20", "--no-planner"))
    zero_export = await simulate(plain)
    assert planned["grid_charged_kwh"] > 5  # it filled the batteries in the cheap night
    assert planned["cost"] < zero_export["cost"] - 2.0
    assert planned["none_cost"] == zero_export["none_cost"]
    assert 24 <= planned["plans_made"] <= 40  # hourly, when prices come out, when the SoC leaves the plan


@pytest.mark.parametrize(("extra", "message"), [
    (["--prices-from", "2024-01-08"], "go with --prices or --tariff"),
    (["--prices", "x.csv"], "need --prices-from"),
    (["--prices", "x.csv", "--prices-from", "8 Jan"], "YYYY-MM-DD"),
    (["--prices", "x.csv", "--prices-from", "2024-01-08", "--score-from-day", "2"], "--score-from-day must be 0..1"),
    (["--prices", "x.csv", "--prices-from", "2024-01-08", "--hours", "49"], "at most 48"),
    (["--prices", "x.csv", "--prices-from", "2024-01-08", "--tz", "Mars/Olympus"], "time zone"),
])
def test_bad_price_flags_say_what_is_wrong(days: Path, extra: list[str], message: str) -> None:
    with pytest.raises((InvalidInputError, ConfigError), match=message):
        scenario_from_args(args_for("--day", str(days), *extra))


def test_prices_that_do_not_cover_the_days_are_refused(days: Path, peak_prices: Path) -> None:
    with pytest.raises(ValueError, match="do not cover"):
        Simulation(scenario_from_args(args_for("--day", str(days), "--prices", str(peak_prices),
                                               "--prices-from", "2024-03-01")))
