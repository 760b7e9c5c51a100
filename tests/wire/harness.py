"""The bot over the real wire: a node gateway (wechaty-puppet-service serving
wechaty-puppet-mock, tests/wire/gateway) and `groupbuy run` with the wechaty adapter, each in
its own process, talking gRPC on loopback.

The test plays the residents and the leaders through the gateway's control channel, reads
what the bot's account sent from it, and can take the gateway's gRPC server down and up.
Without node or the gateway's packages the wire tests skip, and under CI=true they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import pytest

GATEWAY_DIR = Path(__file__).parent / "gateway"
TOKEN = "insecure_wire_test"  # the gateway runs without TLS on loopback
HEARTBEAT_S = 2.0  # the gateway's heartbeat interval
WATCHDOG_S = 10.0  # the bot's [wechaty] watchdog_s (the config's floor)

BOT = "wxid_wire_bot"
ROOM = "20000000001@chatroom"
ROOM2 = "20000000002@chatroom"
LEADER = "wxid_leader_li"
LEADER2 = "wxid_leader_wang"
ZHANG, LI, WANG = "wxid_zhang", "wxid_li", "wxid_wang"
PEOPLE = {LEADER: "李团长", LEADER2: "王团长", ZHANG: "张三", LI: "李四", WANG: "王五"}
ROOMS = [
    {"id": ROOM, "topic": "幸福里3栋团购群", "members": [BOT, LEADER, ZHANG, LI]},
    {"id": ROOM2, "topic": "阳光花园团购群", "members": [BOT, LEADER2, WANG]},
]

T = TypeVar("T")


def unavailable(reason: str) -> NoReturn:
    """Skip, or under CI fail: CI must run the wire tests."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"wire tests cannot run: {reason}")
    pytest.skip(f"wire tests need the node gateway: {reason}")


def wait_for(check: Callable[[], T | None], timeout: float, what: str, every: float = 0.1) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def _read_line(stream: IO[str], timeout: float) -> str | None:
    """One line from a pipe, or None after `timeout` (the pipe has no timeout of its own)."""
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return got[0] if got else None


def _stop(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, grace: float = 5.0) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Gateway:
    """The node gateway process and its control channel."""

    def __init__(self, tmp: Path) -> None:
        node = shutil.which("node")
        if node is None:
            unavailable("node is not on PATH")
        if not (GATEWAY_DIR / "node_modules" / "wechaty-puppet-service").is_dir():
            unavailable(f"run `npm ci` in {GATEWAY_DIR}")
        world = {
            "token": TOKEN,
            "heartbeat_ms": int(HEARTBEAT_S * 1000),
            "bot": {"id": BOT, "name": "团购助手"},
            "contacts": PEOPLE,
            "rooms": ROOMS,
        }
        world_file = tmp / "world.json"
        world_file.write_text(json.dumps(world, ensure_ascii=False), "utf-8")
        self.log_path = tmp / "gateway.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [str(node), "gateway.js", str(world_file)],
            cwd=GATEWAY_DIR,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.proc.stdout is not None
        line = _read_line(self.proc.stdout, 30)
        if not line:
            self.close()
            unavailable(f"the gateway did not start: {self.log_path.read_text()[-2000:]}")
        ports = json.loads(line or "{}")
        self.grpc_port: int = ports["grpc"]
        self.control = f"http://127.0.0.1:{ports['control']}"

    def close(self) -> None:
        _stop(self.proc)
        self._log.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.control + path, data=data, method=method, headers={"content-type": "json"}
        )
        with urllib.request.urlopen(req, timeout=20) as res:
            return json.loads(res.read())

    # -- what the test does through the gateway ---------------------------------------------

    def say(self, sender: str, text: str, *, room: str | None = None) -> str:
        """`sender` says `text` in `room`, or privately to the bot."""
        target = {"room": room} if room else {"to": BOT}
        return str(self._call("POST", "/say", {"from": sender, "text": text, **target})["id"])

    def sent(self) -> list[dict[str, Any]]:
        """Everything the bot's account sent, in order."""
        return list(self._call("GET", "/sent"))

    def texts_to(self, conversation: str) -> list[str]:
        return [s["text"] for s in self.sent() if s["to"] == conversation]

    def refused(self) -> list[dict[str, Any]]:
        """Sends the gateway refused (e.g. "not logged in")."""
        return list(self._call("GET", "/refused"))

    def state(self) -> dict[str, Any]:
        """grpc_up, logged_in, and counts: starts (one per connection of the bot), stops,
        logins, heartbeats."""
        return dict(self._call("GET", "/state"))

    def stop_grpc(self) -> None:
        self._call("POST", "/grpc/stop")

    def start_grpc(self) -> None:
        self._call("POST", "/grpc/start")

    def wait_text(self, conversation: str, needle: str, timeout: float = 15) -> str:
        return wait_for(
            lambda: next((t for t in self.texts_to(conversation) if needle in t), None),
            timeout,
            f"{needle!r} sent to {conversation}",
        )


