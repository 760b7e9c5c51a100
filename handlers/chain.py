"""接龙 → orders. A group chain post is parsed, matched to its round, diffed, and written.

The whole story of one post:
1. lock the room's open rounds (one statement; it also validates the in-memory cache);
2. find the round the post continues (by its title), or open one when the leader (or an
   admin) posts a new chain head;
3. plan the post's effect (handlers/chain_plan.py) and write it in bulk;
4. speak only if a person must act: lines not understood (to the poster, once), a fork that
   dropped others' lines (one merged chain, coalesced), a post after cutoff (once per person).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from rapidfuzz import fuzz

from handlers import replies, stock
from handlers.chain_plan import plan_post
from handlers.head_terms import describe, read_terms
from handlers.parsing.bounds import bound_for_parsing
from handlers.parsing.chain_parser import as_menu_post, parse_chain
from handlers.parsing.matching import Product
from handlers.parsing.native_chain import parse_native_chain
from handlers.parsing.times import default_cutoff, find_cutoff
from handlers.parsing.types import ParsedChain
from handlers.router import MAX_TEXT, Router, once_an_hour, tell_cut
from models.context import Context
from models.db import Conn
from models.identity import normalise
from models.messages import OutgoingMessage
from models.rounds import Draft, PostPlan, RoundCache, RoundState, products_for_head, title_of
from models.store import inbound, outbox
from models.store.rounds import (
    latest_closed_round,
    lock_rounds,
    mark_fork_noticed,
    open_round,
    recent_closed_rounds,
    write_plan,
)

router = Router()

MERGE_DELAY = timedelta(seconds=20)
# An entry of a native 接龙 whose XML names an author other than the message's sender: kept as
# the sender's line, marked so the leader can see who claimed it.
FLAG_CLAIMED_AUTHOR = "claimed_author"
MAX_CLAIMED_LISTED = 10
TITLE_MATCH = 80  # rapidfuzz ratio above which a copied title is the same chain


def pick_round(states: list[RoundState], post_title: str) -> tuple[RoundState | None, bool]:
    """The open round a post continues, and whether its title matched.

    Newest first. An exact title wins, then the closest fuzzy title; a post with no title (bare
    numbered lines) continues the newest round.
    """
    if not states:
        return None, False
    key = normalise(post_title)
    if not key:
        return states[0], False
    for s in states:
        if s.title_key == key:
            return s, True
    scored = [(fuzz.ratio(key, s.title_key), s) for s in states]
    best_score, best = max(scored, key=lambda t: t[0])
    if best_score >= TITLE_MATCH:
        return best, True
    return (states[0], False) if len(states) == 1 else (None, False)


def title_fits(post_title: str, state: RoundState) -> bool:
    """A copied title close enough to the round's to be the same chain."""
    return fuzz.ratio(normalise(post_title), state.title_key) >= TITLE_MATCH


def catalogue_products(ctx: Context) -> tuple[Product, ...]:
    return tuple(
        Product(
            key=p.code or p.name,
            name=p.name,
            code=p.code,
            aliases=p.aliases,
            price=p.price,
            sale_unit=p.sale_unit,
        )
        for p in ctx.config.catalogue
    )


@router.on("app")
async def handle_native_chain(ctx: Context, cache: RoundCache) -> None:
    """WeChat's own 接龙: read like a text chain, its XML's authors checked, not believed.

    The XML is written by the sender's client, so its authors and creator are claims: an
    entry already in the round keeps its poster, what the message adds is its sender's (an
    entry claiming someone else is kept as the sender's and flagged, and the leader told), and
    a native chain opens a round only when its sender may open one (the leader, an admin)."""
    native = parse_native_chain(ctx.msg.text)
    if native is None:
        return  # another kind of app message (a link, a mini program): stored, nothing to do
    by_seq = native.authors_by_seq()
    names = await inbound.known_names(
        ctx.conn, ctx.msg.room, set(by_seq.values()) - {ctx.msg.sender}
    )
    names[ctx.msg.sender] = ctx.msg.sender_name
    authors = {seq: (who, names.get(who) or who) for seq, who in by_seq.items()}
    text, cut = bound_for_parsing(native.chain_text(), MAX_TEXT)
    if cut:
        tell_cut(ctx, cut)
    await handle_chain_post(ctx, parse_chain(text), cache, authors=authors)


