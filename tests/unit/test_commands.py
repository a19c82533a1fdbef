"""Validation of passive-mode commands and of the command line's verbs: bad input never reaches a bus."""

from __future__ import annotations

import pytest

from smartsofar.commands_cli import parse_command
from smartsofar.errors import InvalidInputError
from smartsofar.sofar.passive import PassiveCommand


@pytest.mark.parametrize(("verb", "power", "message"), [
    ("charge", "3001", "0..3000"), ("charge", "-5", "0..3000"), ("discharge", "abc", "whole number"),
    ("charge", None, "needs a power"), ("standby", "10", "takes no power"), ("boost", None, "unknown command"),
    ("auto", "10000", "-9999..9999"), ("charge", "1.5", "whole number"),
], ids=["over 3000", "negative", "not a number", "missing", "standby with power", "unknown verb",
        "auto out of range", "fraction"])
def test_bad_command_lines_are_refused(verb: str, power: str | None, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_command(verb, power)


def test_good_command_lines() -> None:
    assert parse_command("charge", "3000") == PassiveCommand("charge", 3000)
    assert parse_command("auto", None) == PassiveCommand("auto", 0)
    assert parse_command("auto", "-200") == PassiveCommand("auto", -200)
    assert parse_command("heartbeat", None) is None


@pytest.mark.parametrize(("watts", "kind", "power"), [(1200, "charge", 1200), (-800, "discharge", 800),
                                                       (0, "standby", 0)])
def test_battery_power_sign_picks_the_command(watts: int, kind: str, power: int) -> None:
    command = PassiveCommand.battery(watts)
    assert (command.kind, command.power_w, command.battery_w) == (kind, power, watts)


def test_wire_values_decode_back_to_the_same_command() -> None:
    for command in (PassiveCommand("standby"), PassiveCommand("charge", 2500), PassiveCommand("auto", -300)):
        assert PassiveCommand.from_register(*command.register_and_value()) == command
    assert PassiveCommand.from_register(0x0103, 0x5555) == PassiveCommand("auto", 0)  # legacy 0 W
    with pytest.raises(InvalidInputError):
        PassiveCommand.from_register(0x0100, 0x1234)