class Bot:
    """`groupbuy run` with the wechaty adapter, as it runs in production, in its own folder."""

    def __init__(self, tmp: Path, gateway: Gateway) -> None:
        self.tmp, self.gateway = tmp, gateway
        self.work = tmp / "work"  # the working directory: nothing of the bot's goes here
        self.work.mkdir(exist_ok=True)
        self.config = tmp / "config.toml"
        self.log_path = tmp / "bot.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_from = 0
        tz = ZoneInfo("Asia/Shanghai")
        cutoff = datetime.now(tz) + timedelta(hours=12)  # never inside a test run
        self.config.write_text(
            f"""
[bot]
timezone = "Asia/Shanghai"
admins = ["wxid_admin"]
adapter = "wechaty"
default_cutoff = "{cutoff:%H:%M}"
data_dir = "data"

[database]
url = "sqlite+aiosqlite:///{tmp}/bot.db"

[sender]
per_minute = 120
group_interval_s = 0
jitter_s = 0

[wechaty]
watchdog_s = {WATCHDOG_S}

[[groups]]
room = "{ROOM}"
topic = "幸福里3栋团购群"
leader = "{LEADER}"
route = "东线"
pickup_point = "幸福里3栋门口"

[[groups]]
room = "{ROOM2}"
topic = "阳光花园团购群"
leader = "{LEADER2}"
route = "西线"
""",
            "utf-8",
        )

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("WECHATY_") and k != "CACHE_DIR"
        }
        env.update(
            WECHATY_PUPPET_SERVICE_ENDPOINT=f"127.0.0.1:{self.gateway.grpc_port}",
            WECHATY_PUPPET_SERVICE_TOKEN=TOKEN,
            WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER="true",
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None
        self._log_from = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--config", str(self.config)],
            cwd=self.work,
            env=self.env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        """This run's log (from the last start)."""
        with self.log_path.open("rb") as fh:
            fh.seek(self._log_from)
            return fh.read().decode("utf-8", "replace")

    def logins(self) -> int:
        return self.log().count("logged in to WeChat")

    def reconnect_attempts(self) -> int:
        return self.log().count("connecting again")

    def wait_logged_in(self, count: int = 1, timeout: float = 30) -> float:
        """Wait for the `count`-th login of this run; the seconds it took."""
        began = time.monotonic()
        wait_for(lambda: self.logins() >= count or self._died(), timeout, f"login #{count}")
        assert self.running(), f"the bot exited:\n{self.log()[-3000:]}"
        return time.monotonic() - began

    def _died(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def interrupt(self, timeout: float = 30) -> tuple[float, int]:
        """Ctrl-C: the seconds until the process exited, and its exit code."""
        assert self.proc is not None
        began = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout)
        took = time.monotonic() - began
        self._close_log()
        return took, code

    def close(self) -> None:
        if self.proc is not None:
            _stop(self.proc, signal.SIGKILL, 5)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def orders(self) -> list[dict[str, Any]]:
        """`groupbuy orders --json`: every round with its active orders."""
        out = subprocess.run(
            [sys.executable, "-m", "bot.cli", "orders", "--json", "--config", str(self.config)],
            cwd=self.work,
            env=self.env(),
            capture_output=True,
            check=True,
            timeout=60,
        )
        return list(json.loads(out.stdout)["rounds"])

    def posters(self) -> list[str]:
        """Who posted each active order, straight from the database (cheap to poll; the
        `orders` command takes seconds to start)."""
        db = self.tmp / "bot.db"
        if not db.exists():
            return []
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            rows = conn.execute(
                "SELECT poster FROM entries WHERE status = 'active' ORDER BY round_id, pos"
            ).fetchall()
        return [poster for (poster,) in rows]