@router.chain_post
async def handle_chain_post(
    ctx: Context,
    parsed: ParsedChain,
    cache: RoundCache,
    *,
    authors: Mapping[int, tuple[str, str]] | None = None,
) -> None:
    msg = ctx.msg
    group = ctx.groups.get(msg.room)
    assert group is not None and msg.room is not None
    states = await lock_rounds(ctx.conn, cache, msg.room)
    post_title = title_of(parsed.header)
    state, title_matched = pick_round(states, post_title)

    openers = {group.leader, *ctx.config.admins}
    may_open = msg.sender in openers
    if parsed.kind != "order" and post_title and not title_matched:
        return  # a new sign-up, check-in or report chain orders nothing: no round, no reply
    if parsed.has_marker and may_open and post_title and not title_matched:
        parsed = as_menu_post(parsed) or parsed  # `1. 原味吐司 18元` from the leader: the menu
        state = await _open_from_head(ctx, cache, parsed, post_title, openers)
        title_matched = True
    elif state is not None and post_title and not title_matched:
        # A titled copy that fits no open round may be a late copy of a closed one: it must
        # not land in whatever other deal happens to be open.
        closed = await _closed_titled(ctx, cache, post_title)
        if closed is not None:
            state, title_matched = closed, True

    if state is None:
        if post_title:
            state = await _closed_titled(ctx, cache, post_title)
            title_matched = state is not None
        else:
            state = await latest_closed_round(ctx.conn, cache, msg.room)
        if state is None:
            _unplaced(ctx, parsed)  # no round this could belong to: the raw message is kept
            return

    plan = plan_post(
        state, parsed, msg.sender, msg.sender_name, title_matched=title_matched, authors=authors
    )
    claimed = _credit_to_sender(plan, msg.sender) if authors else []

    if state.status != "open":
        if plan.late:
            ctx.reply(
                f"once:late:{state.id}:{msg.sender}",
                replies.late_reply(
                    msg.sender_name, _local(ctx, state), [d.parsed.raw for d in plan.late]
                ),
                mention=True,
            )
        return

    await stock.reserve(ctx.conn, state, plan)  # a deal's stock shared with other groups
    edited = [(old.raw, d.parsed.raw) for old, d in plan.confirm_edits]  # before they change
    await write_plan(
        ctx.conn,
        state,
        plan,
        sender=msg.sender,
        sender_name=msg.sender_name,
        message_id=msg.id,
        now=ctx.now,
    )
    if claimed:
        _tell_leader_of_claims(ctx, claimed)
    if plan.problems:
        ctx.reply(
            "problems",
            replies.problems_reply(msg.sender_name, [(p.raw, p.reason) for p in plan.problems]),
            mention=True,
        )
    if edited:
        ctx.reply("edited", replies.edit_confirm_reply(msg.sender_name, edited), mention=True)
    if plan.stale_own:
        shown = {e.id: n for n, e in enumerate(state.numbered(), 1)}
        stale = [(shown.get(e.id, 0), e.raw, old) for e, old in plan.stale_own]
        ctx.reply(
            f"once:stale:{state.id}:{','.join(f'{e.id}-{e.identity}' for e, _ in plan.stale_own)}"[
                :200
            ],
            replies.stale_own_reply(msg.sender_name, stale),
            mention=True,
        )
    if plan.unsure:
        ctx.reply(
            f"once:unsure:{state.id}:{','.join(str(e.id) for e in plan.unsure)}",
            replies.unsure_reply(msg.sender_name, plan.unsure),
            mention=True,
        )
    if plan.dropped:
        await mark_fork_noticed(ctx.conn, plan.dropped)
        await _announce_merged_chain(ctx.conn, ctx, state)
    elif state.pending_merge_id is not None and plan.changes_orders:
        await _refresh_merged_chain(ctx.conn, state)  # the held-back chain shows this post too


async def _closed_titled(ctx: Context, cache: RoundCache, title: str) -> RoundState | None:
    """The recently closed round of the room whose title a late copy carries."""
    assert ctx.msg.room is not None
    closed = await recent_closed_rounds(ctx.conn, cache, ctx.msg.room)
    return next((s for s in closed if title_fits(title, s)), None)


def _unplaced(ctx: Context, parsed: ParsedChain) -> None:
    """An order post that fits no round is answered, never silently dropped: once per person
    and room each hour, with the raw message kept for the leader."""
    if parsed.kind != "order" or not parsed.entries or ctx.msg.sender in ctx.config.admins:
        return
    group = ctx.groups.get(ctx.msg.room)
    if group is not None and group.leader == ctx.msg.sender:
        return
    ctx.reply(
        once_an_hour(ctx, "unplaced", ""),
        f"{ctx.msg.sender_name} 这份接龙没有对应的团（还没开团或已结束），没有计入；"
        "原文已记下，请问一下团长。",
        mention=True,
    )


