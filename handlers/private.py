"""Private chat with the bot: admins ask for the day's figures and files, leaders for theirs.

- 汇总 [11月23日] (admin): totals per product across all groups and leaders ranked by sales;
- 导出 [11月23日] (admin; a leader gets their own groups): the delivery and sorting lists as
  xlsx;
- 团长 <name> [11月23日] (admin): one leader's groups and rounds;
- 月结 [2026年11月] (admin; this month when none is said): per leader — rounds, sales,
  commission, cancellations, pickups;
Leaders are named as people know them (handlers/people.py), never by contact id.
- 统计 (leader): today's figures for the groups they lead;
- anything else: a short help, once per person (handlers/router.py writes it).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from pathlib import Path

from handlers.charts import render_sales_chart
from handlers.commands import Command, Role
from handlers.day_export import export_day
from handlers.ledger import balance_texts
from handlers.parsing.dates import parse_day, parse_month
from handlers.payments import month_money, payment_lines
from handlers.people import find_leader, leader_names, named_tally, unnamed
from handlers.reports import fmt, money_text, refunds_by_round, status_word
from handlers.router import Router
from models.context import Context
from models.messages import OutgoingMessage
from models.money import fen_str
from models.rounds import RoundCache
from models.store import deals as deal_store
from models.store.tally import monthly_reconciliation, sales_by_day, tally

router = Router()

EXPORTS_DIR = Path("exports")


def _today(ctx: Context) -> date:
    return ctx.now.astimezone(ctx.clock.tz).date()


def _day(ctx: Context, cmd: Command) -> date | None:
    """Today, or the day written (`2026-11-23`, `11月23日`); None for words that name no day
    (`2026-13-45`: a usage line, not a crash)."""
    return parse_day(cmd.args[0], _today(ctx)) if cmd.args else _today(ctx)


@router.command(
    "汇总", Role.ADMIN, "汇总 11月23日：当天各团汇总与团长排行", args="text", chat="private"
)
async def summary(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    day = _day(ctx, cmd)
    if day is None:
        ctx.reply("summary", "用法：汇总 11月23日", private=True)
        return
    report = await named_tally(ctx.conn, ctx.config, day)
    if not report.rounds:
        ctx.reply("summary", f"{day} 没有团。", private=True)
        return
    by_leader: dict[str, int] = {}
    names: dict[str, str] = {}
    for r in report.rounds:
        key = r.leader or r.room
        by_leader[key] = by_leader.get(key, 0) + r.amount_fen
        names[key] = r.leader_name or unnamed(r.title)
    ranking = sorted(by_leader.items(), key=lambda kv: kv[1], reverse=True)
    goods = "；".join(
        f"{name} {fmt(t)} ¥{fen_str(t.amount_fen)}" for name, t in report.products.items()
    )
    ranks = "\n".join(
        f"{n}. {names[leader]} ¥{fen_str(fen)}" for n, (leader, fen) in enumerate(ranking, 1)
    )
    ctx.reply(
        "summary",
        f"【{day} 汇总】{len(report.rounds)}个团\n商品：{goods}\n团长排行：\n{ranks}",
        private=True,
    )


@router.command(
    "导出",
    Role.LEADER,
    "导出 11月23日：发回当天的配送清单和分拣单（表格）",
    args="text",
    chat="private",
)
async def export(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`导出 [date]`: all groups for an admin; a leader gets their own groups only."""
    day = _day(ctx, cmd)
    if day is None:
        ctx.reply("export", "用法：导出 11月23日", private=True)
        return
    stem = f"团购-{day.isoformat()}"
    leader = None
    if role < Role.ADMIN:
        leader = ctx.msg.sender
        # The file's name is what the leader sees in WeChat: their name, not their contact
        # id; a short digest of the id keeps two 李姐 (and the admin's full list) apart.
        digest = hashlib.sha1(leader.encode("utf-8", "surrogatepass")).hexdigest()[:6]
        stem += f"-{_file_safe(ctx.msg.sender_name)}-{digest}"
    xlsx = (await export_day(ctx.conn, ctx.config, day, _folder(ctx), stem, leader=leader))[0]
    _send_file(ctx, "export", xlsx, f"{day} 配送清单、分拣单、每户应付、总清单")


