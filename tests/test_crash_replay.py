"""Crashes: a real `groupbuy replay` process is killed (SIGKILL) at random points of a day —
mid-push of a deal to every group, in a chain burst, mid-push of an admin's 推送, at 截单 —
and restarted on the same database until the transcript is done. The final orders, tallies
and the messages sent equal an uninterrupted run's: nothing lost, nothing doubled.

What "sent" means across a kill: the replay prints a message, then marks its outbox row sent.
A kill between the two leaves the row 'sending', and the restart sends it again (the outbox's
documented at-least-once window, bot/outbox.py `recover_claimed`). So the check is exact:
every message of the clean run is printed, and the only repeats are rows that were in flight
when a kill landed — at most one per kill. Every other repeat or loss fails the test.

On SQLite and on PostgreSQL (a throwaway database per test, since `--db` takes a URL).
GROUPBUY_SOAK=1 plays a bigger day with more kills.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.app import build_app
from bot.cli import main
from models.clock import ManualClock
from models.config import Config
from models.db import Database
from models.messages import ChatMessage
from tests.busy_day import busy_day, deal_bot, room
from tests.chains import Chain
from tests.chat import ADMIN, ChatHarness
from tests.conftest import PG_URL, make_config, make_harness, split_schema

REPO = Path(__file__).resolve().parents[1]
GROUPBUY = str(REPO / ".venv" / "bin" / "groupbuy")
DEMO_CONFIG = REPO / "bot" / "demo" / "config.toml"
DEMO_DAY = REPO / "bot" / "demo" / "day.jsonl"
SOAK = bool(os.environ.get("GROUPBUY_SOAK"))
GROUPS, BURST, ROUNDS = (120, 600, 3) if SOAK else (16, 80, 1)

Record = dict[str, Any]
Sent = tuple[str | None, str | None, str]  # room, to, text


@dataclass(frozen=True)
class Kill:
    """Kill the process at the `nth` printed message matching `marker`, `delay` seconds later."""

    where: str
    marker: Callable[[Record], bool]
    nth: int = 1
    delay: float = 0.0


@dataclass
class Run:
    printed: list[Record]
    killed: bool
    in_flight: list[Sent] = field(default_factory=list)  # rows left 'sending' by the kill
    handled: int = 0  # inbound messages stored when it stopped
    where: str = ""


class Child:
    """A `groupbuy` process: the real console script, or (to spare the 1.7 s of imports each
    start costs on this machine) a fork of this already-imported process that runs the same
    `bot.cli.main`. Either way its own process, with its own database connections, that
    SIGKILL ends without a chance to clean up."""

    def __init__(self, argv: list[str], *, forked: bool) -> None:
        self.popen: subprocess.Popen[bytes] | None = None
        if not forked:
            env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
            self.popen = subprocess.Popen(
                [GROUPBUY, *argv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
            )
            assert self.popen.stdout is not None
            self.pid, self.stdout = self.popen.pid, self.popen.stdout
            return
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: stdout is the pipe, then exactly what `groupbuy` does
            code = 1
            try:
                os.close(read)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                sys.stdout = open(write, "w", encoding="utf-8")  # noqa: SIM115
                code = main(argv)
                sys.stdout.flush()
            finally:
                os._exit(code)
        os.close(write)
        self.pid, self.stdout = pid, open(read, "rb")  # noqa: SIM115

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self) -> int:
        """The exit code, or -9 when SIGKILL ended it."""
        self.stdout.close()
        if self.popen is not None:
            return self.popen.wait()
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def replay_once(
    transcript: Path, config: Path, db_url: str, kill: Kill | None, *, forked: bool = not SOAK
) -> Run:
    """One `groupbuy replay` process, killed as `kill` says (if it gets that far)."""
    proc = Child(
        ["replay", str(transcript), "--config", str(config), "--db", db_url], forked=forked
    )
    seen = 0
    printed: list[Record] = []
    timer: threading.Timer | None = None
    for raw in proc.stdout:
        if not raw.endswith(b"\n"):
            break  # cut mid-write by the kill: not sent (its row is still 'sending')
        record: Record = json.loads(raw)
        printed.append(record)
        if kill is not None and timer is None and kill.marker(record):
            seen += 1
            if seen == kill.nth:
                timer = threading.Timer(kill.delay, proc.kill)
                timer.start()
    if timer is not None:
        timer.join()
    code = proc.wait()
    killed = code == -signal.SIGKILL
    assert killed or code == 0, f"groupbuy replay exited with {code}"
    return Run(printed, killed, where=kill.where if kill and killed else "")


async def _scalars(db_url: str, sql: str) -> list[Any]:
    db = Database(db_url)
    try:
        async with db.connect() as conn:
            return list((await conn.execute(text(sql))).all())
    finally:
        await db.dispose()


def db_state(db_url: str) -> tuple[list[Sent], int]:
    """Rows a kill left 'sending' (as the replay prints them) and inbound messages stored."""
    rows = asyncio.run(
        _scalars(
            db_url,
            "SELECT room, to_contact, mentions, text FROM outbox WHERE status = 'sending'",
        )
    )
    [(handled,)] = asyncio.run(_scalars(db_url, "SELECT count(*) FROM messages"))
    in_flight: list[Sent] = []
    for where, to, mentions, body in rows:
        if where is not None:  # in a group, `to` is whom the message @-mentions
            mentioned = json.loads(mentions) if isinstance(mentions, str) else mentions
            to = mentioned[0] if mentioned else None
        in_flight.append((where, to, body))
    return in_flight, int(handled)


def sent_key(r: Record) -> Sent:
    return (r["room"], r["to"], r["text"])


def without_ids(obj: Any) -> Any:
    """Round ids may differ after a crash on PostgreSQL (a killed transaction uses up sequence
    numbers); everything else must be equal."""
    if isinstance(obj, dict):
        return {k: without_ids(v) for k, v in obj.items() if k != "id"}
    if isinstance(obj, list):
        return [without_ids(v) for v in obj]
    return obj


def cli_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()
    assert main(args) == 0
    return without_ids(json.loads(capsys.readouterr().out))


def final_state(config: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> Any:
    return (
        cli_json(["orders", "--config", str(config), "--db", db_url, "--json"], capsys),
        cli_json(["tally", "--config", str(config), "--db", db_url, "--json"], capsys),
        asyncio.run(_scalars(db_url, "SELECT status, count(*) FROM outbox GROUP BY status")),
    )


def clean_run(transcript: Path, config: Path, db_url: str) -> list[Record]:
    run = replay_once(transcript, config, db_url, None, forked=False)  # the console script
    assert not run.killed
    return run.printed


def crashed_runs(transcript: Path, config: Path, db_url: str, kills: list[Kill]) -> list[Run]:
    """Run, kill, restart on the same database, … until a run gets to the end."""
    runs: list[Run] = []
    for kill in [*kills, None]:
        run = replay_once(transcript, config, db_url, kill)
        if run.killed:
            run.in_flight, run.handled = db_state(db_url)
        runs.append(run)
    while runs[-1].killed:  # the last kill plan may have landed in the final run's place
        runs.append(replay_once(transcript, config, db_url, None))
    return runs


def check_nothing_lost_nothing_doubled(clean: list[Record], runs: list[Run]) -> int:
    """Returns how many in-flight messages a restart sent again (at most one per kill)."""
    printed = [r for run in runs for r in run.printed]
    want, got = Counter(map(sent_key, clean)), Counter(map(sent_key, printed))
    lost = want - got
    extra = got - want
    in_flight = Counter(s for run in runs for s in run.in_flight)
    assert not lost, f"lost {sum(lost.values())} message(s): {summary(lost)}"
    assert not (extra - in_flight), f"doubled, not in flight: {summary(extra - in_flight)}"
    assert sum(extra.values()) <= sum(run.killed for run in runs)
    # Each message went out at the same moment of the day as in the clean run.
    assert {json.dumps(r, sort_keys=True) for r in clean} <= {
        json.dumps(r, sort_keys=True) for r in printed
    }
    return sum(extra.values())


def summary(c: Counter[Sent]) -> str:
    return "; ".join(
        f"{n}× {room or 'to ' + str(to)}: {t[:60]!r}" for (room, to, t), n in c.items()
    )


def starts(prefix: str, *also: str) -> Callable[[Record], bool]:
    return lambda r: r["text"].startswith(prefix) and all(a in r["text"] for a in also)


def kill_plan(groups: int, rng: random.Random) -> list[Kill]:
    """Random points of the busy day, in the order the day reaches them."""
    return [
        Kill("mid scheduled push", starts("#接龙", "水果团"), rng.randint(2, groups - 2)),
        Kill("in the chain burst", starts("管理员命令"), 1, rng.uniform(0.05, 0.5)),
        Kill("around the admin's push", starts("【2026年11月 月结】"), 1, rng.uniform(0.0, 0.12)),
        Kill("closing at 截单", starts("【2026-11-23 汇总】"), 1, rng.uniform(0.0, 0.1)),
        Kill("sending the final lists", starts("【已截单】"), rng.randint(1, groups - 1)),
    ]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """A factory of empty databases on one backend (PostgreSQL: a throwaway database each)."""
    if request.param == "sqlite":
        yield lambda name: f"sqlite+aiosqlite:///{tmp_path}/{name}.db"
        return
    made: list[str] = []

    def admin(sql: str) -> None:
        import asyncpg  # type: ignore[import-untyped]

        async def go() -> None:
            conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(go())

    try:
        admin("SELECT 1")
    except OSError as exc:
        reason = f"PostgreSQL at {PG_URL} is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)

    def make(name: str) -> str:
        db = f"crash_{uuid.uuid4().hex[:10]}_{name}"
        admin(f'CREATE DATABASE "{db}"')
        made.append(db)
        return PG_URL.rsplit("/", 1)[0] + f"/{db}"

    try:
        yield make
    finally:
        for db in made:
            admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def report(label: str, messages: int, runs: list[Run], resent: int) -> None:
    kills = [f"{r.where} (after {r.handled} messages)" for r in runs if r.killed]
    print(
        f"\n[reliability] {label}: {messages} messages replayed, {len(kills)} kills survived, "
        f"{resent} in-flight message(s) sent again: {'; '.join(kills)}"
    )


@pytest.mark.parametrize("seed", range(ROUNDS))
def test_busy_day_killed_at_random_points_ends_as_if_never_killed(
    database: Callable[[str], str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    seed: int,
) -> None:
    day = busy_day(GROUPS, BURST, seed)
    transcript, config = day.write(tmp_path)
    clean_db, crash_db = database("clean"), database("crashed")

    clean = clean_run(transcript, config, clean_db)
    runs = crashed_runs(transcript, config, crash_db, kill_plan(GROUPS, random.Random(seed)))

    assert sum(r.killed for r in runs) >= 3  # the points were reached: this was a crash test
    resent = check_nothing_lost_nothing_doubled(clean, runs)
    assert final_state(config, crash_db, capsys) == final_state(config, clean_db, capsys)
    with capsys.disabled():
        report(f"busy day {GROUPS} groups, seed {seed}", day.messages, runs, resent)


def test_demo_day_killed_twice_ends_as_if_never_killed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(7)
    url = f"sqlite+aiosqlite:///{tmp_path}/demo.db"
    clean = clean_run(DEMO_DAY, DEMO_CONFIG, f"sqlite+aiosqlite:///{tmp_path}/clean.db")
    kills = [
        Kill("after the fork's merged chain", starts("有几条接龙被后面的复制漏掉了")),
        Kill("at 截单", lambda r: r["text"].startswith("【已截单】"), 1, rng.uniform(0, 0.02)),
    ]
    runs = crashed_runs(DEMO_DAY, DEMO_CONFIG, url, kills)
    resent = check_nothing_lost_nothing_doubled(clean, runs)
    assert final_state(DEMO_CONFIG, url, capsys) == final_state(
        DEMO_CONFIG, f"sqlite+aiosqlite:///{tmp_path}/clean.db", capsys
    )
    messages = sum(1 for ln in DEMO_DAY.read_text("utf-8").splitlines() if '"message"' in ln)
    with capsys.disabled():
        report("demo day", messages, runs, resent)


# Minimal reproductions of what the random kills above can hit, without a subprocess: a crash
# is an App closed at a chosen point and a new App started on the same database.


async def restarted(bot: ChatHarness, db_url: str, config: Config | None = None) -> ChatHarness:
    """The bot process dies and a new one starts on the same database, at the same moment."""
    await bot.app.close()
    base, schema = split_schema(db_url)
    cfg = (config or make_config(base)).with_database(base)
    again = ChatHarness(build_app(cfg, bot.clock, pg_schema=schema), bot.clock)
    again._ids = bot._ids  # WeChat message ids go on; they do not start again with the bot
    await again.app.start()
    return again


@pytest.mark.parametrize("restart", [False, True])
async def test_a_restart_between_two_forks_still_sends_one_merged_chain(
    db_url: str, restart: bool
) -> None:
    bot = await make_harness(db_url)
    v0 = Chain()
    await bot.post("团长", v0.text)
    await bot.post("张三", v0.add("张三 苹果1份").text)
    await bot.post("李四", v0.add("李四 苹果2份").text)  # a fork: 张三's line is left out
    if restart:
        bot = await restarted(bot, db_url)  # the merged chain is still held back (20 s)
    bot.clock.advance(timedelta(seconds=5))
    await bot.post("王五", v0.add("王五 香蕉1").text)  # another fork, inside those 20 s
    await bot.flush()
    merged = [t for t in bot.group_texts() if t.startswith("有几条接龙")]
    await bot.app.close()
    assert len(merged) == 1, merged  # one merged chain for the burst, restart or not
    assert all(n in merged[0] for n in ("张三", "李四", "王五"))


async def test_a_crash_right_after_an_admin_push_still_posts_to_every_group(
    db_url: str, tmp_path: Path
) -> None:
    bot, config = await deal_bot(db_url, tmp_path, groups=3)
    await bot.app.feed(  # `推送` is handled and committed; the process dies before its next tick
        ChatMessage("push-1", None, ADMIN, "管理员", "推送 rice-1126", bot.clock.now())
    )
    bot = await restarted(bot, db_url, config)
    await bot.at("08:01")
    heads = [s.room for s in bot.said if s.text.startswith("#接龙") and "五常大米" in s.text]
    await bot.app.close()
    assert heads == [room(g) for g in range(3)]


async def test_a_replay_restarted_from_the_top_posts_a_push_at_its_own_time(
    db_url: str, tmp_path: Path
) -> None:
    """`groupbuy replay` restarts its clock at the transcript's first event: a push read back
    from the database must still wait for the moment it was given (found by the kill test)."""
    bot, config = await deal_bot(db_url, tmp_path, groups=2)
    _, schema = split_schema(db_url)
    start = bot.clock.now()
    await bot.at("12:00")
    push = ChatMessage("push-1", None, ADMIN, "管理员", "推送 rice-1126", bot.clock.now())
    await bot.app.feed(push)  # committed; the process dies before its next tick
    await bot.app.close()

    clock = ManualClock(start, bot.clock.tz)  # the transcript starts over, at 08:00
    again = ChatHarness(build_app(config, clock, pg_schema=schema), clock)
    await again.app.start()
    await again.at("09:00")
    await again.at("12:00")
    await again.app.close()
    heads = [s for s in again.said if s.text.startswith("#接龙") and "五常大米" in s.text]
    assert [(s.room, s.ts.strftime("%H:%M")) for s in heads] == [
        (room(0), "12:00"),
        (room(1), "12:00"),
    ]
