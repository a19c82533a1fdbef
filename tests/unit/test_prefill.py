"""The demo's simulated history: the real engine on the demo's plant, written through the real recorder; a
database that already holds the range is left alone."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from smartsofar.sim.demo_days import demo_day
from smartsofar.sim.household import DayProfile
from smartsofar.sim.prefill import local_midnight, main, varied_days
from smartsofar.storage.history import History


def test_two_hours_of_a_day_are_simulated_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "history.db"
    midnight = local_midnight(time.time(), 0)
    args = ["--db", str(db), "--days", "0", "--until", str(midnight + 7200)]
    assert main(args) == 0
    history = History(db)
    try:
        rows = history.count("site_10s")
        assert 700 <= rows <= 721  # one 10 s mean each 10 s of the two hours
        day = history.days(time.strftime("%Y-%m-%d", time.localtime(midnight)),
                           time.strftime("%Y-%m-%d", time.localtime(midnight)))[0]
        assert day["discharged_wh"] > 250  # the night's house (about 150 W for two hours), from the batteries
    finally:
        history.close()
    assert main(args) == 0
    assert "left as it is" in capsys.readouterr().out
    again = History(db)
    try:
        assert again.count("site_10s") == rows
    finally:
        again.close()


def test_each_day_before_today_has_its_own_weather_and_today_is_the_day_itself() -> None:
    day = demo_day("summer")
    week = varied_days(day, 6)
    assert week.days == 7

    def totals(profile: DayProfile, d: int) -> tuple[float, float]:
        minutes = range(d * 1440, (d + 1) * 1440)
        return sum(profile.load_minute_w(m) for m in minutes), sum(profile.pv_minute_w(m) for m in minutes)

    load0, pv0 = totals(day, 0)
    days = [totals(week, d) for d in range(7)]
    assert days[6] == (load0, pv0)  # today: what the live demo plays
    assert len({round(pv) for _, pv in days}) >= 3  # clear, cloudy and grey days, not one day seven times
    assert all(0.84 * load0 <= load <= 1.16 * load0 and pv <= pv0 for load, pv in days)


def test_a_whole_day_counts_the_load_at_night_too(tmp_path: Path) -> None:
    """The History page's load and self-sufficiency: night hours (no PV) are the house's load as well."""
    db = tmp_path / "history.db"
    today = local_midnight(time.time(), 0)
    assert main(["--db", str(db), "--days", "1", "--until", str(today + 60)]) == 0
    yesterday = time.strftime("%Y-%m-%d", time.localtime(local_midnight(today - 3600, 0)))
    week = varied_days(demo_day("summer"), 1)
    true_load_wh = sum(week.load_minute_w(m) for m in range(1440)) / 60
    history = History(db)
    try:
        day = history.days(yesterday, yesterday)[0]
    finally:
        history.close()
    assert day["load_wh"] == pytest.approx(true_load_wh, rel=0.05)
    assert 0 <= day["self_sufficiency"] <= 1
