"""An HTTP API for the platform's own systems (off unless [http] is configured).

- POST /api/deals        push deals now (same shape as deals.toml, as JSON); idempotent by key
- GET  /api/tally        ?date=YYYY-MM-DD, the `groupbuy tally --json` report
- GET  /api/exports/{date}.xlsx   the day's delivery lists
- GET  /health           liveness (no token)
- GET  /metrics          Prometheus text (no token)
- GET  /openapi.json     this description (no token)
Everything under /api needs `Authorization: Bearer <token>`; the token is never logged. Bad
JSON or fields get a 400 with a message and change nothing; bodies over 1 MB get a 413.
"""

from __future__ import annotations

import hmac
import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import App
from handlers.deals import post_due_deals
from handlers.exports import write_exports
from handlers.reports import tally_json
from models.config import ConfigError
from models.deals import parse_deals
from models.store import deals as deal_store
from models.store import outbox as outbox_store
from models.store.tally import tally

MAX_BODY = 1024 * 1024
APP_KEY = web.AppKey("groupbuy_app", App)
TOKEN_KEY = web.AppKey("groupbuy_token", str)

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "groupbuy-bot", "version": "0.1.0"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/api/deals": {
            "post": {
                "summary": "Push deals to groups now (idempotent by deal key)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {
                    "200": {"description": "{posted: number of chain heads queued}"},
                    "400": {"description": "invalid JSON or fields"},
                    "401": {"description": "missing or wrong token"},
                    "413": {"description": "body too large"},
                },
            }
        },
        "/api/tally": {
            "get": {
                "summary": "Totals per round, product and route",
                "parameters": [
                    {"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}}
                ],
                "responses": {
                    "200": {"description": "tally report"},
                    "400": {"description": "bad date"},
                },
            }
        },
        "/api/exports/{date}.xlsx": {
            "get": {
                "summary": "The day's delivery lists (xlsx)",
                "parameters": [
                    {"name": "date", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {"description": "xlsx file"},
                    "400": {"description": "bad date"},
                },
            }
        },
        "/health": {"get": {"security": [], "responses": {"200": {"description": "ok"}}}},
        "/metrics": {"get": {"security": [], "responses": {"200": {"description": "Prometheus"}}}},
    },
}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def auth(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        expected = request.app[TOKEN_KEY]
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer ") or not hmac.compare_digest(
            given[7:].encode(), expected.encode()
        ):
            return _error(401, "missing or wrong bearer token")
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"body over {MAX_BODY} bytes")


def _day(text: str | None) -> date:
    if not text:
        raise ValueError("date is required, like 2026-11-23")
    return date.fromisoformat(text)


async def push_deals(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    try:
        body = await request.json(loads=json.loads)
    except json.JSONDecodeError as exc:
        return _error(400, f"body is not JSON: {exc.msg}")
    if not isinstance(body, dict):
        return _error(400, "body must be an object with a 'deals' list")
    try:
        deals = parse_deals(body, app.config.timezone)
    except ConfigError as exc:
        return _error(400, str(exc))
    unknown = {g for d in deals for g in d.groups if g != "all"} - {
        g.room for g in app.groups.all()
    }
    if unknown:
        return _error(400, f"unknown groups: {sorted(unknown)}")
    now = app.clock.now()
    for d in deals:
        if d.cutoff_at <= now:
            return _error(400, f"deal {d.key!r} has a cutoff in the past")
    async with app.db.begin() as conn:  # kept: later ones are posted on schedule, restarts or not
        await deal_store.save(conn, deals, now)
    posted = await post_due_deals(app.db, app.cache, app.config, app.groups, now)
    later = sum(d.post_at > now for d in deals)
    return web.json_response({"posted": posted, "scheduled": later})


async def get_tally(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    try:
        day = _day(request.query.get("date")) if "date" in request.query else None
    except ValueError as exc:
        return _error(400, str(exc))
    async with app.db.connect() as conn:
        return web.json_response(tally_json(await tally(conn, app.config.timezone, day)))


async def get_export(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
    try:
        day = _day(request.match_info["date"])
    except ValueError as exc:
        return _error(400, str(exc))
    async with app.db.connect() as conn:
        report = await tally(conn, app.config.timezone, day)
    folder = Path(tempfile.mkdtemp(prefix="groupbuy-export-"))
    xlsx = write_exports(report, folder, f"团购-{day.isoformat()}")[0]
    return web.FileResponse(
        xlsx,
        headers={"Content-Disposition": f"attachment; filename=groupbuy-{day.isoformat()}.xlsx"},
    )


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    c = await outbox_store.counts(app.db)
    messages, open_rounds, outbox = c.messages, c.open_rounds, c.outbox
    lines = [
        "# TYPE groupbuy_messages_total counter",
        f"groupbuy_messages_total {messages}",
        "# TYPE groupbuy_open_rounds gauge",
        f"groupbuy_open_rounds {open_rounds}",
        "# TYPE groupbuy_outbox gauge",
        *(f'groupbuy_outbox{{status="{s}"}} {n}' for s, n in sorted(outbox.items())),
    ]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


def make_web_app(app: App, token: str) -> web.Application:
    if len(token) < 16:
        raise ConfigError("[http] token must be at least 16 characters")
    web_app = web.Application(middlewares=[auth], client_max_size=MAX_BODY)
    web_app[APP_KEY] = app
    web_app[TOKEN_KEY] = token
    web_app.router.add_post("/api/deals", push_deals)
    web_app.router.add_get("/api/tally", get_tally)
    web_app.router.add_get("/api/exports/{date}.xlsx", get_export)
    web_app.router.add_get("/health", health)
    web_app.router.add_get("/metrics", metrics)
    web_app.router.add_get("/openapi.json", openapi)
    return web_app
