"""The HTTP side of a polled meter (Shelly, Fronius): one shared httpx client, JSON out, our errors in.

httpx, OSError and JSON failures are translated here, once: unreachable / timeout / HTTP error ->
MeterUnavailableError, 401 -> MeterAuthError, a body that is not a JSON object -> MeterReplyError.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from smartsofar.errors import MeterAuthError, MeterReplyError, MeterUnavailableError

DEFAULT_TIMEOUT_S = 2.0
logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request is too much


class JsonHttp:
    """GETs JSON from one device."""

    def __init__(self, base_url: str, auth: httpx.Auth | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(base_url=self.base_url, auth=auth, timeout=timeout_s,
                                         transport=transport, follow_redirects=False)

    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path`` and return its JSON object."""
        try:
            response = await self._client.get(path, params=params)
        except httpx.TimeoutException:
            raise MeterUnavailableError(f"{self.base_url}: no answer within {self._client.timeout.read} s") from None
        except (httpx.HTTPError, OSError) as exc:
            raise MeterUnavailableError(f"{self.base_url}: cannot connect ({type(exc).__name__})") from None
        if response.status_code == 401:
            if self._client.auth is None:
                raise MeterAuthError(f"{self.base_url}: the meter is password-protected; give its password")
            raise MeterAuthError(f"{self.base_url}: the meter refused the user name or password")
        if response.status_code >= 400:
            raise MeterUnavailableError(f"{self.base_url}{path}: HTTP {response.status_code}")
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise MeterReplyError(f"{self.base_url}{path}: the reply is not JSON") from None
        if not isinstance(body, dict):
            raise MeterReplyError(f"{self.base_url}{path}: the reply is not a JSON object")
        return body

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
