"""Shortages at arrival (缺货) and after-sales claims (售后), settled as exact refunds.

- `缺货 苹果 3份` (leader): the goods came 3 portions short. The rule is stated and fixed:
  the latest orders lose first (a chain is first come, first served), so the lines are taken
  from the end of the final list; each resident affected is named once in the group, their
  amount goes down and the refund is recorded (money back if they paid, less to pay if not);
- `缺货 5` (leader): the whole of line 5 is missing;
- `售后 3 坏了2个` (resident, their own line): the leader is told privately, and the claim waits;
- `退款 3 5.00` (leader): refunds line 3 exactly ¥5.00 (settling its open claim, if any).
Refunds show in the leader's 统计, the admin's 月结 and the exports, and the commission on
them comes off the leader's ledger. All of it is about the latest closed round, locked
while the command runs: two at once (two bot processes) never count a shortage twice.
"""

from __future__ import annotations

from decimal import Decimal

from handlers.chain_plan import units_milli
from handlers.commands import Command, Role, parse_seq
from handlers.ledger import deduct_refunds, parse_money
from handlers.parsing.matching import Product
from handlers.parsing.quantities import split_quantity
from handlers.router import Router
from models.context import Context
from models.messages import OutgoingMessage
from models.money import fen_str, fmt_qty, sale_word, to_fen, units_of_sale
from models.rounds import EntryView, RoundCache, RoundState
from models.store import payments, refunds
from models.store.refunds import AFTERSALE, OWED, REQUESTED, SHORTAGE, NewRefund
from models.store.rounds import lock_latest_closed

router = Router()

MAX_REASON = 100


async def _closed(ctx: Context, cache: RoundCache) -> RoundState | None:
    assert ctx.msg.room is not None
    return await lock_latest_closed(ctx.conn, cache, ctx.msg.room)


def _product(state: RoundState, text: str) -> Product | None:
    found = state.matcher.match(text)
    return found.product if found is not None else None


def _short_lines(
    state: RoundState,
    product: Product,
    short_milli: int,
    already: dict[tuple[int, str | None], int],
) -> list[tuple[int, EntryView, int]]:
    """(number, line, thousandths short) taking `short_milli` from the end of the list."""
    taken: list[tuple[int, EntryView, int]] = []
    left = short_milli
    numbered = list(enumerate(state.numbered(), 1))
    for n, e in reversed(numbered):
        if left <= 0:
            break
        if e.held:
            continue  # not counted, not charged: nothing to take back
        have = sum(
            u
            for ln in e.lines
            if ln.product_key == product.key and (u := units_milli(state, ln)) is not None
        ) - already.get((e.id, product.key), 0)
        if have > 0:
            cut = min(have, left)
            taken.append((n, e, cut))
            left -= cut
    return taken


def _refund_fen(product: Product, qty_milli: int) -> int:
    return to_fen(Decimal(qty_milli) / 1000 * product.price) if product.price is not None else 0


