"""The chat simulator's page and JSON API, served beside the dashboard by `groupbuy sim`.

- GET  /sim                 several group chats side by side and the private chats, live
- GET  /sim/api/log         every line so far (a page that opens or reconnects reads it)
- GET  /sim/api/events      server-sent events: each new line as it is said or sent
- POST /sim/api/messages    {"room", "sender", "sender_name", "text"} (room null: private)
                            → {"replies": [...]}, what the bot sent because of it
- POST /sim/api/clock       {"ts"} moves the bot's clock forward → {"replies": [...]}
- GET  /sim/files/{n}/{name}  a file the bot sent on line n (an xlsx from 导出, a chart's PNG)
The simulator is a local tool (it listens on 127.0.0.1 unless told otherwise): its JSON API
takes JSON only and refuses other sites' pages (Origin), so no form elsewhere can post to it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from bot.adapters.web_sim import ClockError, Line, SimChat
from bot.changes import stream
from models.deals import validation_message

SIM_KEY = web.AppKey("groupbuy_sim", SimChat)
M = TypeVar("M", bound=BaseModel)


class SaidIn(BaseModel):
    room: str | None = Field(description="a configured group's room id; null for a private chat")
    sender: str = Field(min_length=1, max_length=128, description="contact id, like wxid_zhang")
    sender_name: str = Field(min_length=1, max_length=128, description="the name shown")
    text: str = Field(min_length=1, max_length=20_000)


class ClockIn(BaseModel):
    ts: datetime = Field(description="the new time; without a zone, the bot's zone")


def _json(data: object) -> web.Response:
    """JSON with the Chinese as written, so a person can read what the API answers."""
    return web.json_response(data, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _replies(lines: list[Line]) -> web.Response:
    return _json({"replies": [asdict(line) for line in lines]})


def _error(status: int, message: str) -> web.HTTPException:
    refusal = web.HTTPException(
        text=json.dumps({"error": message}, ensure_ascii=False), content_type="application/json"
    )
    refusal.set_status(status)
    return refusal


async def _body(request: web.Request, model: type[M]) -> M:
    """The JSON body as `model`; anything else is refused with the 4xx that says why."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        raise _error(403, "another site's page may not post here")
    if request.content_type != "application/json":
        raise _error(415, "send JSON (Content-Type: application/json)")
    try:
        return model.model_validate(await request.json(loads=json.loads))
    except ValidationError as exc:
        raise _error(400, validation_message(exc)) from exc
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _error(400, "body is not JSON") from exc


async def post_message(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    said = await _body(request, SaidIn)
    rooms = {g.room for g in sim.app.groups.all()}
    if said.room is not None and said.room not in rooms:
        raise _error(400, f"room: not a configured group ({', '.join(sorted(rooms))})")
    return _replies(await sim.say(said.room, said.sender, said.sender_name, said.text))


async def post_clock(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    body = await _body(request, ClockIn)
    when = body.ts if body.ts.tzinfo else body.ts.replace(tzinfo=sim.app.config.timezone)
    try:
        return _replies(await sim.move_clock(when))
    except ClockError as exc:
        raise _error(409, str(exc)) from exc


async def get_log(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    return _json(
        {"now": sim.app.clock.now().isoformat(), "lines": [asdict(line) for line in sim.log]}
    )


async def events(request: web.Request) -> web.StreamResponse:
    sim = request.app[SIM_KEY]
    return await stream(request, sim.lines, "line")


async def get_file(request: web.Request) -> web.StreamResponse:
    """A file the bot sent, looked up by its line's number: only files the bot sent are
    served, from where it wrote them; the name in the address must be that file's."""
    sim = request.app[SIM_KEY]
    n = request.match_info["n"]
    path = sim.files.get(int(n)) if n.isdigit() and len(n) < 12 else None
    if path is None or path.name != request.match_info["name"]:
        raise _error(404, "no such file")
    if not path.is_file():
        raise _error(404, "the file is gone from where the bot wrote it")
    inline = "inline" if path.suffix.lower() == ".png" else "attachment"  # a chart shows
    return web.FileResponse(
        path, headers={"Content-Disposition": f"{inline}; filename*=UTF-8''{quote(path.name)}"}
    )


async def _people(sim: SimChat) -> list[dict[str, str]]:
    """Whom one may type as, by name: the configured leaders and admins, then anyone who
    spoke (the contact id goes with the name, as the chat API wants it)."""
    names = await sim.learn_names()
    people: dict[str, str] = {}
    for g in sim.app.groups.all():
        people.setdefault(g.leader, names.get(g.leader, "团长"))
    for admin in sorted(sim.app.config.admins):
        people.setdefault(admin, names.get(admin, "管理员"))
    for line in sim.log:
        if not line.bot:
            people.setdefault(line.sender, names.get(line.sender, line.sender_name))
    return [{"id": k, "name": v} for k, v in people.items()]


@aiohttp_jinja2.template("sim.html")
async def page(request: web.Request) -> dict[str, Any]:
    sim = request.app[SIM_KEY]
    names = await sim.learn_names()
    return {
        "groups": sim.app.groups.all(),
        "leader_names": names,
        "people": await _people(sim),
        "now": sim.app.clock.now(),
        "tz": str(sim.app.config.timezone),
        "bot_name": sim.app.config.bot_name,
    }


def add_simulator(web_app: web.Application, sim: SimChat) -> None:
    """Serve the simulator on an app that already has the dashboard (its templates)."""
    web_app[SIM_KEY] = sim

    async def end_streams(_: web.Application) -> None:
        sim.lines.close()

    web_app.on_shutdown.append(end_streams)
    web_app.router.add_get("/sim", page)
    web_app.router.add_get("/sim/api/log", get_log)
    web_app.router.add_get("/sim/api/events", events)
    web_app.router.add_post("/sim/api/messages", post_message)
    web_app.router.add_post("/sim/api/clock", post_clock)
    web_app.router.add_get("/sim/files/{n}/{name}", get_file)
