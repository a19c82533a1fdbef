"""The web application: the page, the API, v1's endpoints, metrics and the API documentation.

Errors are answered the same way everywhere: a bad value is a 422 whose message names the field, a refused
login or missing session a 401/403, a unit or meter that does not exist a 404, a device that does not
answer a 502, a disk that cannot be written a 503. v1's endpoints answer in plain text, as v1 did; the API
in JSON (``{"detail": "..."}``). The documentation (Swagger UI) and the chart library are served from the
package: no CDN.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from smartsofar import __version__
from smartsofar.config import Config
from smartsofar.errors import ConfigError, DeviceError, InvalidInputError, NotFoundError, StorageError
from smartsofar.payloads import SitePayload
from smartsofar.web import api, legacy, live, login
from smartsofar.web.auth import AccessError
from smartsofar.web.context import WebContext
from smartsofar.web.guard import BodyLimit, HostGuard, SecurityHeaders, machine_names
from smartsofar.web.ingress import ingress_prefix
from smartsofar.web.metrics import registry_for

STATIC = Path(str(resources.files("smartsofar").joinpath("web", "static")))
_PLAIN_PATHS = ("/update", "/data.json")
# Our errors, as HTTP: a refused value, a refused setting, a history that cannot be read, a unit that did not answer
_STATUS_FOR: dict[type[Exception], int] = {InvalidInputError: 422, ConfigError: 422, StorageError: 503,
                                           DeviceError: 502, NotFoundError: 404}


def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path in _PLAIN_PATHS:
        return PlainTextResponse(message, status)
    return JSONResponse({"detail": message}, status)


def _handler_for(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        return _error(request, status, str(exc))
    return handle


ERROR_SCHEMA = {"title": "Error", "type": "object", "required": ["detail"],
                "properties": {"detail": {"type": "string", "title": "What was wrong, in words"}}}


def _document_our_answers(app: FastAPI) -> None:
    """The OpenAPI document says what the service really answers: errors are ``{"detail": "..."}`` (a 422
    names the field in its message), and v1's endpoints answer plain text, errors included."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = default()
        schemas = document.get("components", {}).get("schemas", {})
        schemas["HTTPValidationError"] = ERROR_SCHEMA
        schemas.pop("ValidationError", None)
        for path in _PLAIN_PATHS:
            for operation in document["paths"].get(path, {}).values():
                for response in operation.get("responses", {}).values():
                    response["content"] = {"text/plain": {"schema": {"type": "string"}}}
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(ctx: WebContext) -> FastAPI:
    """The application for one running service."""
    app = FastAPI(title="SmartSofar", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="Zero-export control of Sofar ME3000SP battery inverters. Grid power is import "
                  "positive, battery power charge positive, in watts.")
    app.state.ctx = ctx
    app.state.stream_slots = live.StreamSlots()

    def follow(config: Config) -> None:  # the one web setting that applies live
        ctx.auth.read_only_without_login = config.web.read_only_without_login
    ctx.engine.on_reconfigure(follow)
    for router in (api.read, api.write, login.router, live.router, legacy.router):
        app.include_router(router)
    _document_our_answers(app)
    registry = registry_for(lambda: SitePayload.of(ctx.engine.latest()))

    for error_type, status in _STATUS_FOR.items():
        app.add_exception_handler(error_type, _handler_for(status))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"] if p not in ("body", "query", "path"))
            parts.append(f"{where}: {error['msg']}" if where else error["msg"])
        return _error(request, 422, "; ".join(parts))

    @app.exception_handler(AccessError)
    async def refused(request: Request, exc: AccessError) -> Response:
        response = _error(request, exc.status, str(exc))
        if exc.status == 401 and request.url.path == "/update":
            response.headers["WWW-Authenticate"] = 'Basic realm="SmartSofar"'
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        ctx.auth.check_read(request)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", summary="Liveness for Docker and monitors: 200 while the control loop cycles, else 503",
             tags=["health"])
    async def healthz() -> JSONResponse:
        # Open to all: it says only whether the controller runs, and a health check has no login.
        snapshot = ctx.engine.latest()
        cycling = ctx.cycling()
        return JSONResponse({"status": "ok" if cycling else "stalled", "safety": str(snapshot.safety),
                             "version": __version__}, 200 if cycling else 503)

    @app.get("/api/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        prefix = ingress_prefix(request.headers)  # below Home Assistant's ingress, every address carries it
        return get_swagger_ui_html(openapi_url=f"{prefix}/api/openapi.json", title="SmartSofar API",
                                   swagger_js_url=f"{prefix}/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url=f"{prefix}/static/vendor/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url=f"{prefix}/static/favicon.svg")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    web = ctx.engine.config.web
    bound = [] if web.host in ("0.0.0.0", "::", "") else [web.host]
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HostGuard, allowed=[*machine_names(), *bound, *web.allowed_hosts])
    return app
