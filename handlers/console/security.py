"""The console's locks: an encrypted session cookie (HttpOnly, SameSite=Strict) that ends after
idle time, a CSRF token checked on every POST, and a login required for every page but the login
page and the style sheet."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from functools import partial

from aiohttp import web
from aiohttp_session import get_session, new_session, setup as setup_sessions
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from storage.console import get_account

COOKIE = "jingmin_console"
PUBLIC = ("login", "static/")  # under the console's prefix


def session_key(mac_key: bytes) -> Fernet:
    """The cookie's own key, derived from the bot's secret (one secret configures everything)."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"jingmin-console-session:" + mac_key).digest()))


def install(web_app: web.Application, state) -> None:
    storage = EncryptedCookieStorage(session_key(state.app.vault.mac_key), cookie_name=COOKIE, httponly=True,
                                     samesite="Strict", path=state.prefix, secure=state.settings.secure_cookie,
                                     encoder=partial(json.dumps, ensure_ascii=False))  # 3 bytes a character, not 6
    setup_sessions(web_app, storage)
    web_app.middlewares.extend([headers_middleware, csrf_middleware, login_middleware])


def csrf_token(session) -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


# Nothing but our own files, never in a frame, never cached (pages hold residents' names).
HEADERS = {"Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
           "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "Cache-Control": "no-store"}


@web.middleware
async def headers_middleware(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPException as error:  # redirects and refusals carry them too
        error.headers.update(HEADERS)
        raise
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)  # a tip's file keeps its own, stricter policy
    return response


@web.middleware
async def csrf_middleware(request: web.Request, handler):
    if request.method == "POST":
        session = await get_session(request)
        form = await request.post()
        sent, kept = str(form.get("csrf_token", "")), session.get("csrf", "")
        if not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
            raise web.HTTPForbidden(text="表单已过期或来源不明（缺少 csrf_token），请刷新页面后重试。")
    return await handler(request)


@web.middleware
async def login_middleware(request: web.Request, handler):
    state = request.config_dict["console"]
    relative = request.path[len(state.prefix):] if request.path.startswith(state.prefix) else request.path
    if relative.startswith(PUBLIC):
        return await handler(request)
    session = await get_session(request)
    now = state.app.clock.now().timestamp()
    name = session.get("user")
    if name and now - session.get("seen", 0) > state.settings.idle_minutes * 60:
        session.invalidate()  # idle too long: log in again
        name = None
    account = None
    if name:
        async with state.app.sessions() as db:
            account = await get_account(db, state.app.name, name)
        if account is not None and session.get("version") != version(account):
            session.invalidate()  # reset from the command line since: every session of it ends
            account = None
    if account is None:
        raise web.HTTPFound(f"{state.prefix}login")
    session["seen"] = now
    request["account"] = account
    return await handler(request)


def version(account) -> str:
    """Changes when the account is reset (role or password), so the sessions it had end."""
    return account.updated_at.isoformat()


async def start_session(request: web.Request, account, now: float) -> None:
    """A new session at login (a new csrf token too): nothing from before the login carries over."""
    session = await new_session(request)
    session["user"], session["seen"], session["version"] = account.name, now, version(account)
    csrf_token(session)
