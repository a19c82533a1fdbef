"""Price lists from files and URLs: the shared CSV layout, JSON lists, evcc's answer; bad ones refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smartsofar.errors import InvalidInputError
from smartsofar.tariff.series_file import parse_json, parse_text, read_file

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "prices"


def test_csv_rows_last_one_step_and_gaps_stay_gaps() -> None:
    text = ("start_utc,price_eur_per_kwh\n2024-01-01T00:00:00Z,0.10\n2024-01-01T01:00:00Z,0.20\n"
            "2024-01-01T03:00:00Z,0.30\n")
    curve = parse_text(text, "t")
    t0 = 1704067200.0
    assert curve.at(t0 + 10) == 0.10
    assert curve.at(t0 + 3600 + 10) == 0.20
    assert curve.at(t0 + 2 * 3600 + 10) is None  # the omitted hour
    assert curve.known_until == t0 + 4 * 3600


def test_evcc_rates_and_plain_json_lists() -> None:
    evcc = {"result": {"rates": [{"start": "2024-01-01T00:00:00+01:00", "end": "2024-01-01T00:15:00+01:00",
                                   "value": 0.31}]}}
    curve = parse_json(evcc, "evcc")
    assert curve.slots[0].price == 0.31 and curve.slots[0].end - curve.slots[0].start == 900
    listed = parse_text(json.dumps([{"start": 1704067200, "price": 0.2}]), "url")
    assert listed.at(1704067300) == 0.2


@pytest.mark.parametrize(("text", "message"), [
    ("start_utc,price\n2024-01-01T00:00:00,0.1\n", "no UTC offset"),
    ("start_utc,price\n2024-01-01T00:00:00Z,abc\n", "line 2"),
    ("when,price\n", "header"),
    ('[{"start": "2024-01-01T00:00:00Z", "price": 1e6}]', "not plausible"),
    ('[{"price": 0.1}]', "no start"),
    ('{"rates": 3}', "list"),
    ("[1,", "not JSON"),
])
def test_malformed_price_lists_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_text(text, "source")


def test_the_shared_price_files_read() -> None:
    path = SHARED / "gb_octopus_agile_J_2020_2024.csv"
    if not path.exists():
        pytest.skip(f"the shared price data is missing: {path}")
    curve = read_file(path)
    assert len(curve) > 70_000
    assert all(s.end - s.start <= 1800 for s in curve.slots[:100])
