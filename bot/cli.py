"""The `groupbuy` command: run the bot, replay transcripts, parse chains, read orders."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.clock import Clock, ManualClock
from models.config import Config, ConfigError, load_config

if TYPE_CHECKING:  # each command imports what it needs when it runs: `--help` stays fast
    from aiohttp import web

    from bot.app import App
    from bot.outbox import SendFn

DEMO_DIR = Path(__file__).resolve().parent / "demo"


def _build_app(config: Config, clock: Clock | None = None, *, limited: bool = False) -> App:
    from bot.app import build_app

    return build_app(config, clock, limited=limited)


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config).with_database(getattr(args, "db", None))


def cmd_parse(args: argparse.Namespace) -> int:
    from handlers.parsing.chain_parser import parse_chain

    text = sys.stdin.read() if args.file in (None, "-") else Path(args.file).read_text("utf-8")
    print(json.dumps(parse_chain(text).to_json(), ensure_ascii=False, indent=2))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.tools.corpus_eval import evaluate, print_report

    report = evaluate(Path(args.folder))
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print_report(report, show_misses=not args.quiet)
    return 0


async def _replay(config: Config, transcript: Path, emit: Any) -> int:
    from bot.adapters.replay import load_events, replay

    errors: list[str] = []
    events = load_events(transcript, config.timezone, errors)
    for error in errors:  # a bad line is skipped and named; the replay goes on
        print(f"groupbuy replay: {transcript}: {error}", file=sys.stderr)
    if not events:
        return 0
    clock = ManualClock(events[0].ts, config.timezone)
    app = _build_app(config, clock)
    try:
        await app.start()
        return await replay(app, events, emit)
    finally:
        await app.close()


def cmd_replay(args: argparse.Namespace) -> int:
    from bot.adapters.replay import print_json

    asyncio.run(_replay(_config(args), Path(args.transcript), print_json))
    return 0


async def _orders(config: Config) -> list[dict[str, object]]:
    from models.store.tally import orders_report

    app = _build_app(config)
    try:
        await app.db.upgrade()
        async with app.db.connect() as conn:
            return await orders_report(conn)
    finally:
        await app.close()


def print_orders_human(rounds: list[dict[str, Any]]) -> None:
    for r in rounds:
        print(f"\n== 第{r['id']}团 {r['title']} [{r['room']}] {r['status']} ==")
        for n, o in enumerate(r["orders"], 1):
            items = "，".join(
                f"{i['product'] or '（未写商品）'}×{i['qty']}{i['unit'] or ''}" for i in o["items"]
            )
            flags = f"  ⚠ {','.join(o['flags'])}" if o["flags"] else ""
            print(f"{n:>3}. {o['name']}：{items or '（无商品）'}  (接龙人 {o['poster']}){flags}")


def cmd_orders(args: argparse.Namespace) -> int:
    rounds = asyncio.run(_orders(_config(args)))
    if args.json:
        print(json.dumps({"rounds": rounds}, ensure_ascii=False, indent=2))
    else:
        print_orders_human(rounds)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Replay the built-in demo day, printing the bot's words and the final orders."""
    config = load_config(DEMO_DIR / "config.toml")
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.db:
        config = config.with_database(args.db)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="groupbuy-demo-")
        config = config.with_database(f"sqlite+aiosqlite:///{tmp.name}/demo.db")

    def emit(rec: dict[str, Any]) -> None:
        ts = datetime.fromisoformat(rec["ts"]).astimezone(config.timezone)
        where = f"群 {rec['room']}" if rec["room"] else f"私聊 {rec['to']}"
        at = f" @{rec['to']}" if rec["room"] and rec["to"] else ""
        print(f"\n[{ts:%m-%d %H:%M:%S}] 🤖 → {where}{at}\n{rec['text']}")

    try:
        print("== 演示：一个团长群的一天（内置接龙记录重放）==")
        sent = asyncio.run(_replay(config, DEMO_DIR / "day.jsonl", emit))
        print(f"\n机器人共发出 {sent} 条消息。最终订单：")
        print_orders_human(asyncio.run(_orders(config)))
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


async def _tally(config: Config, day: date | None) -> dict[str, object]:
    from handlers.reports import tally_report

    app = _build_app(config)
    try:
        await app.db.upgrade()
        async with app.db.connect() as conn:
            return await tally_report(conn, config, day)
    finally:
        await app.close()


async def _export(config: Config, day: date, out: Path) -> list[Path]:
    from handlers.day_export import export_day

    app = _build_app(config)
    try:
        await app.db.upgrade()
        async with app.db.connect() as conn:
            return await export_day(conn, config, day, out, f"团购-{day.isoformat()}")
    finally:
        await app.close()


