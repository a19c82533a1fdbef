"""``smartsofar read`` and ``smartsofar command`` as a user runs them, against the simulator over TCP."""

from __future__ import annotations

import json

import pytest

from tests.cli_process import smartsofar
from tests.conftest import SimGateway


async def test_read_json_has_the_documented_keys(gateway: SimGateway) -> None:
    gateway.bus.plant.units[1].fault_word_1 = 0x0010
    code, out, _ = await smartsofar("read", "--bus", gateway.url, "--unit", "1", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["soc_pct"] == 50
    assert data["battery_w"] == 0
    assert 40 < data["battery_v"] < 60
    assert data["grid_feed_w"] == -400
    assert data["running_state"] == "fault"
    assert data["faults"] == ["BatOVP"]
    assert data["info"]["serial"].startswith("SE1")


async def test_read_table_shows_every_register(gateway: SimGateway) -> None:
    code, out, _ = await smartsofar("read", "--bus", gateway.url, "--unit", "2")
    assert code == 0
    assert "soc_pct" in out and "0x0255" in out and "state: standby" in out


async def test_command_prints_the_decoded_status_word(gateway: SimGateway) -> None:
    code, out, _ = await smartsofar("command", "--bus", gateway.url, "--unit", "2", "discharge", "2500")
    assert code == 0
    assert "discharge 2500 W: accepted" in out and "discharge allowed" in out
    assert gateway.bus.applied[-1].unit_id == 2


async def test_refused_command_exits_1_with_the_reason(gateway: SimGateway) -> None:
    gateway.bus.plant.units[1].passive_selected = False
    code, out, _ = await smartsofar("command", "--bus", gateway.url, "--unit", "1", "charge", "100")
    assert code == 1
    assert "select Passive mode" in out


@pytest.mark.parametrize("args", [
    ("charge", "3001"), ("charge", "-5"), ("discharge", "lots"), ("warp",), ("charge",), ("auto", "12000"),
], ids=["over 3000", "negative", "not a number", "unknown verb", "missing power", "auto out of range"])
async def test_bad_input_is_one_line_exit_2_and_nothing_is_sent(gateway: SimGateway, args: tuple[str, ...]) -> None:
    code, out, err = await smartsofar("command", "--bus", gateway.url, "--unit", "1", *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "error" in err
    assert gateway.bus.requests_seen == 0


async def test_unreachable_bus_is_one_line_exit_2() -> None:
    code, _, err = await smartsofar("command", "--bus", "tcp://127.0.0.1:9", "--unit", "1", "standby")
    assert code == 2
    assert err.strip().splitlines() == [err.strip()] and "cannot open" in err


async def test_malformed_bus_url_is_one_line_exit_2() -> None:
    code, _, err = await smartsofar("read", "--bus", "tcp://127.0.0.1", "--unit", "1")
    assert code == 2 and "tcp://HOST:PORT" in err
