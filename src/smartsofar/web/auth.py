"""Who may read and who may change things over HTTP.

- No password set: everyone on the network that can reach the port may read and change (SmartSofar binds
  to 127.0.0.1 unless told otherwise, and says so when it is not).
- Password set (``smartsofar passwd``, stored as a scrypt hash): changes need a session (login page,
  HttpOnly SameSite=Strict cookie, plus the session's CSRF token in ``X-CSRF-Token``) or the API token
  (``smartsofar token``; as ``Authorization: Bearer`` or as a basic-auth password, never in the URL's query,
  where proxies and histories keep it: a ``?token=`` is refused with how to send it). Reading without a
  login is a setting. A client's failed logins are checked one at a
  time and each of its failures waits longer (up to 30 s); other clients do not wait behind it, and a
  client's failures are forgotten 15 minutes after its last. The scrypt checks run off the event loop.
  Sessions last 30 days; a password change ends every session but the changer's.
- Always: a change requested by another web site (``Sec-Fetch-Site`` cross-site or same-site, or an
  ``Origin`` or ``Referer`` that is not this host) is refused, so a page elsewhere cannot drive the batteries
  through the user's browser, not even with v1's GET ``/update`` and no password set.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

from smartsofar.errors import InvalidInputError
from smartsofar.web.guard import VIA_PROXY, forwarded_host

COOKIE = "smartsofar_session"
CSRF_HEADER = "x-csrf-token"
SESSION_TTL_S = 30 * 86400
MAX_SESSIONS = 200  # beyond this, the oldest go first
MAX_DELAY_S = 30.0
FAILURES_FORGOTTEN_S = 15 * 60
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    """A salted scrypt hash in one string: ``scrypt$n$r$p$salt$hash`` (base64)."""
    if len(password) < 8:
        raise InvalidInputError("the password needs at least 8 characters")
    try:
        encoded = password.encode()
    except UnicodeEncodeError:
        raise InvalidInputError("the password has a character that is not text (a lone surrogate)") from None
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(encoded, salt=salt, dklen=32, **_SCRYPT)
    return "$".join(["scrypt", str(_SCRYPT["n"]), str(_SCRYPT["r"]), str(_SCRYPT["p"]),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()])


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches the stored hash (constant time); False for a malformed hash."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), dklen=len(expected),
                                n=int(n), r=int(r), p=int(p))
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


def new_token() -> tuple[str, str]:
    """A fresh API token and the hash to store (SHA-256: the token is long and random)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """What is stored for a token."""
    return "sha256$" + hashlib.sha256(token.encode()).hexdigest()


@dataclass(slots=True)
class Session:
    """One logged-in browser."""

    csrf: str
    expires: float


