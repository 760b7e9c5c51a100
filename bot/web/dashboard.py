"""The operator dashboard: log in with the admin token, then today's rounds, totals, the lines
held for review, payments and refunds, charts, downloads and live updates, in Chinese.

Pages are rendered on the server from the JSON that /api/board serves (`board_of`), and the
page's script reads the rest through the same API (accept, fix, charts, exports, events), with
the session cookie and its CSRF token: there is no second path to the data.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.http_api import APP_KEY, SESSIONS_KEY, board_of, payments_of
from bot.web.session import COOKIE, CSRF_FIELD, LIFETIME_S, LOGIN_COOKIE, Session

HERE = Path(__file__).resolve().parent
STATUS = {"open": "接龙中", "closed": "已截单", "arrived": "已到货", "dropped": "未成团"}
PAGES = ("/dashboard",)  # what needs a session; /login, /static and the sim do not


def _cookie(response: web.StreamResponse, request: web.Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=LIFETIME_S,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        path="/",
    )


def session_of(request: web.Request) -> Session | None:
    return request.app[SESSIONS_KEY].check(request.cookies.get(COOKIE))


@web.middleware
async def pages_need_a_session(request: web.Request, handler: Any) -> web.StreamResponse:
    """A page without a session goes to the login form; a fragment gets a 401."""
    if request.path.startswith(PAGES) and session_of(request) is None:
        if request.path == "/dashboard":
            raise web.HTTPFound("/login")
        raise web.HTTPUnauthorized(text="请先登录")
    response: web.StreamResponse = await handler(request)
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'self'; form-action 'self'",
    )
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


async def login_form(request: web.Request) -> web.Response:
    nonce = secrets.token_urlsafe(16)
    response = aiohttp_jinja2.render_template("login.html", request, {"csrf": nonce, "error": ""})
    _cookie(response, request, LOGIN_COOKIE, nonce)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    expected = request.cookies.get(LOGIN_COOKIE, "")
    given = str(form.get(CSRF_FIELD, ""))
    if not expected or not secrets.compare_digest(expected, given):
        raise web.HTTPForbidden(text="表单已过期，请刷新登录页再试")
    sessions = request.app[SESSIONS_KEY]
    if not sessions.token_matches(str(form.get("token", ""))):
        nonce = secrets.token_urlsafe(16)
        response = aiohttp_jinja2.render_template(
            "login.html", request, {"csrf": nonce, "error": "口令不对"}, status=401
        )
        _cookie(response, request, LOGIN_COOKIE, nonce)
        return response
    found = web.HTTPFound("/dashboard")
    _cookie(found, request, COOKIE, sessions.start())
    found.del_cookie(LOGIN_COOKIE, path="/")
    raise found


async def logout(request: web.Request) -> web.StreamResponse:
    """End the session (this process forgets it; the cookie is cleared)."""
    sessions = request.app[SESSIONS_KEY]
    session = session_of(request)
    form = await request.post()
    if session is None or not sessions.csrf_ok(session, str(form.get(CSRF_FIELD, ""))):
        raise web.HTTPForbidden(text="缺少或错误的 CSRF 令牌")
    sessions.end(session)
    found = web.HTTPFound("/login")
    found.del_cookie(COOKIE, path="/")
    raise found


async def _context(request: web.Request) -> dict[str, Any]:
    app = request.app[APP_KEY]
    session = session_of(request)
    assert session is not None  # the middleware let the request in
    text = request.query.get("date", "")
    try:
        day = (
            dt.date.fromisoformat(text)
            if text
            else app.clock.now().astimezone(app.config.timezone).date()
        )
    except ValueError:
        day = app.clock.now().astimezone(app.config.timezone).date()
    return {
        "board": await board_of(app, day),
        "payments": await payments_of(app, day),
        "status": STATUS,
        "csrf": request.app[SESSIONS_KEY].csrf(session),
        "bot_name": app.config.bot_name,
        "tz": str(app.config.timezone),
    }


@aiohttp_jinja2.template("dashboard.html")
async def dashboard(request: web.Request) -> dict[str, Any]:
    return await _context(request)


@aiohttp_jinja2.template("board.html")
async def board_fragment(request: web.Request) -> dict[str, Any]:
    """The board alone, re-rendered when the page hears of a change."""
    return await _context(request)


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/dashboard")


def add_dashboard(web_app: web.Application) -> None:
    """Serve the dashboard on an app made by bot.http_api.make_web_app (same token)."""
    aiohttp_jinja2.setup(
        web_app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
    )
    web_app.middlewares.append(pages_need_a_session)
    web_app.router.add_get("/", home)
    web_app.router.add_get("/login", login_form)
    web_app.router.add_post("/login", login)
    web_app.router.add_post("/logout", logout)
    web_app.router.add_get("/dashboard", dashboard)
    web_app.router.add_get("/dashboard/board", board_fragment)
    web_app.router.add_static("/static", HERE / "static")