def print_tally_human(report: dict[str, Any]) -> None:
    for r in report["rounds"]:
        print(
            f"\n== 第{r['id']}团 {r['title']} [{r['room']}] 团长 {r['leader_name']}"
            f" 线路 {r['route']} {r['status']} =="
        )
        for name, t in r["totals"].items():
            print(f"  {name}：{t['qty']}{t['unit'] or ''}  ¥{t['amount']}")
        print(
            f"  合计 ¥{r['amount']}  佣金 ¥{r['commission']}"
            f"  已取 {r['picked']}  待取 {r['waiting']}"
            + (f"  退款 ¥{r['refunds']}" if r.get("refunds", "0.00") != "0.00" else "")
        )
    if report["products"]:
        print("\n== 全部商品 ==")
        for name, t in report["products"].items():
            print(f"  {name}：{t['qty']}{t['unit'] or ''}  ¥{t['amount']}")


def cmd_tally(args: argparse.Namespace) -> int:
    day = date.fromisoformat(args.date) if args.date else None
    report = asyncio.run(_tally(_config(args), day))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_tally_human(report)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    day = date.fromisoformat(args.date)
    for path in asyncio.run(_export(_config(args), day, Path(args.out))):
        print(path)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.tools.bench import print_human, run_bench

    result = asyncio.run(run_bench(args.quick, args.db))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_human(result)
    return 0


async def _console(config: Config) -> None:
    from bot.adapters.console import ConsoleAdapter

    clock = ManualClock(datetime.now(config.timezone), config.timezone)
    app = _build_app(config, clock, limited=True)
    await app.start()
    console = ConsoleAdapter(app)
    await _serve(app, console.send, console.run)


async def _serve(app: App, send: SendFn, run: Callable[[], Awaitable[None]]) -> None:
    """What every live adapter shares around its own loop: the scheduler's ticks, the
    optional HTTP API, and a clean stop."""
    scheduler = app.start_scheduler(send)
    runners = await _start_http(app)
    try:
        await run()
    finally:
        scheduler.shutdown(wait=False)
        for runner in runners:
            await runner.cleanup()
        await app.close()


async def _start_http(app: App) -> list[web.AppRunner]:
    """The HTTP API when [http] enabled = true; the dashboard (with the API) when [web] is."""
    from aiohttp import web

    from bot.http_api import make_web_app

    runners = []
    if app.config.http.enabled:
        runner = web.AppRunner(make_web_app(app, app.config.http.token))
        await runner.setup()
        await web.TCPSite(runner, app.config.http.host, app.config.http.port).start()
        runners.append(runner)
    if app.config.web.enabled:
        from bot.web.dashboard import add_dashboard

        web_app = make_web_app(app, app.config.web.token)
        add_dashboard(web_app)
        runner = web.AppRunner(web_app)
        await runner.setup()
        await web.TCPSite(runner, app.config.web.host, app.config.web.port).start()
        runners.append(runner)
        print(f"团购后台：http://{app.config.web.host}:{app.config.web.port}/", file=sys.stderr)
    return runners


async def _wechaty(config: Config, make_bot: Any = None) -> None:
    """The live bot: the WeChat adapter, the scheduler's ticks, and the optional HTTP API."""
    from bot.adapters.wechaty import WechatyAdapter

    app = _build_app(config, limited=True)
    await app.start()
    adapter = WechatyAdapter(app, config.wechaty, make_bot)
    await _serve(app, adapter.send, adapter.run)


