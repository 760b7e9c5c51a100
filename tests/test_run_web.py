"""`groupbuy run` with [web] enabled serves the dashboard (and the JSON API beside it)."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp

from bot.app import build_app
from bot.cli import _start_http
from models.config import parse_config
from tests.chat import ADMIN, LEADER, ROOM

TOKEN = "run-web-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_run_serves_the_dashboard_when_web_is_enabled(tmp_path: Path) -> None:
    port = free_port()
    config = parse_config(
        {
            "bot": {"admins": [ADMIN]},
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path}/bot.db"},
            "groups": [{"room": ROOM, "leader": LEADER, "topic": "幸福里3栋团购群"}],
            "web": {"enabled": True, "port": port, "token": TOKEN},
        }
    )
    app = build_app(config)
    await app.start()
    runners = await _start_http(app)
    try:
        async with aiohttp.ClientSession() as http:
            login = await http.get(f"http://127.0.0.1:{port}/dashboard")
            assert login.url.path == "/login" and "管理口令" in await login.text()
            api = await http.get(
                f"http://127.0.0.1:{port}/api/board",
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            assert [g["topic"] for g in (await api.json())["groups"]] == ["幸福里3栋团购群"]
    finally:
        for runner in runners:
            await runner.cleanup()
        await app.close()
