"""Secrets are hidden in what is shown, and a hidden password sent back keeps the stored one."""

from __future__ import annotations

import pytest
from starlette.types import Receive, Scope, Send

from smartsofar.redact import HIDDEN, keep_secret, redact, redact_url
from smartsofar.web.guard import HostGuard


@pytest.mark.parametrize(("url", "shown"), [
    ("mqtt://bob:pw@192.0.2.30:1883", "mqtt://bob:***@192.0.2.30:1883"),
    ("mqtts://bob:p%40ss@[2001:db8::1]:8883/x", "mqtts://bob:***@[2001:db8::1]:8883/x"),
    ("http://192.0.2.20", "http://192.0.2.20"),
    ("mqtt://bob@host", "mqtt://bob@host"),
], ids=["user and password", "IPv6, escaped password", "no credentials", "user only"])
def test_a_url_shows_its_user_but_never_its_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_every_secret_in_a_dumped_configuration_is_hidden() -> None:
    dumped = {"meter": {"url": "http://a:b@h", "password": "**********"}, "web": {"password_hash": "scrypt$...",
              "api_token_hash": None, "port": 8080}, "mqtt": {"url": "mqtt://u:p@h", "password": None},
              "buses": [{"url": "tcp://192.0.2.10:8899"}]}
    assert redact(dumped) == {
        "meter": {"url": "http://a:***@h", "password": HIDDEN}, "web": {"password_hash": HIDDEN,
                                                                       "api_token_hash": None, "port": 8080},
        "mqtt": {"url": "mqtt://u:***@h", "password": None}, "buses": [{"url": "tcp://192.0.2.10:8899"}]}


def test_a_hidden_password_sent_back_keeps_the_stored_one_for_the_same_user_and_host_only() -> None:
    stored = "mqtt://bob:p%40ss@192.0.2.30:1883"
    assert keep_secret("mqtt://bob:***@192.0.2.30:1884", stored) == "mqtt://bob:p%40ss@192.0.2.30:1884"
    assert keep_secret("mqtt://bob:new@192.0.2.30", stored) == "mqtt://bob:new@192.0.2.30"  # a new password
    with pytest.raises(ValueError, match="type it again"):
        keep_secret("mqtt://eve:***@192.0.2.30:1883", stored)
    with pytest.raises(ValueError, match="type it again"):
        keep_secret("mqtt://bob:***@192.0.2.99:1883", stored)


@pytest.mark.parametrize(("host", "allowed"), [
    ("127.0.0.1:8080", True), ("[::1]:8080", True), ("192.0.2.5", True), ("localhost:8080", True),
    ("pi.local", True), ("PI.LOCAL.", True), ("battery.example.org", True), ("a.b.example.net:443", True),
    ("example.net", False), ("evil.example", False), ("127.0.0.1.evil.example", False), ("", False),
])
def test_which_host_names_are_served(host: str, allowed: bool) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    guard = HostGuard(app, ["localhost", "pi", "pi.local", "battery.example.org", "*.example.net"])
    assert guard.allows(host) is allowed
