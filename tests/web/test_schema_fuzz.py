"""Schema-based fuzzing of the HTTP API (schemathesis): generated requests for every operation in the OpenAPI
document, in-process against the real application in front of a stub engine, with and without a password.

No answer may be a server error; every answer must have the documented content type and match the documented
schema; a request the document says is malformed must be refused. Left out, on purpose: that every
schema-valid request is accepted (the service refuses valid-looking values its rules forbid, such as manual
power outside the units' range, with a 422 naming the rule), that every status is listed (404 and 409 are
answered but not listed per route), and the 405 answer's Allow header (a path's GET and PUT sit in different
routers). The live stream never ends, so it is not fuzzed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
import tomlkit
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks

from smartsofar.config import parse_config
from smartsofar.logbuffer import LogBuffer
from smartsofar.modes import ModeState
from smartsofar.web.app import create_app
from smartsofar.web.auth import Auth, hash_password
from smartsofar.web.context import WebContext
from smartsofar.web.settings import SettingsFile
from tests.web.stub import SITE, StubEngine

SETTINGS: dict[str, Any] = {**SITE, "web": {"host": "127.0.0.1", "port": 8080,
                                            "allowed_hosts": ["testserver"]}}  # the in-process client's name
PASSWORD = "a long enough password"
EXCLUDED = [checks.positive_data_acceptance, checks.status_code_conformance, checks.unsupported_method,
            checks.allow_header_conformance]


async def no_wait(_seconds: float) -> None:
    """Stands in for the refused-login delay."""


def app_with(password: str | None) -> tuple[object, StubEngine, Path]:
    """The real application on its own configuration file (fuzzed settings writes land there)."""
    directory = Path(tempfile.mkdtemp(prefix="smartsofar-fuzz-"))
    path = directory / "smartsofar.toml"
    path.write_text(tomlkit.dumps(SETTINGS))
    config = parse_config(SETTINGS)
    # A refused login waits longer each time (up to a minute); the fuzzer sends many, so here it does not wait.
    auth = Auth(hash_password(password) if password else None, None, True, pause=no_wait)
    engine = StubEngine(config)
    return create_app(WebContext(engine, auth, LogBuffer(), None, SettingsFile(path, config))), engine, path


OPEN_APP = app_with(None)[0]
LOCKED_APP, LOCKED_ENGINE, LOCKED_FILE = app_with(PASSWORD)
LOCKED_TEXT = LOCKED_FILE.read_text()
open_schema = schemathesis.openapi.from_asgi("/api/openapi.json", OPEN_APP).exclude(path="/api/v1/events")
locked_schema = schemathesis.openapi.from_asgi("/api/openapi.json", LOCKED_APP).exclude(path="/api/v1/events")


@open_schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_without_a_password_every_answer_is_documented_and_none_is_a_server_error(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(excluded_checks=EXCLUDED)


@locked_schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_with_a_password_every_answer_is_documented_and_none_is_a_server_error(case: schemathesis.Case[Any]) -> None:
    response = case.call_and_validate(excluded_checks=[*EXCLUDED, checks.ignored_auth])
    if case.method != "GET" and case.path not in ("/api/v1/login", "/api/v1/logout"):
        assert response.status_code in (400, 401, 403, 404, 405, 409, 413, 422), response.text
    assert LOCKED_ENGINE.holder.mode == ModeState() and LOCKED_FILE.read_text() == LOCKED_TEXT  # nothing got through