@router.command(
    "缺货",
    Role.LEADER,
    "缺货 苹果 3份：到货少了，按后接先扣退款（或 缺货 5：第5条整条缺）",
    args="text",
)
async def shortage(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`缺货 苹果 3份` / `缺货 5`: record what did not come, who loses it, and their refunds."""
    state = await _closed(ctx, cache)
    if state is None or not cmd.args:
        ctx.reply("short", "用法：缺货 苹果 3份，或 缺货 5（需有已截单的团）", private=True)
        return
    already = await refunds.shortages(ctx.conn, state.id)
    whole = parse_seq(cmd.args[0]) if len(cmd.args) == 1 and cmd.args[0][:1].isdigit() else None
    cuts: list[tuple[int, EntryView, Product, int]] = []
    if whole is not None:
        entry = state.by_number(whole)
        if entry is None or entry.held:
            ctx.reply("short", f"没有第{whole}条（或它没计入合计）。", private=True)
            return
        for ln in entry.lines:
            product = state.product(ln.product_key)
            u = units_milli(state, ln)
            if product is not None and u is not None:
                left = u - already.get((entry.id, product.key), 0)
                if left > 0:
                    cuts.append((whole, entry, product, left))
        what = f"第{whole}条 {entry.name} 整条没到"
    else:
        item, qty, unit = split_quantity(" ".join(cmd.args))
        product = _product(state, item) if item else None
        units = units_of_sale(qty, unit, product.sale_unit) if product and qty else None
        if product is None or units is None or units <= 0:
            ctx.reply(
                "short", "没看懂缺什么。用法：缺货 苹果 3份（菜单上的商品和数量）", private=True
            )
            return
        short_milli = int(units * 1000)
        cuts = [
            (n, e, product, c) for n, e, c in _short_lines(state, product, short_milli, already)
        ]
        got = sum(c for *_, c in cuts)
        what = f"{product.name}少了{fmt_qty(short_milli)}{sale_word(product.sale_unit)}" + (
            f"（接龙里只剩{fmt_qty(got)}{sale_word(product.sale_unit)}可扣）"
            if got < short_milli
            else ""
        )
    if not cuts:
        ctx.reply("short", "没有可以扣的接龙（已经全部记过缺货？）。", private=True)
        return
    new = [
        NewRefund(
            entry_id=e.id,
            kind=SHORTAGE,
            status=OWED,
            amount_fen=_refund_fen(p, c),
            product_key=p.key,
            qty_milli=c,
            reason=" ".join(cmd.args)[:MAX_REASON],
        )
        for _, e, p, c in cuts
    ]
    ids = await refunds.record(ctx.conn, state.id, new, ctx.now, ctx.msg.id)
    await deduct_refunds(
        ctx.conn,
        ctx.groups.get(state.room),
        state.id,
        [(i, r.amount_fen) for i, r in zip(ids, new, strict=True)],
        ctx.now,
    )
    listed = "；".join(
        (
            f"{p.name}{fmt_qty(c)}{sale_word(p.sale_unit)}"
            if whole
            else f"{n}.{e.name} 少{fmt_qty(c)}{sale_word(p.sale_unit)}"
        )
        + f" 退¥{fen_str(r.amount_fen)}"
        for (n, e, p, c), r in zip(cuts, new, strict=True)
    )
    rule = "" if whole else "，按接龙从后往前扣（后接的先扣）"
    ctx.say(
        OutgoingMessage(
            dedupe_key=f"short:{ctx.msg.id}",
            room=state.room,
            text=f"【缺货】{state.title}：{what}{rule}：{listed}。已付款的退回，没付的少付。",
            mentions=tuple(dict.fromkeys(e.poster for _, e, _, _ in cuts)),
        )
    )


@router.command("售后", Role.RESIDENT, "售后 3 坏了2个：自己第3条的售后问题告诉团长", args="words")
async def after_sales(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`售后 3 坏了2个`: a claim on one's own line of the last round, passed to the leader."""
    state = await _closed(ctx, cache)
    seq = parse_seq(cmd.args[0]) if cmd.args else None
    entry = state.by_number(seq) if state is not None else None
    name = ctx.msg.sender_name
    if state is None or entry is None:
        ctx.reply("aftersale", f"{name} 没找到第{seq}条（用法：售后 3 坏了2个）。", mention=True)
        return
    if entry.poster != ctx.msg.sender and role < Role.LEADER:
        ctx.reply("aftersale", f"{name} 第{seq}条不是你接的，请让接的人说。", mention=True)
        return
    reason = " ".join(cmd.args[1:])[:MAX_REASON]
    await refunds.record(
        ctx.conn,
        state.id,
        [NewRefund(entry_id=entry.id, kind=AFTERSALE, status=REQUESTED, reason=reason)],
        ctx.now,
        ctx.msg.id,
    )
    money = (await payments.line_money(ctx.conn, [state.id])).get(entry.id)
    owed = f"（¥{fen_str(money.owed_fen)}）" if money is not None else ""
    group = ctx.groups.get(state.room)
    if group is not None:
        ctx.say(
            OutgoingMessage(
                dedupe_key=f"aftersale-leader:{ctx.msg.id}",
                room=None,
                to=group.leader,
                text=f"【售后】{state.title} 第{seq}条 {entry.name}{owed}：{reason}。"
                f"同意退款就在群里回复“退款 {seq} 金额”，如 退款 {seq} 5.00。",
            )
        )
    ctx.reply("aftersale", f"{name} 售后已转告团长。", mention=True)


@router.command("退款", Role.LEADER, "退款 3 5.00：给第3条退5元（售后或其他）", args="words")
async def refund(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
    """`退款 3 5.00`: an exact refund on line 3, at most what the line still comes to."""
    state = await _closed(ctx, cache)
    seq = parse_seq(cmd.args[0]) if cmd.args else None
    fen = parse_money(cmd.args[1]) if len(cmd.args) == 2 else None
    entry = state.by_number(seq) if state is not None else None
    if state is None or entry is None or fen is None or fen <= 0:
        ctx.reply("refund", "用法：退款 3 5.00（最终名单的序号，金额到分）", private=True)
        return
    money = (await payments.line_money(ctx.conn, [state.id])).get(entry.id)
    most = money.owed_fen if money is not None else 0
    if fen > most:
        ctx.reply(
            "refund", f"第{seq}条 {entry.name} 最多可退 ¥{fen_str(most)}，没有记下。", private=True
        )
        return
    refund_id = await refunds.approve(ctx.conn, entry.id, fen)
    if refund_id is None:
        [refund_id] = await refunds.record(
            ctx.conn,
            state.id,
            [NewRefund(entry_id=entry.id, kind=AFTERSALE, status=OWED, amount_fen=fen)],
            ctx.now,
            ctx.msg.id,
        )
    await deduct_refunds(
        ctx.conn, ctx.groups.get(state.room), state.id, [(refund_id, fen)], ctx.now
    )
    ctx.reply("refund", f"已记退款：第{seq}条 {entry.name} ¥{fen_str(fen)}。", private=True)
    ctx.say(
        OutgoingMessage(
            dedupe_key=f"refunded:{ctx.msg.id}",
            room=state.room,
            text=f"{entry.name} 第{seq}条退款 ¥{fen_str(fen)}，团长已同意。",
            mentions=(entry.poster,),
        )
    )
