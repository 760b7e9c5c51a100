"""撤回: a recalled chain post no longer counts. Its effect on open rounds is undone.

What one message did is written on the entries it touched: `created_message` (it added the
line), `source_message` (its content is the line's current version; `prev` holds the one it
replaced) and `cancel_message` (it removed the line). Recalling the message therefore:
- cancels lines it added, unless a later post has rewritten them since;
- puts back the version its edit replaced;
- brings back lines it removed.
Nobody in the group is told (a recall is a quiet correction); the leader hears privately
when an order vanished or changed. Closed rounds are final: the leader is told, nothing moves.
A recall that arrives before the message it recalls leaves a marker, so the late original is
taken as a duplicate and never counted. A recall names a message id, which anyone could write:
only the original sender's recall, in the same room, undoes a post, and a marker keeps out
only a late message from the marker's sender and room.
"""

from __future__ import annotations

import logging

from handlers import stock
from handlers.router import Router
from models.context import Context
from models.messages import OutgoingMessage
from models.rounds import EntryView, RoundCache
from models.store import inbound
from models.store.rounds import (
    load_rounds_by_id,
    lock_rounds,
    put_back,
    set_status,
    touched_by,
)

log = logging.getLogger(__name__)
router = Router()

MAX_LISTED = 10


@router.on("recall")
async def handle_recall(ctx: Context, cache: RoundCache) -> None:
    msg = ctx.msg
    recalled = msg.text.strip()[:128]
    if not recalled or msg.room is None:
        return
    outcome = await inbound.mark_recalled(ctx.conn, msg, recalled)
    if outcome == "refused":
        log.warning("recall of %s by %s in %s refused: not theirs", recalled, msg.sender, msg.room)
        return
    if outcome == "absent":
        # The original has not arrived (yet): keep its id, so it is a duplicate when it does.
        await inbound.leave_recall_marker(ctx.conn, msg, recalled)
        return
    group = ctx.groups.get(msg.room)
    states = await lock_rounds(ctx.conn, cache, msg.room)
    by_id = {s.id: s for s in states}
    open_ids = set(by_id)
    views = {e.id: e for s in states for e in s.entries.values()}
    touched = await touched_by(ctx.conn, msg.room, recalled)
    if not touched:
        return
    closed = [r for r in touched if r.round_id not in open_ids]
    live = [r for r in touched if r.round_id in open_ids]
    vanished: list[str] = []
    changed: list[tuple[str, str]] = []
    restored: list[str] = []
    cancel: list[tuple[EntryView, str | None]] = []
    back: list[tuple[EntryView, str | None]] = []
    # A deal's shared stock follows the lines the recall undoes (read again after the undo).
    stocked = {
        i: stock.counted(by_id[i]) for i in {r.round_id for r in live} if by_id[i].stock_left
    }
    for r in live:
        if r.status == "cancelled" and r.cancel_message == recalled:
            back.append((views[r.id], None))
            restored.append(r.raw)
        elif r.status == "active" and r.source_message == recalled:
            if r.created_message == recalled or not r.prev or "identity" not in r.prev:
                cancel.append((views[r.id], "recalled"))
                vanished.append(r.raw)
                continue
            holder = by_id[r.round_id].entries.get(r.prev.get("identity", ""))
            if holder is not None and holder.id != r.id:
                closed.append(r)  # its old text is another line now: the leader decides
                continue
            await put_back(ctx.conn, r.id, r.round_id, r.prev, r.created_message, ctx.now)
            changed.append((r.raw, str(r.prev.get("raw", ""))))
    if cancel:
        await set_status(ctx.conn, cancel, "cancelled", ctx.now, recalled)
    if back:
        await set_status(ctx.conn, back, "active", ctx.now)
    if stocked:
        for fresh in await load_rounds_by_id(ctx.conn, list(stocked)):
            await stock.settle(ctx.conn, fresh, stocked[fresh.id])
    for round_id in {r.round_id for r in live}:
        cache.drop(round_id)  # an edit put back changed text and lines: reloaded next post
    if group is None or not (vanished or changed or restored or closed):
        return
    ctx.say(
        OutgoingMessage(
            dedupe_key=f"recall:{recalled}",
            room=None,
            to=group.leader,
            text=_leader_note(
                msg.sender_name, vanished, changed, restored, [r.raw for r in closed]
            ),
        )
    )


def _listed(lines: list[str]) -> str:
    shown = lines[:MAX_LISTED]
    more = f"\n…另有 {len(lines) - len(shown)} 行" if len(lines) > len(shown) else ""
    return "\n".join(f"  {line}" for line in shown) + more


def _leader_note(
    who: str,
    vanished: list[str],
    changed: list[tuple[str, str]],
    restored: list[str],
    closed: list[str],
) -> str:
    parts = [f"{who} 撤回了一条接龙消息。"]
    if vanished:
        parts.append(f"已取消它加上的订单：\n{_listed(vanished)}")
    if changed:
        parts.append("已改回修改前的内容：\n" + _listed([f"{new} → {old}" for new, old in changed]))
    if restored:
        parts.append(f"已恢复它删掉的订单：\n{_listed(restored)}")
    if closed:
        parts.append(f"以下订单没有改动（已截单或有冲突），如需调整请手动处理：\n{_listed(closed)}")
    return "\n".join(parts)
