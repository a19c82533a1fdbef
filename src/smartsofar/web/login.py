"""Logging in and out, the web password and the API token, over HTTP.

The password and the token are stored as hashes in the configuration file (``[web]``), written atomically,
and take effect at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel

from smartsofar.web.api import Ctx, may_write
from smartsofar.web.auth import COOKIE, SESSION_TTL_S, AccessError, hash_password, new_token, verify_password
from smartsofar.web.ingress import ingress_prefix

router = APIRouter(prefix="/api/v1")


class LoginBody(BaseModel):
    """The web password."""

    password: str


class PasswordBody(BaseModel):
    """A new web password (at least 8 characters) and, if one is set, the current one."""

    new_password: str
    current_password: str | None = None


@router.get("/session", summary="Whether a login is needed, and this browser's session")
async def get_session(request: Request, ctx: Ctx) -> dict[str, Any]:
    auth = ctx.auth
    session = auth.session(request)
    can_write = not auth.required or session is not None or auth.has_token(request)
    return {"auth_required": auth.required, "logged_in": session is not None,
            "read_only_without_login": auth.read_only_without_login,
            "can_read": not auth.required or auth.read_only_without_login or can_write, "can_write": can_write,
            "csrf_token": session.csrf if session else None, "demo": ctx.demo}


@router.post("/login", summary="Log in with the web password (sets an HttpOnly session cookie)")
async def post_login(body: LoginBody, request: Request, response: Response, ctx: Ctx) -> dict[str, Any]:
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise AccessError(403, "logins from another web site are refused")
    session_id, session = await ctx.auth.login(body.password, ctx.auth.client_of(request))
    response.set_cookie(COOKIE, session_id, max_age=SESSION_TTL_S, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path=ingress_prefix(request.headers) + "/")
    return {"logged_in": True, "csrf_token": session.csrf}


@router.post("/logout", summary="Log out")
async def post_logout(request: Request, response: Response, ctx: Ctx) -> dict[str, Any]:
    ctx.auth.logout(request)
    response.delete_cookie(COOKIE, path=ingress_prefix(request.headers) + "/")
    return {"logged_in": False}


@router.put("/password", summary="Set or change the web password", dependencies=[Depends(may_write)])
async def put_password(body: PasswordBody, request: Request, ctx: Ctx) -> dict[str, Any]:
    current = ctx.auth.password_hash
    if current and not await asyncio.to_thread(verify_password, body.current_password or "", current):
        raise AccessError(403, "the current password is wrong")
    if ctx.settings is None:
        raise HTTPException(409, "this service has no configuration file to keep a password in")
    hashed = await asyncio.to_thread(hash_password, body.new_password)
    ctx.settings.save({"web.password_hash": hashed}, hidden_ok=True)
    ctx.auth.password_hash = hashed
    ended = ctx.auth.end_other_sessions(request)  # whoever knew the old password is logged out
    return {"password_set": True, "sessions_ended": ended}


@router.post("/token", summary="Create a new API token (shown once; replaces the old one)",
             dependencies=[Depends(may_write)])
async def post_token(ctx: Ctx) -> dict[str, Any]:
    if ctx.settings is None:
        raise HTTPException(409, "this service has no configuration file to keep a token in")
    token, hashed = new_token()
    ctx.settings.save({"web.api_token_hash": hashed}, hidden_ok=True)
    ctx.auth.token_hash = hashed
    return {"token": token}
