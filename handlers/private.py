"""Private chat with the bot: admins ask for the day's figures and files, leaders for theirs.

- 汇总 [2026-11-23] (admin): totals per product across all groups and leaders ranked by sales;
- 导出 [2026-11-23] (admin; a leader gets their own groups): the delivery lists as xlsx;
- 团长 wxid_… [2026-11-23] (admin): one leader's groups and rounds;
- 月结 2026-11 (admin): per leader — rounds, sales, commission, cancellations, pickups;
- 统计 (leader): today's figures for the groups they lead;
- anything else: a short help, once per person (handlers/router.py writes it).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from handlers.charts import render_sales_chart
from handlers.commands import Command, Role
from handlers.exports import write_exports
from handlers.ledger import balance_texts
from handlers.payments import month_money, payment_lines
from handlers.reports import fmt, money_text
from handlers.router import Router
from models.context import Context
from models.messages import OutgoingMessage
from models.money import fen_str
from models.rounds import RoundCache
from models.store import deals as deal_store
from models.store.tally import monthly_reconciliation, sales_by_day, tally

router = Router()

_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
EXPORTS_DIR = Path("exports")


def _day(ctx: Context, cmd: Command) -> date | None:
    if not cmd.args:
        return ctx.now.astimezone(ctx.clock.tz).date()
    if not _DATE.match(cmd.args[0]):
        return None
    y, m, d = (int(x) for x in cmd.args[0].split("-"))
    try:
        return date(y, m, d)
    except ValueError:  # 2026-13-45: a usage line, not a crash
        return None


@router.command(
    "汇总", Role.ADMIN, "汇总 2026-11-23：当天各团汇总与团长排行", args="text", chat="private"
)
async def summary(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    day = _day(ctx, cmd)
    if day is None:
        ctx.reply("summary", "用法：汇总 2026-11-23", private=True)
        return
    report = await tally(ctx.conn, ctx.clock.tz, day)
    if not report.rounds:
        ctx.reply("summary", f"{day} 没有团。", private=True)
        return
    by_leader: dict[str, int] = {}
    for r in report.rounds:
        by_leader[r.leader or "?"] = by_leader.get(r.leader or "?", 0) + r.amount_fen
    ranking = sorted(by_leader.items(), key=lambda kv: kv[1], reverse=True)
    goods = "；".join(
        f"{name} {fmt(t)} ¥{fen_str(t.amount_fen)}" for name, t in report.products.items()
    )
    ranks = "\n".join(
        f"{n}. {leader} ¥{fen_str(fen)}" for n, (leader, fen) in enumerate(ranking, 1)
    )
    ctx.reply(
        "summary",
        f"【{day} 汇总】{len(report.rounds)}个团\n商品：{goods}\n团长排行：\n{ranks}",
        private=True,
    )


@router.command(
    "导出", Role.LEADER, "导出 2026-11-23：发回当天的配送清单 xlsx", args="text", chat="private"
)
async def export(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`导出 [date]`: all groups for an admin; a leader gets their own groups only."""
    day = _day(ctx, cmd)
    if day is None:
        ctx.reply("export", "用法：导出 2026-11-23", private=True)
        return
    report = await tally(ctx.conn, ctx.clock.tz, day)
    stem = f"团购-{day.isoformat()}"
    if role < Role.ADMIN:
        report = report.only_leader(ctx.msg.sender)
        stem += f"-{ctx.msg.sender}"  # never overwrite the full list an admin is being sent
    xlsx = write_exports(report, _folder(ctx), stem)[0]
    _send_file(ctx, "export", xlsx, f"{day} 配送清单、排序列表、总清单")


def _folder(ctx: Context) -> Path:
    """Where files for the chat are written: `exports/` beside the config file."""
    return EXPORTS_DIR if ctx.config.source is None else ctx.config.source.parent / "exports"


def _send_file(ctx: Context, key: str, path: Path, caption: str) -> None:
    ctx.say(
        OutgoingMessage(
            dedupe_key=f"{key}:{ctx.msg.id}",
            room=None,
            to=ctx.msg.sender,
            text=caption,
            file_path=str(path.resolve()),
        )
    )