def cmd_run(args: argparse.Namespace) -> int:
    config = _config(args)
    live = config.adapter == "wechaty"  # the console is for people: only problems are logged
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "verbose", False):  # main() set WARNING, and basicConfig keeps it
        logging.getLogger().setLevel(logging.INFO if live else logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per 5-second tick
    try:
        if config.adapter == "wechaty":
            asyncio.run(_wechaty(config))
        else:
            asyncio.run(_console(config))
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0


async def _sim(config: Config, args: argparse.Namespace, token: str) -> None:
    """The simulator: the bot with the browser's chat in place of WeChat, and the dashboard."""
    import secrets

    from aiohttp import web

    from bot.adapters.web_sim import SimChat
    from bot.http_api import TOKEN_KEY, make_web_app
    from bot.web.dashboard import add_dashboard
    from bot.web.simulator import add_simulator
    from models.clock import MovableClock
    from scheduler.runner import start_scheduler

    start = datetime.fromisoformat(args.start) if args.start else datetime.now(config.timezone)
    aware = start if start.tzinfo else start.replace(tzinfo=config.timezone)
    clock = MovableClock(aware, config.timezone)
    app = _build_app(config, clock, limited=args.limits)
    await app.start()
    sim = SimChat(app)
    web_app = make_web_app(app, token or secrets.token_urlsafe(18))
    add_dashboard(web_app)
    add_simulator(web_app, sim)
    runner = web.AppRunner(web_app)
    await runner.setup()
    scheduler = start_scheduler(sim.tick, config.timezone, seconds=2)
    try:
        await web.TCPSite(runner, args.host, args.port).start()
        port = runner.addresses[0][1] if args.port == 0 else args.port
        print(f"模拟器已启动：打开 http://{args.host}:{port}/sim", flush=True)
        print(f"后台登录口令：{web_app[TOKEN_KEY]}", flush=True)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print("注意：模拟器的聊天接口不需要登录，只应在自己的电脑上开放。", flush=True)
        await asyncio.Event().wait()  # until Ctrl+C
    finally:
        scheduler.shutdown(wait=False)
        await runner.cleanup()
        await app.close()


def cmd_sim(args: argparse.Namespace) -> int:
    """`groupbuy sim`: on the demo config and a throwaway SQLite file unless told otherwise."""
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.config:
        config = _config(args)
    else:
        config = load_config(DEMO_DIR / "config.toml")
        if args.db:
            config = config.with_database(args.db)
        else:
            tmp = tempfile.TemporaryDirectory(prefix="groupbuy-sim-")
            config = config.with_database(f"sqlite+aiosqlite:///{tmp.name}/sim.db")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        asyncio.run(_sim(config, args, config.web.token))
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


async def _migrate(config: Config) -> None:
    app = _build_app(config)
    try:
        await app.db.upgrade()
    finally:
        await app.close()


def cmd_migrate(args: argparse.Namespace) -> int:
    asyncio.run(_migrate(_config(args)))
    print(f"database at {_config(args).database_url} is at the newest schema")
    return 0


def _database_hint(args: argparse.Namespace, exc: BaseException) -> str:
    """One line for a database that cannot be used: the URL given, or the config's."""
    from models.db import describe_database_error

    url = getattr(args, "db", None) or ""
    if not url and getattr(args, "config", None):
        try:
            url = load_config(args.config).database_url
        except Exception:
            url = ""
    return describe_database_error(url, exc)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="groupbuy", description="WeChat 接龙 group-buying bot")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("parse", help="parse one chain message and print it as JSON")
    s.add_argument("file", nargs="?", help="a file with the message, or - for stdin")
    s.set_defaults(func=cmd_parse)

    s = sub.add_parser("eval", help="score the parser on annotated chains (expected.jsonl)")
    s.add_argument("folder", help="a corpus folder, searched for expected.jsonl files")
    s.add_argument("--json", action="store_true", help="print the scores and misses as JSON")
    s.add_argument("--quiet", action="store_true", help="print the score table only")
    s.set_defaults(func=cmd_eval)

    def with_config(s: argparse.ArgumentParser) -> None:
        s.add_argument("--config", required=True, help="the TOML config file")
        s.add_argument("--db", help="database URL, overriding [database] url")

    s = sub.add_parser("replay", help="feed a transcript (JSON lines) and print what the bot says")
    s.add_argument("transcript")
    with_config(s)
    s.set_defaults(func=cmd_replay)

    s = sub.add_parser("orders", help="print every round with its active orders")
    with_config(s)
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_orders)

    s = sub.add_parser("tally", help="totals per round, product and route, with amounts")
    with_config(s)
    s.add_argument("--date", help="only rounds whose cutoff falls on this day (YYYY-MM-DD)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_tally)

    s = sub.add_parser("export", help="write the delivery lists (xlsx and CSV) for one day")
    with_config(s)
    s.add_argument("--date", required=True, help="the day whose rounds to export (YYYY-MM-DD)")
    s.add_argument("--out", required=True, help="the folder to write into")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("bench", help="measure parse, ingest, growth, cutoff and broadcast")
    s.add_argument("--quick", action="store_true", help="a smaller load, under a minute")
    s.add_argument("--json", action="store_true", help="one JSON object, for tracking")
    s.add_argument("--db", help="database URL (default: a throwaway SQLite file)")
    s.set_defaults(func=cmd_bench)

    s = sub.add_parser("demo", help="replay a built-in demo day on a throwaway SQLite database")
    s.add_argument("--db", help="keep the demo in this database instead")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("run", help="run the bot with the adapter named in the config")
    with_config(s)
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("sim", help="try the bot in a browser: chats side by side and the dashboard")
    s.add_argument("--config", help="the TOML config file (default: the built-in demo)")
    s.add_argument("--db", help="database URL (default: a throwaway SQLite file)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on")
    s.add_argument("--port", type=int, default=8765, help="port to listen on (0: any free one)")
    s.add_argument("--start", help="the bot's clock at start, like 2026-11-23T08:00")
    s.add_argument("--limits", action="store_true", help="apply the [sender] budgets")
    s.set_defaults(func=cmd_sim)

    s = sub.add_parser("migrate", help="bring the database to the newest schema")
    with_config(s)
    s.set_defaults(func=cmd_migrate)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"groupbuy: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from models.db import is_database_error

        if not is_database_error(exc):
            raise
        print(f"groupbuy: {_database_hint(args, exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
