"""Secrets out of anything that is shown: URLs with credentials, passwords, password and token hashes.

``redact_url`` keeps a URL's user and replaces its password with ``HIDDEN``; ``redact`` walks JSON-ready
data (a configuration dumped with ``model_dump(mode="json")``) and hides every secret in it. ``keep_secret``
is the way back: a URL that comes back with ``HIDDEN`` for its password (the settings page sends what it was
shown) gets the stored password again, so a secret can be written but never read back.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

HIDDEN = "***"
SECRET_KEYS = frozenset({"password", "password_hash", "api_token_hash", "token", "encryption_key",
                         "authentication_key"})


def redact_url(url: str) -> str:
    """The URL with its password (if any) replaced by ``HIDDEN``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:{HIDDEN}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def redact(value: Any, key: str = "") -> Any:
    """JSON-ready data with every secret hidden (a secret that is set shows as ``HIDDEN``, unset as None)."""
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if key in SECRET_KEYS:
        return None if value in (None, "") else HIDDEN
    if isinstance(value, str) and (key == "url" or key.endswith("_url")):
        return redact_url(value)
    return value


def keep_secret(new_url: str, stored_url: str | None) -> str:
    """``new_url``, with the stored URL's password put back if it comes with ``HIDDEN`` for one; ValueError if
    there is no stored password to put back (a different user or host: the password must be typed)."""
    new = urlsplit(new_url)
    if new.password != HIDDEN:
        return new_url
    stored = urlsplit(stored_url or "")
    if stored.password is None or (stored.username, stored.hostname) != (new.username, new.hostname):
        raise ValueError("the password in this URL is hidden: type it again")
    host = new.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{new.username or ''}:{stored.password}@{host}" + (f":{new.port}" if new.port else "")
    return urlunsplit(new._replace(netloc=netloc))