@router.command(
    "团长", Role.ADMIN, "团长 wxid_xxx [日期]：一位团长的明细", args="text", chat="private"
)
async def leader_detail(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`团长 wxid_… [date]`: one leader's groups and rounds of the day, line by line."""
    leader = cmd.args[0] if cmd.args else ""
    groups = [g for g in ctx.groups.all() if g.leader == leader]
    if not groups:
        ctx.reply(
            "leader", f"没有团长 {leader or '（未写）'}。用法：团长 wxid_xxx [日期]", private=True
        )
        return
    day = _day(ctx, Command(cmd.verb, cmd.args[1:], cmd.prefixed))
    if day is None:
        ctx.reply("leader", "用法：团长 wxid_xxx 2026-11-23", private=True)
        return
    report = await tally(ctx.conn, ctx.clock.tz, day)
    mine = [r for r in report.rounds if r.leader == leader]
    lines = [f"【{leader} {day}】{'、'.join(g.topic for g in groups)}（{groups[0].route}）"]
    for r in mine:
        goods = "，".join(f"{n}{fmt(t)}¥{fen_str(t.amount_fen)}" for n, t in r.totals.items())
        lines.append(f"{r.title}［{r.status}］{goods or '暂无'}；{money_text(r)}")
    if not mine:
        lines.append("这一天没有团。")
    ctx.reply("leader", "\n".join(lines), private=True)


@router.command("统计", Role.LEADER, "统计：今天你的群的汇总", chat="private")
async def leader_tally(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    day = ctx.now.astimezone(ctx.clock.tz).date()
    report = await tally(ctx.conn, ctx.clock.tz, day)
    mine = [r for r in report.rounds if r.leader == ctx.msg.sender or (role >= Role.ADMIN)]
    if not mine:
        ctx.reply("tally", "今天你的群还没有团。", private=True)
        return
    paid = await payment_lines(ctx.conn, [r.id for r in mine])
    ctx.reply(
        "tally",
        "\n".join(f"{r.title}：{money_text(r)}\n收款：{paid[r.id]}" for r in mine),
        private=True,
    )


@router.command("月结", Role.ADMIN, "月结 2026-11：各团长的月度对账", args="text", chat="private")
async def monthly(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`月结 2026-11`: per leader — rounds, sales, commission, cancellations, pickups."""
    m = re.match(r"^(\d{4})-(\d{1,2})$", cmd.args[0]) if cmd.args else None
    if m is None or not 1 <= int(m.group(2)) <= 12:
        ctx.reply("monthly", "用法：月结 2026-11", private=True)
        return
    rows = await monthly_reconciliation(ctx.conn, ctx.clock.tz, int(m.group(1)), int(m.group(2)))
    if not rows:
        ctx.reply("monthly", f"{cmd.args[0]} 没有团。", private=True)
        return
    paid = await month_money(ctx, int(m.group(1)), int(m.group(2)))
    owed = await balance_texts(ctx.conn, [r.leader for r in rows])
    lines = [
        f"{r.leader}：{r.rounds}团，销售 ¥{fen_str(r.sales_fen)}，"
        f"佣金 ¥{fen_str(r.commission_fen)}，取消 {r.cancelled}，已取 {r.picked}/{r.orders}"
        + paid.get(r.leader, "")
        + owed.get(r.leader, "")
        for r in rows
    ]
    ctx.reply("monthly", f"【{cmd.args[0]} 月结】\n" + "\n".join(lines), private=True)


@router.command(
    "图表", Role.ADMIN, "图表 7：最近7天各团长每日销售额（图片）", args="numbers", chat="private"
)
async def chart(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`图表 [7]`: sales per day per leader over the last N days (default 7), as a PNG."""
    days = int(cmd.args[0]) if cmd.args and cmd.args[0].isdigit() else 7
    days = max(1, min(days, 92))
    last = ctx.now.astimezone(ctx.clock.tz).date()
    first = last - timedelta(days=days - 1)
    data = await sales_by_day(ctx.conn, ctx.clock.tz, first, last)
    png = render_sales_chart(data, first, last, _folder(ctx) / f"sales-{first}-{last}.png")
    _send_file(ctx, "chart", png, f"{first} 至 {last} 各团长每日销售额")


@router.command(
    "推送", Role.ADMIN, "推送 团购key：把 deals 文件里的团购马上推送", args="text", chat="private"
)
async def push(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`推送 2026-11-23-fruit`: post a deal from the deals file now, to its groups, once each."""
    deal = await deal_store.find(ctx.conn, cmd.args[0]) if cmd.args else None
    if deal is None:
        keys = "、".join(d.key for d in await deal_store.pending(ctx.conn, ctx.now))
        ctx.reply("push", f"没有这个团购。可推送：{keys or '（deals 文件里没有）'}", private=True)
        return
    if deal.cutoff_at <= ctx.now:
        ctx.reply("push", f"「{deal.title}」已过截单时间。", private=True)
        return
    # Due now: the audit log (this message's own row, written by the router) says an admin
    # pushed it, and the next scheduler tick posts it, once per group.
    n = len(deal.targets(ctx.groups.all()))
    ctx.reply(
        "push", f"「{deal.title}」将在几秒内推送到{n}个群（已推送过的群不会重复）。", private=True
    )