def _credit_to_sender(plan: PostPlan, sender: str) -> list[tuple[str, str]]:
    """What a message adds is its sender's: a new entry the XML credits to someone else is
    kept as the sender's line, flagged. Returns (line, claimed author) of each."""
    claimed: list[tuple[str, str]] = []
    drafts: list[Draft] = [*plan.creates, *plan.late]
    for draft in drafts:
        if draft.poster is None or draft.poster == sender:
            continue
        claimed.append((draft.parsed.raw, draft.poster_name or draft.poster))
        draft.poster = draft.poster_name = None
        if FLAG_CLAIMED_AUTHOR not in draft.flags:
            draft.flags.append(FLAG_CLAIMED_AUTHOR)
    return claimed


def _tell_leader_of_claims(ctx: Context, claimed: list[tuple[str, str]]) -> None:
    """Privately, once per message: lines recorded as the sender's though they named others."""
    group = ctx.groups.get(ctx.msg.room)
    if group is None:
        return
    shown = claimed[:MAX_CLAIMED_LISTED]
    more = f"\n…另有 {len(claimed) - len(shown)} 条" if len(claimed) > len(shown) else ""
    lines = "\n".join(f"  {raw}（标为 {who} 所写）" for raw, who in shown)
    ctx.say(
        OutgoingMessage(
            f"claimed:{ctx.msg.id}",
            room=None,
            to=group.leader,
            text=(
                f"{ctx.msg.sender_name} 发来的群接龙里有 {len(claimed)} 条新条目标着别人写的，"
                f"已按 {ctx.msg.sender_name} 的订单记录，请核对：\n{lines}{more}"
            ),
        )
    )


def _local(ctx: Context, state: RoundState) -> datetime | None:
    return state.cutoff_at.astimezone(ctx.clock.tz) if state.cutoff_at else None


async def _open_from_head(
    ctx: Context, cache: RoundCache, parsed: ParsedChain, title: str, openers: set[str]
) -> RoundState:
    """A new chain head from the leader: a round with the head's menu, cutoff and products."""
    now = ctx.now
    cutoff = find_cutoff(parsed.header, now) or default_cutoff(now, ctx.config.default_cutoff)
    products = products_for_head(parsed.header, catalogue_products(ctx))
    terms = read_terms(parsed.header, products)
    assert ctx.msg.room is not None
    state = await open_round(
        ctx.conn,
        cache,
        room=ctx.msg.room,
        title=title,
        header=parsed.header,
        products=products,
        opened_by=ctx.msg.sender,
        head_message_id=ctx.msg.id,
        now=now,
        cutoff_at=cutoff,
        limits=terms.limits,
    )
    assert state is not None  # only deal rounds can collide
    menu = "、".join(
        f"{p.code + '号 ' if p.code and p.code.isdigit() else (p.code + ' ') if p.code else ''}"
        f"{p.name}{' ' + str(p.price) + '元' if p.price is not None else ''}"
        f"{'/' + p.sale_unit if p.sale_unit else ''}"
        for p in products
    )
    text = f"已开团「{title}」，截单时间 {cutoff.astimezone(ctx.clock.tz):%m月%d日 %H:%M}。" + (
        f"识别到的商品：{menu}" if menu else "没有识别到商品清单，将按接龙原文统计。"
    )
    if terms.limits:
        text += f"\n限购/成团：{describe(products, terms.limits)}"
    if terms.unread:
        text += f"\n没看懂的限制（未生效）：{'、'.join(terms.unread)}"

    group = ctx.groups.get(ctx.msg.room)
    if group is not None and ctx.msg.sender not in openers:
        # a native 接龙 the leader created, first seen in a resident's update
        ctx.say(OutgoingMessage(f"opened:{ctx.msg.id}", room=None, to=group.leader, text=text))
    else:
        ctx.reply("opened", text, private=True)
    return state


async def _refresh_merged_chain(conn: Conn, state: RoundState) -> bool:
    """Rewrite a merged chain still waiting in the outbox; False once it has gone out."""
    if state.pending_merge_id is None:
        return False
    if await outbox.refresh_text(conn, state.pending_merge_id, replies.merged_chain(state)):
        return True
    state.pending_merge_id = None
    return False


async def _announce_merged_chain(conn: Conn, ctx: Context, state: RoundState) -> None:
    """Queue (or refresh) one merged chain for the group, sent after a short quiet period."""
    if await _refresh_merged_chain(conn, state):
        return
    now = ctx.now
    await stock.refresh(conn, state)
    state.pending_merge_id = await outbox.insert_one(
        conn,
        OutgoingMessage(
            f"merged:{state.id}:{ctx.msg.id}",
            state.room,
            replies.merged_chain(state),
            meta={"kind": "merged_chain", "round_id": state.id, "not_before": now + MERGE_DELAY},
        ),
        now,
    )
