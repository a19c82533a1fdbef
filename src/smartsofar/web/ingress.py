"""Serving the page below a path prefix, as Home Assistant's ingress does (``X-Ingress-Path``).

Home Assistant's Supervisor proxies ``/api/hassio_ingress/<token>/...`` to the add-on's ``/...`` and names
the prefix in ``X-Ingress-Path``; the page is shown in a frame of Home Assistant's own page. The page itself
uses only relative addresses, so it works below any prefix. What the server says about addresses follows the
prefix: the login cookie's path and the API documentation's links; and under ingress the page may be framed
by its own origin (Home Assistant's), never by another. A prefix that is not a plain path is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

HEADER = "x-ingress-path"
_PLAIN_PATH = re.compile(r"(/[A-Za-z0-9._~-]+)+")


def ingress_prefix(headers: Mapping[str, str]) -> str:
    """The prefix the page is served below ("" when none, or when the header is not a plain path)."""
    value = headers.get(HEADER, "").rstrip("/")
    return value if _PLAIN_PATH.fullmatch(value) and ".." not in value else ""


def raw_ingress_prefix(headers: list[tuple[bytes, bytes]]) -> str:
    """The same, from an ASGI scope's raw headers."""
    for name, value in headers:
        if name == HEADER.encode():
            return ingress_prefix({HEADER: value.decode("latin-1")})
    return ""
