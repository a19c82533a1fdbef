"""Household day profiles: the shared minute,load_w,pv_w format, steps inside the minute, PV interpolation."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from smartsofar.errors import InvalidInputError
from smartsofar.sim.household import DayProfile


def _write(tmp_path: Path, rows: list[str], header: str = "minute,load_w,pv_w") -> Path:
    path = tmp_path / "day.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_load_steps_once_inside_each_minute_and_pv_is_interpolated(tmp_path: Path) -> None:
    rows = [f"{m},{100 + m},{10 * m}" for m in range(1440)]
    day = DayProfile.from_csv(_write(tmp_path, rows), seed=3)
    loads = [day.load_w(600 + s) for s in range(60)]  # minute 10
    assert loads[0] in (109, 110) and loads[-1] == 110
    assert sum(1 for a, b in itertools.pairwise(loads) if a != b) <= 1
    assert day.pv_w(600 + 30) == pytest.approx(105)


def test_same_seed_same_steps(tmp_path: Path) -> None:
    rows = [f"{m},{m % 7 * 100},0" for m in range(1440)]
    a = DayProfile.from_csv(_write(tmp_path, rows), seed=11)
    b = DayProfile.from_csv(_write(tmp_path, rows), seed=11)
    assert [a.load_w(s) for s in range(0, 86400, 7)] == [b.load_w(s) for s in range(0, 86400, 7)]


@pytest.mark.parametrize(("rows", "header", "message"), [
    (["0,1,2"], "minute,load_w,pv_w", "1440"),
    (["0,1,x"] * 1440, "minute,load_w,pv_w", "line 2"),
    ([], "minute,load,pv", "header"),
], ids=["too short", "not a number", "wrong header"])
def test_malformed_files_are_refused_with_the_reason(tmp_path: Path, rows: list[str], header: str,
                                                     message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        DayProfile.from_csv(_write(tmp_path, rows, header))
