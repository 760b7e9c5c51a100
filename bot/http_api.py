"""An HTTP API for the platform's own systems (off unless [http] is configured).

- POST /api/deals        push deals now (same shape as deals.toml, as JSON); idempotent by key
- GET  /api/tally        ?date=YYYY-MM-DD, the `groupbuy tally --json` report
- GET  /api/exports/{date}.xlsx   the day's delivery lists; .csv?list=配送清单 one list as CSV
- GET  /api/board        ?date=, the dashboard's day: rounds with cutoffs, totals, held lines
- POST /api/review/{entry}/accept   count a held line as read (the leader's 确认)
- POST /api/review/{entry}/fix      replace a held line with {"line": "张三 苹果2份"}
- GET  /api/charts/sales.png        ?days=7, sales per day per leader
- GET  /api/charts/products.png     ?days=7, sales per day per product
- GET  /api/payments     ?date=, payments and refunds per round and per line
- POST /api/payments/{entry}/collect   the leader's 收款 for one line
- GET  /api/events       server-sent events: "change" whenever orders or replies move
- GET  /health           liveness (no token)
- GET  /metrics          Prometheus text (no token)
- GET  /openapi.json     this description (no token)
Everything under /api needs `Authorization: Bearer <token>`, or the dashboard's session cookie
(bot/web/session.py) with its CSRF token on anything that is not a GET; the token is never
logged. Bad JSON or fields get a 400 with a message and change nothing; bodies over 1 MB get
a 413.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from prometheus_client import CollectorRegistry, Metric, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST as CONTENT_TYPE
from pydantic import BaseModel, Field, ValidationError

from bot.app import App
from bot.changes import stream
from bot.payment_schema import Collected, DayPayments
from bot.web.session import COOKIE, CSRF_HEADER, Sessions
from handlers.board import FixRefused, accept_line, board, fix_line
from handlers.charts import product_figure, render_chart, sales_figure
from handlers.day_export import export_day
from handlers.deals import post_due_deals
from handlers.exports import DAY_LISTS, DELIVERY
from handlers.payment_board import CollectRefused, collect_line, day_payments
from handlers.people import leader_names, named_tally
from handlers.reports import tally_json
from models.config import ConfigError
from models.db import Conn
from models.deals import DealsIn, validation_message
from models.store import deals as deal_store
from models.store import outbox as outbox_store
from models.store.board import room_of_entry
from models.store.tally import product_sales_by_day, sales_by_day

MAX_BODY = 1024 * 1024
OPERATOR = "dashboard"  # who decided, in the audit log: someone holding the token
APP_KEY = web.AppKey("groupbuy_app", App)
TOKEN_KEY = web.AppKey("groupbuy_token", str)
SESSIONS_KEY = web.AppKey("groupbuy_sessions", Sessions)


class Pushed(BaseModel):
    """The answer to POST /api/deals."""

    posted: int = Field(description="chain heads queued now (a group that has the deal: none)")
    scheduled: int = Field(description="deals kept for their later post time")


class Problem(BaseModel):
    """Any 4xx answer: what was wrong, naming the field."""

    error: str


class TallyQuery(BaseModel):
    date: dt.date | None = Field(None, description="the day whose rounds close (团期), local time")


class Decided(BaseModel):
    """The answer to accepting or fixing a held line."""

    line: str = Field(description="the line as it counts now")


class FixIn(BaseModel):
    line: str = Field(min_length=1, max_length=200, description="what the line should say")


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
    entry_param = {"in": "path", "name": "entry", "required": True, "schema": {"type": "integer"}}
    days_param = {"in": "query", "name": "days", "schema": {"type": "integer"}}
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
            "/api/exports/{date}.csv": {
                "get": {
                    "summary": "One of the day's lists as CSV (UTF-8 with BOM, for Excel)",
                    "parameters": [
                        {**date_param, "in": "path", "required": True},
                        {
                            "in": "query",
                            "name": "list",
                            "schema": {"enum": list(DAY_LISTS)},
                        },
                    ],
                    "responses": {"200": {"description": "CSV file"}, "400": problem},
                }
            },
            "/api/board": {
                "get": {
                    "summary": "The dashboard's day: rounds per group with cutoffs, totals per "
                    "leader, product and route, and the lines held for review",
                    "parameters": [date_param],
                    "responses": {"200": {"description": "the day's board"}, "400": problem},
                }
            },
            "/api/review/{entry}/accept": {
                "post": {
                    "summary": "Count a held line as the bot read it (the leader's 确认)",
                    "parameters": [entry_param],
                    "responses": {
                        "200": {"description": "accepted", **json_body(Decided)},
                        "403": problem,
                        "404": problem,
                        "409": problem,
                    },
                }
            },
            "/api/review/{entry}/fix": {
                "post": {
                    "summary": "Replace a held line with what it should say, as its poster's",
                    "parameters": [entry_param],
                    "requestBody": {"required": True, **json_body(FixIn)},
                    "responses": {
                        "200": {"description": "the new line", **json_body(Decided)},
                        "400": problem,
                        "403": problem,
                        "404": problem,
                        "409": problem,
                    },
                }
            },
            "/api/charts/sales.png": {
                "get": {
                    "summary": "Sales per day per leader over the last `days` days (PNG)",
                    "parameters": [days_param],
                    "responses": {"200": {"description": "PNG image"}, "400": problem},
                }
            },
            "/api/charts/products.png": {
                "get": {
                    "summary": "Sales per day per product over the last `days` days (PNG)",
                    "parameters": [days_param],
                    "responses": {"200": {"description": "PNG image"}, "400": problem},
                }
            },
            "/api/payments": {
                "get": {
                    "summary": "The day's payments and refunds per round and per line: "
                    "collected, claimed (自报已付), unpaid, outstanding, refunds, to give back",
                    "parameters": [date_param],
                    "responses": {
                        "200": {"description": "payments", **json_body(DayPayments)},
                        "400": problem,
                    },
                }
            },
            "/api/payments/{entry}/collect": {
                "post": {
                    "summary": "Record one line as collected (the leader's 收款), audit-logged",
                    "parameters": [entry_param],
                    "responses": {
                        "200": {"description": "collected", **json_body(Collected)},
                        "403": problem,
                        "404": problem,
                        "409": problem,
                    },
                }
            },
            "/api/events": {
                "get": {
                    "summary": "Server-sent events: `change` whenever orders or replies move",
                    "responses": {"200": {"description": "text/event-stream"}},
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


def _bearer_ok(request: web.Request) -> bool:
    given = request.headers.get("Authorization", "")
    expected = request.app[TOKEN_KEY]
    return given.startswith("Bearer ") and hmac.compare_digest(
        given[7:].encode(), expected.encode()
    )


def _session_refusal(request: web.Request) -> web.Response | None:
    """None when the dashboard's session cookie (and, to change anything, its CSRF) is good."""
    sessions = request.app[SESSIONS_KEY]
    session = sessions.check(request.cookies.get(COOKIE))
    if session is None:
        return _error(401, "missing or wrong bearer token")
    if request.method not in ("GET", "HEAD") and not sessions.csrf_ok(
        session, request.headers.get(CSRF_HEADER)
    ):
        return _error(403, "missing or wrong CSRF token")
    return None