class AccessError(Exception):
    """Who is asking may not do this: 401 (not logged in) or 403 (refused)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Auth:
    """The rules above, for one running web server."""

    def __init__(self, password_hash: str | None, token_hash_: str | None, read_only_without_login: bool, *,
                 pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.password_hash = password_hash
        self.pause = pause  # how a refused login waits (tests record it instead)
        self.clock = clock
        self.token_hash = token_hash_
        self.read_only_without_login = read_only_without_login
        self._sessions: dict[str, Session] = {}
        self._failures: dict[str, tuple[int, float]] = {}  # client -> (failures, when the last was)
        self._client_locks: dict[str, asyncio.Lock] = {}

    @property
    def required(self) -> bool:
        """True when a password is set."""
        return bool(self.password_hash)

    # --- sessions -------------------------------------------------------------------------------------------

    async def login(self, password: str, client: str) -> tuple[str, Session]:
        """Check a password; a new session id and session, or AccessError after a growing delay."""
        stored = self.password_hash
        if not stored:
            raise AccessError(400, "no password is set; nothing to log in to")
        self._forget_old_failures()
        lock = self._client_locks.setdefault(client, asyncio.Lock())
        async with lock:  # one attempt at a time from this client; the others do not wait for it
            now = self.clock()
            count, last = self._failures.get(client, (0, now))
            if now - last > FAILURES_FORGOTTEN_S:
                count = 0
            if await asyncio.to_thread(verify_password, password, stored):
                self._failures.pop(client, None)
                return self._new_session(now)
            self._failures[client] = (count + 1, now)
            await self.pause(min(MAX_DELAY_S, 0.5 * 2 ** count))
        raise AccessError(401, "wrong password")

    def failed_logins(self) -> dict[str, int]:
        """Clients with failed logins not yet forgotten, and how many each (diagnostics)."""
        return {client: count for client, (count, _) in self._failures.items()}

    def _forget_old_failures(self) -> None:
        now = self.clock()
        for client in [c for c, (_, last) in self._failures.items() if now - last > FAILURES_FORGOTTEN_S]:
            del self._failures[client]
        for client in [c for c, lock in self._client_locks.items() if c not in self._failures and not lock.locked()]:
            del self._client_locks[client]

    def _new_session(self, now: float) -> tuple[str, Session]:
        for key in [k for k, s in self._sessions.items() if s.expires < now]:
            del self._sessions[key]  # expired: purged
        while len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[min(self._sessions, key=lambda k: self._sessions[k].expires)]
        session_id = secrets.token_urlsafe(32)
        session = Session(secrets.token_urlsafe(24), now + SESSION_TTL_S)
        self._sessions[session_id] = session
        return session_id, session

    def end_other_sessions(self, request: Request) -> int:
        """After a password change: every session but the request's ends; how many did."""
        keep = request.cookies.get(COOKIE, "")
        ended = [k for k in self._sessions if k != keep]
        for key in ended:
            del self._sessions[key]
        return len(ended)

    def logout(self, request: Request) -> None:
        """Forget the request's session."""
        self._sessions.pop(request.cookies.get(COOKIE, ""), None)

    def session(self, request: Request) -> Session | None:
        """The request's live session, if any."""
        session = self._sessions.get(request.cookies.get(COOKIE, ""))
        if session is None:
            return None
        if session.expires < self.clock():
            self._sessions.pop(request.cookies.get(COOKIE, ""), None)
            return None
        return session

    # --- checks ---------------------------------------------------------------------------------------------

    def has_token(self, request: Request) -> bool:
        """True if the request carries the API token (bearer, or a basic-auth password)."""
        if not self.token_hash:
            return False
        candidates = []
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            candidates.append(value.strip())
        elif scheme.lower() == "basic":
            with contextlib.suppress(ValueError, binascii.Error):
                candidates.append(base64.b64decode(value.strip()).decode().partition(":")[2])
        return any(hmac.compare_digest(token_hash(c), self.token_hash) for c in candidates if c)

    def check_read(self, request: Request) -> None:
        """May this request read? AccessError(401) if not."""
        if not self.required or self.read_only_without_login:
            return
        if self.session(request) is None and not self.has_token(request):
            raise AccessError(401, "log in to see this")

    def check_write(self, request: Request) -> None:
        """May this request change things? AccessError(403 / 401) if not."""
        if _cross_site(request):
            raise AccessError(403, "changes requested by another web site are refused")
        if not self.required or self.has_token(request):
            return
        if "token" in request.query_params:
            raise AccessError(401, "a token in the URL is refused (proxies and histories keep URLs): send it as "
                              "'Authorization: Bearer TOKEN', or as the basic-auth password "
                              "(http://:TOKEN@HOST/update?...)")
        session = self.session(request)
        if session is None:
            raise AccessError(401, "log in (or give the API token) to change anything")
        given = request.headers.get(CSRF_HEADER, "").encode("utf-8", "replace")  # any header, even not ASCII
        if not hmac.compare_digest(given, session.csrf.encode()):
            raise AccessError(403, "missing or wrong CSRF token; reload the page")

    def client_of(self, request: Request) -> str:
        """The address a login attempt counts against."""
        return request.client.host if request.client else "unknown"


def _cross_site(request: Request) -> bool:
    """True if a browser sends this on behalf of another page: ``Sec-Fetch-Site`` other than same-origin (a
    sibling site counts too), or an ``Origin`` or ``Referer`` naming another host. A GET (v1's ``/update``,
    an image a page embeds) carries no ``Origin``, so its ``Referer`` is checked as well. Scripts send none of
    these, and pass."""
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return True
    host = forwarded_host(request.headers, bool(request.scope.get(VIA_PROXY)))
    origin = request.headers.get("origin")
    if origin == "null" or (origin and urlsplit(origin).netloc.lower() != host):
        return True
    referer = request.headers.get("referer")
    return bool(referer) and urlsplit(referer).netloc.lower() != host