def _file_safe(name: str) -> str:
    """A display name fit for a file name: no path separators or characters Windows refuses."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "", name).strip(". ")[:32] or "团长"


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
    "团长", Role.ADMIN, "团长 李姐 [11月23日]：一位团长的明细", args="text", chat="private"
)
async def leader_detail(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`团长 <name> [date]`: one leader's groups and rounds of the day, line by line (the
    leader named as shown in 汇总, or by contact id)."""
    names = await leader_names(ctx.conn, ctx.config, ctx.groups.all())
    leader = find_leader(names, cmd.args[0]) if cmd.args else None
    if leader is None:
        known = "、".join(sorted(set(names.values())))
        ctx.reply(
            "leader",
            f"没有团长「{cmd.args[0] if cmd.args else ''}」。"
            f"用法：团长 名字 [日期]；团长有：{known}",
            private=True,
        )
        return
    groups = [g for g in ctx.groups.all() if g.leader == leader]
    day = _day(ctx, Command(cmd.verb, cmd.args[1:], cmd.prefixed))
    if day is None:
        ctx.reply("leader", "用法：团长 名字 11月23日", private=True)
        return
    report = await tally(ctx.conn, ctx.clock.tz, day)
    mine = [r for r in report.rounds if r.leader == leader]
    refunds = refunds_by_round(report)
    lines = [f"【{names[leader]} {day}】{'、'.join(g.topic for g in groups)}（{groups[0].route}）"]
    for r in mine:
        goods = "，".join(f"{n}{fmt(t)}¥{fen_str(t.amount_fen)}" for n, t in r.totals.items())
        money = money_text(r, refunds.get(r.id, 0))
        lines.append(f"{r.title}［{status_word(r.status)}］{goods or '暂无'}；{money}")
    if not mine:
        lines.append("这一天没有团。")
    ctx.reply("leader", "\n".join(lines), private=True)


@router.command("统计", Role.LEADER, "统计：今天（和昨天截单）的团的汇总与收款", chat="private")
async def leader_tally(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`统计`: today's rounds and yesterday's, whose goods arrive and money comes in today."""
    day = ctx.now.astimezone(ctx.clock.tz).date()
    mine = []
    for d in (day - timedelta(days=1), day):
        report = await tally(ctx.conn, ctx.clock.tz, d)
        mine += [r for r in report.rounds if r.leader == ctx.msg.sender or (role >= Role.ADMIN)]
    if not mine:
        ctx.reply("tally", "今天和昨天你的群都没有团。", private=True)
        return
    paid = await payment_lines(ctx.conn, [r.id for r in mine])
    ctx.reply(
        "tally",
        "\n".join(
            f"{r.title}：{money_text(r, paid[r.id].refund_fen)}\n收款：{paid[r.id].text}"
            for r in mine
        ),
        private=True,
    )


@router.command(
    "月结", Role.ADMIN, "月结 2026年11月：各团长的月度对账（默认本月）", args="text", chat="private"
)
async def monthly(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`月结 [2026-11]`: per leader — rounds, sales, commission, cancellations, pickups; this
    month when no month is said."""
    today = _today(ctx)
    month = parse_month(cmd.args[0], today) if cmd.args else (today.year, today.month)
    if month is None:
        ctx.reply("monthly", "用法：月结 2026年11月（不写就是本月）", private=True)
        return
    label = f"{month[0]}年{month[1]}月"
    rows = await monthly_reconciliation(ctx.conn, ctx.clock.tz, *month)
    if not rows:
        ctx.reply("monthly", f"{label} 没有团。", private=True)
        return
    names = await leader_names(ctx.conn, ctx.config, ctx.groups.all())
    paid = await month_money(ctx, *month)
    owed = await balance_texts(ctx.conn, [r.leader for r in rows])
    lines = [
        f"{names.get(r.leader) or unnamed('')}：{r.rounds}团，销售 ¥{fen_str(r.sales_fen)}，"
        f"佣金 ¥{fen_str(r.commission_fen)}，取消 {r.cancelled}，已取 {r.picked}/{r.orders}"
        + paid.get(r.leader, "")
        + owed.get(r.leader, "")
        for r in rows
    ]
    ctx.reply("monthly", f"【{label} 月结】\n" + "\n".join(lines), private=True)


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
    names = await leader_names(ctx.conn, ctx.config, ctx.groups.all())
    png = render_sales_chart(data, names, first, last, _folder(ctx) / f"sales-{first}-{last}.png")
    _send_file(ctx, "chart", png, f"{first} 至 {last} 各团长每日销售额")


@router.command(
    "推送", Role.ADMIN, "推送 团购编号：把团购文件里的团购马上推送", args="text", chat="private"
)
async def push(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`推送 2026-11-23-fruit`: post a deal from the deals file now, to its groups, once each."""
    deal = await deal_store.find(ctx.conn, cmd.args[0]) if cmd.args else None
    if deal is None:
        keys = "、".join(d.key for d in await deal_store.pending(ctx.conn, ctx.now))
        ctx.reply("push", f"没有这个团购。可推送：{keys or '（团购文件里没有）'}", private=True)
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