@web.middleware
async def auth(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith("/api/") and not _bearer_ok(request):
        refused = _session_refusal(request)
        if refused is not None:
            return refused
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


async def _exports(app: App, day: dt.date) -> list[Path]:
    """The day's files, written to a folder that is removed when the caller has read them."""
    folder = Path(tempfile.mkdtemp(prefix="groupbuy-export-"))
    async with app.db.connect() as conn:
        return await export_day(conn, app.config, day, folder, f"团购-{day.isoformat()}")


def _read_and_remove(path: Path) -> bytes:
    try:  # read back and its folder removed: nothing piles up per request
        return path.read_bytes()
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def _attachment(name: str) -> str:
    """A Content-Disposition naming the file in ASCII and, for browsers, in UTF-8 (RFC 6266)."""
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename={ascii_name}; filename*=UTF-8''{quote(name)}"


async def get_export(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
    try:
        day = _day(request.match_info["date"])
    except ValueError as exc:
        return _error(400, str(exc))
    body = _read_and_remove((await _exports(app, day))[0])
    return web.Response(
        body=body,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": _attachment(f"groupbuy-{day.isoformat()}.xlsx")},
    )


async def get_export_csv(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
    try:
        day = _day(request.match_info["date"])
    except ValueError as exc:
        return _error(400, str(exc))
    which = request.query.get("list", DELIVERY)
    if which not in DAY_LISTS:  # asked before any file is written
        return _error(400, f"list must be one of {', '.join(DAY_LISTS)}")
    paths = await _exports(app, day)
    body = _read_and_remove(paths[0].with_name(f"{paths[0].stem}-{which}.csv"))
    return web.Response(
        body=body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": _attachment(f"groupbuy-{day.isoformat()}-{which}.csv")},
    )


def _today(app: App) -> dt.date:
    return app.clock.now().astimezone(app.config.timezone).date()


def _day_asked(request: web.Request) -> dt.date:
    """`?date=` when given (ValueError when it is not a date), else the bot's today."""
    text = request.query.get("date")
    return _day(text) if text is not None else _today(request.app[APP_KEY])


async def _day_json(
    request: web.Request, view: Callable[[App, dt.date], Awaitable[dict[str, Any]]]
) -> web.Response:
    """One day's view as JSON: the asked day's, or today's; a bad date is a 400."""
    try:
        day = _day_asked(request)
    except ValueError as exc:
        return _error(400, str(exc))
    return web.json_response(await view(request.app[APP_KEY], day))


async def get_board(request: web.Request) -> web.Response:
    return await _day_json(request, board_of)


async def board_of(app: App, day: dt.date) -> dict[str, Any]:
    """The dashboard's day, as /api/board serves it (the pages render this same JSON)."""
    async with app.db.connect() as conn:
        return await board(conn, app.config, day, app.clock.now())


async def _line_in_room(app: App, request: web.Request) -> tuple[int, str] | None:
    """The line the path names (`{entry}`) and the group it is in; None when there is none."""
    text = request.match_info["entry"]
    if not text.isdigit() or len(text) >= 19:
        return None
    entry_id = int(text)
    async with app.db.connect() as conn:
        room = await room_of_entry(conn, entry_id)
    return None if room is None else (entry_id, room)


async def accept_review(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    found = await _line_in_room(app, request)
    if found is None:
        return _error(404, "no such line")
    entry_id, room = found
    async with app.dispatcher.lock(room), app.db.begin() as conn:
        line = await accept_line(conn, app.cache, entry_id, OPERATOR, app.clock.now())
    if line is None:
        return _error(409, "this line is not waiting for a decision")
    app.changes.notify("review")
    return web.json_response(Decided(line=line).model_dump())


async def fix_review(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    found = await _line_in_room(app, request)
    if found is None:
        return _error(404, "no such line")
    entry_id, room = found
    try:
        fix = FixIn.model_validate(await request.json(loads=json.loads))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        text = validation_message(exc) if isinstance(exc, ValidationError) else "body is not JSON"
        return _error(400, text)
    try:
        async with app.dispatcher.lock(room), app.db.begin() as conn:
            line = await fix_line(conn, app.cache, entry_id, fix.line, OPERATOR, app.clock.now())
    except FixRefused as exc:
        return _error(409, str(exc))
    app.changes.notify("review")
    return web.json_response(Decided(line=line).model_dump())


ChartDrawer = Callable[[Conn, App, dt.date, dt.date], Awaitable[Any]]


async def _chart(request: web.Request, draw: ChartDrawer) -> web.StreamResponse:
    """A chart of the last `days` days up to today (7 unless asked) as a PNG."""
    app = request.app[APP_KEY]
    days_text = request.query.get("days", "7")
    if not days_text.isdigit() or not 1 <= int(days_text) <= 92:
        return _error(400, "days must be a whole number from 1 to 92")
    last = _today(app)
    first = last - dt.timedelta(days=int(days_text) - 1)
    async with app.db.connect() as conn:
        fig = await draw(conn, app, first, last)
    folder = Path(tempfile.mkdtemp(prefix="groupbuy-chart-"))
    body = _read_and_remove(render_chart(fig, folder / "chart.png"))
    return web.Response(body=body, content_type="image/png")


async def _leaders_figure(conn: Conn, app: App, first: dt.date, last: dt.date) -> Any:
    data = await sales_by_day(conn, app.config.timezone, first, last)
    names = await leader_names(conn, app.config, app.groups.all())
    return sales_figure(data, names, first, last)


async def _products_figure(conn: Conn, app: App, first: dt.date, last: dt.date) -> Any:
    data = await product_sales_by_day(conn, app.config.timezone, first, last)
    return product_figure(data, first, last)


async def sales_chart(request: web.Request) -> web.StreamResponse:
    return await _chart(request, _leaders_figure)


async def products_chart(request: web.Request) -> web.StreamResponse:
    return await _chart(request, _products_figure)


async def get_payments(request: web.Request) -> web.Response:
    return await _day_json(request, payments_of)


async def payments_of(app: App, day: dt.date) -> dict[str, Any]:
    """The day's payments, as /api/payments serves them (the dashboard renders this JSON)."""
    async with app.db.connect() as conn:
        found = DayPayments.model_validate(await day_payments(conn, app.config, day))
    return found.model_dump()


async def collect_payment(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    found = await _line_in_room(app, request)
    if found is None:
        return _error(404, "no such line")
    entry_id, room = found
    try:
        async with app.dispatcher.lock(room), app.db.begin() as conn:
            done = await collect_line(conn, entry_id, OPERATOR, app.clock.now())
    except CollectRefused as exc:
        return _error(409, str(exc))
    app.changes.notify("payment")
    return web.json_response(Collected.model_validate(done).model_dump())


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: `change` whenever an order or a reply moves; pages then read again."""
    app = request.app[APP_KEY]
    return await stream(request, app.changes, "change")


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
    web_app[SESSIONS_KEY] = Sessions(token)

    async def end_streams(_: web.Application) -> None:
        app.changes.close()

    web_app.on_shutdown.append(end_streams)
    web_app.router.add_post("/api/deals", push_deals)
    web_app.router.add_get("/api/tally", get_tally)
    web_app.router.add_get("/api/exports/{date}.xlsx", get_export)
    web_app.router.add_get("/api/exports/{date}.csv", get_export_csv)
    web_app.router.add_get("/api/board", get_board)
    web_app.router.add_post("/api/review/{entry}/accept", accept_review)
    web_app.router.add_post("/api/review/{entry}/fix", fix_review)
    web_app.router.add_get("/api/charts/sales.png", sales_chart)
    web_app.router.add_get("/api/charts/products.png", products_chart)
    web_app.router.add_get("/api/payments", get_payments)
    web_app.router.add_post("/api/payments/{entry}/collect", collect_payment)
    web_app.router.add_get("/api/events", events)
    web_app.router.add_get("/health", health)
    web_app.router.add_get("/metrics", metrics)
    web_app.router.add_get("/openapi.json", openapi)
    return web_app
