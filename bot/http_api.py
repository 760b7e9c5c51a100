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

import datetime as dt
import hmac
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Metric, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST as CONTENT_TYPE
from pydantic import BaseModel, Field, ValidationError

from bot.app import App
from handlers.day_export import export_day
from handlers.deals import post_due_deals
from handlers.people import named_tally
from handlers.reports import tally_json
from models.config import ConfigError
from models.deals import DealsIn, validation_message
from models.store import deals as deal_store
from models.store import outbox as outbox_store

MAX_BODY = 1024 * 1024
APP_KEY = web.AppKey("groupbuy_app", App)
TOKEN_KEY = web.AppKey("groupbuy_token", str)


class Pushed(BaseModel):
    """The answer to POST /api/deals."""

    posted: int = Field(description="chain heads queued now (a group that has the deal: none)")
    scheduled: int = Field(description="deals kept for their later post time")


class Problem(BaseModel):
    """Any 4xx answer: what was wrong, naming the field."""

    error: str


class TallyQuery(BaseModel):
    date: dt.date | None = Field(None, description="the day whose rounds close (团期), local time")


def openapi_document() -> dict[str, Any]:
    """This API's description, generated from the models that validate its input and output."""
    schemas: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def json_body(model: type[BaseModel]) -> dict[str, Any]:
        return {"content": {"application/json": {"schema": ref(model)}}}

    problem = {"description": "what was wrong, naming the field", **json_body(Problem)}
    date_param = {
        "in": "query",
        "name": "date",
        "schema": TallyQuery.model_json_schema()["properties"]["date"],
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "groupbuy-bot", "version": "0.1.0"},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/deals": {
                "post": {
                    "summary": "Push deals to groups now or later (idempotent by deal key)",
                    "requestBody": {"required": True, **json_body(DealsIn)},
                    "responses": {
                        "200": {"description": "posted and scheduled", **json_body(Pushed)},
                        "400": problem,
                        "401": problem,
                        "413": problem,
                    },
                }
            },
            "/api/tally": {
                "get": {
                    "summary": "Totals per round, product and route (`groupbuy tally --json`)",
                    "parameters": [date_param],
                    "responses": {"200": {"description": "tally report"}, "400": problem},
                }
            },
            "/api/exports/{date}.xlsx": {
                "get": {
                    "summary": "The day's delivery lists (xlsx)",
                    "parameters": [
                        {**date_param, "in": "path", "required": True},
                    ],
                    "responses": {"200": {"description": "xlsx file"}, "400": problem},
                }
            },
            "/health": {"get": {"security": [], "responses": {"200": {"description": "ok"}}}},
            "/metrics": {
                "get": {"security": [], "responses": {"200": {"description": "Prometheus text"}}}
            },
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


def _day(text: str | None) -> dt.date:
    """A date from the query or path, validated like the rest of the input (400 naming it)."""
    if not text:
        raise ValueError("date is required, like 2026-11-23")
    try:
        day = TallyQuery.model_validate({"date": text}).date
    except ValidationError as exc:
        raise ValueError(validation_message(exc)) from exc
    assert day is not None
    return day


async def push_deals(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    try:
        body = await request.json(loads=json.loads)
    except json.JSONDecodeError as exc:
        return _error(400, f"body is not JSON: {exc.msg}")
    except UnicodeDecodeError:
        return _error(400, "body is not UTF-8 text")
    except RecursionError:
        return _error(400, "body is nested too deeply")
    if not isinstance(body, dict):
        return _error(400, "body must be an object with a 'deals' list")
    try:
        deals = DealsIn.model_validate(body).to_deals(app.config.timezone)
    except ValidationError as exc:
        return _error(400, validation_message(exc))
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
    return web.json_response(Pushed(posted=posted, scheduled=later).model_dump())


async def get_tally(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    try:
        day = _day(request.query.get("date")) if "date" in request.query else None
    except ValueError as exc:
        return _error(400, str(exc))
    async with app.db.connect() as conn:
        return web.json_response(tally_json(await named_tally(conn, app.config, day)))


async def get_export(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
    try:
        day = _day(request.match_info["date"])
    except ValueError as exc:
        return _error(400, str(exc))
    folder = Path(tempfile.mkdtemp(prefix="groupbuy-export-"))
    try:  # the workbook is read back and its folder removed: nothing piles up per request
        async with app.db.connect() as conn:
            paths = await export_day(conn, app.config, day, folder, f"团购-{day.isoformat()}")
        body = paths[0].read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return web.Response(
        body=body,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename=groupbuy-{day.isoformat()}.xlsx"},
    )


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


class _Figures:
    """The database's figures as Prometheus metrics, read once per scrape."""

    def __init__(self, counts: outbox_store.Counts) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        c = self.counts
        yield CounterMetricFamily("groupbuy_messages", "messages stored", value=c.messages)
        yield GaugeMetricFamily("groupbuy_open_rounds", "rounds open for orders", c.open_rounds)
        outbox = GaugeMetricFamily("groupbuy_outbox", "outbox rows by status", labels=["status"])
        for status, n in sorted(c.outbox.items()):
            outbox.add_metric([status], n)
        yield outbox


async def metrics(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(await outbox_store.counts(app.db)))
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


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
