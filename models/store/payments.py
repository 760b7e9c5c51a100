"""Who has paid for which chain line, and what each line owes after refunds: exact fen.

A line owes its counted amount (active, not held, products that ship) less the refunds owed on
it. A resident's `已付` is a claim; the leader's `收款` confirms it and records what the line
owed then, so a later refund shows as money to give back rather than changing the past.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.store.outbox import insert_ignore
from models.store.tally import month_bounds
from models.tables import (
    LINE_PRODUCT,
    Entry,
    OrderLine,
    Outbox,
    Payment,
    Refund,
    Round,
    RoundProduct,
)


@dataclass(frozen=True, slots=True)
class LineMoney:
    """One chain line's money: its counted amount, refunds owed on it, and its payment."""

    round_id: int
    amount_fen: int = 0
    refund_fen: int = 0
    claimed: bool = False
    paid_fen: int | None = None  # None: the leader has not confirmed a payment
    unpriced: bool = False  # some of its goods have no price (榴莲 on an apples menu)

    @property
    def owed_fen(self) -> int:
        """What the line comes to now: its amount less the refunds on it."""
        return max(0, self.amount_fen - self.refund_fen)

    @property
    def confirmed(self) -> bool:
        return self.paid_fen is not None

    @property
    def outstanding_fen(self) -> int:
        """Still to collect: all of it when unconfirmed, or what it rose by since."""
        return max(0, self.owed_fen - (self.paid_fen or 0))

    @property
    def to_return_fen(self) -> int:
        """Paid more than it now owes (a refund after payment): money to give back."""
        return max(0, (self.paid_fen or 0) - self.owed_fen)


def line_state(m: LineMoney) -> str:
    """Where a line's payment stands: collected (the leader confirmed it), claimed (自报已付,
    waiting for the leader), unpaid, unpriced (what it owes is not known: never a silent ¥0),
    or nothing to pay (refunded in full)."""
    if m.confirmed:
        return "collected"
    if m.claimed:
        return "claimed"
    if m.owed_fen:
        return "unpaid"
    return "unpriced" if m.unpriced and not m.amount_fen else "nothing"


@dataclass(frozen=True, slots=True)
class PaymentSums:
    """One round's payments summed: what the leader's 统计 and the dashboard both show."""

    collected_fen: int = 0
    collected_lines: int = 0
    claimed_fen: int = 0
    claimed_lines: int = 0
    unpaid_lines: int = 0
    outstanding_fen: int = 0
    refund_fen: int = 0
    to_return_fen: int = 0
    unpriced_lines: int = 0  # in no sum: what they owe is not known

    @classmethod
    def of(cls, lines: Iterable[LineMoney]) -> PaymentSums:
        """Lines with no amount (nothing matched the menu) are left out, as in 统计."""
        every = list(lines)
        mine = [m for m in every if m.amount_fen]
        got = [m for m in mine if line_state(m) == "collected"]
        claimed = [m for m in mine if line_state(m) == "claimed"]
        return cls(
            collected_fen=sum(m.paid_fen or 0 for m in got),
            collected_lines=len(got),
            claimed_fen=sum(m.owed_fen for m in claimed),
            claimed_lines=len(claimed),
            unpaid_lines=sum(line_state(m) == "unpaid" for m in mine),
            outstanding_fen=sum(m.outstanding_fen for m in mine),
            refund_fen=sum(m.refund_fen for m in mine),
            to_return_fen=sum(m.to_return_fen for m in mine),
            unpriced_lines=sum(m.unpriced for m in every),
        )


async def line_money(conn: AsyncConnection, round_ids: Sequence[int]) -> dict[int, LineMoney]:
    """Entry id → its money, for the rounds' active lines (three grouped queries)."""
    if not round_ids:
        return {}
    ids = list(round_ids)
    amounts = (
        await conn.execute(
            select(
                Entry.id,
                Entry.round_id,
                func.coalesce(func.sum(OrderLine.amount_fen), 0).label("amount"),
                func.max(
                    case(
                        (OrderLine.entry_id.is_not(None) & OrderLine.amount_fen.is_(None), 1),
                        else_=0,
                    )
                ).label("unpriced"),
            )
            .select_from(Entry)
            .outerjoin(OrderLine, OrderLine.entry_id == Entry.id)
            .outerjoin(RoundProduct, LINE_PRODUCT)
            .where(
                Entry.round_id.in_(ids),
                Entry.status == "active",
                Entry.held.is_(False),
                RoundProduct.shipped.is_not(False),
            )
            .group_by(Entry.id, Entry.round_id)
        )
    ).all()
    refunds: dict[int, int] = {
        int(entry_id): int(fen or 0)
        for entry_id, fen in (
            await conn.execute(
                select(Refund.entry_id, func.sum(Refund.amount_fen))
                .where(Refund.round_id.in_(ids), Refund.status == "owed")
                .group_by(Refund.entry_id)
            )
        ).all()
    }
    paid = {
        r.entry_id: r
        for r in (
            await conn.execute(
                select(Payment.entry_id, Payment.claimed_at, Payment.paid_fen).where(
                    Payment.round_id.in_(ids)
                )
            )
        ).all()
    }
    out: dict[int, LineMoney] = {}
    for entry_id, round_id, amount, unpriced in amounts:
        p = paid.get(entry_id)
        out[entry_id] = LineMoney(
            round_id=round_id,
            amount_fen=int(amount or 0),
            refund_fen=int(refunds.get(entry_id) or 0),
            claimed=p is not None and p.claimed_at is not None,
            paid_fen=int(p.paid_fen) if p is not None and p.paid_fen is not None else None,
            unpriced=bool(unpriced),
        )
    return out


async def claim(
    conn: AsyncConnection, round_id: int, entry_ids: Sequence[int], now: datetime
) -> int:
    """A resident says they paid these lines; returns how many were not claimed before."""
    if not entry_ids:
        return 0
    result = await conn.execute(
        insert_ignore(conn)(Payment)
        .on_conflict_do_nothing(index_elements=["entry_id"])
        .returning(Payment.entry_id),
        [{"entry_id": i, "round_id": round_id, "claimed_at": now} for i in entry_ids],
    )
    return len(result.all())


async def confirm(
    conn: AsyncConnection,
    round_id: int,
    owed: dict[int, int],
    now: datetime,
    by: str,
) -> None:
    """The leader confirms payment of these lines (entry id → what each owed then)."""
    if not owed:
        return
    stmt = insert_ignore(conn)(Payment)
    stmt = stmt.on_conflict_do_update(
        index_elements=["entry_id"],
        set_={
            "confirmed_at": stmt.excluded.confirmed_at,
            "confirmed_by": stmt.excluded.confirmed_by,
            "paid_fen": stmt.excluded.paid_fen,
        },
    )
    await conn.execute(
        stmt,
        [
            {
                "entry_id": i,
                "round_id": round_id,
                "confirmed_at": now,
                "confirmed_by": by,
                "paid_fen": fen,
            }
            for i, fen in owed.items()
        ],
    )


async def last_reminder(conn: AsyncConnection, round_id: int) -> datetime | None:
    """When the round's last payment reminder (`催款`) was queued: reminders are spaced."""
    return (
        await conn.execute(
            select(func.max(Outbox.created_at)).where(
                Outbox.dedupe_key >= f"dun:{round_id}:", Outbox.dedupe_key < f"dun:{round_id};"
            )
        )
    ).scalar_one_or_none()


async def rounds_of_month(
    conn: AsyncConnection, tz: ZoneInfo, year: int, month: int
) -> dict[int, str]:
    """Round id → room of the rounds whose cutoff falls in the month (as 月结 counts them)."""
    start, end = month_bounds(year, month, tz)
    rows = await conn.execute(
        select(Round.id, Round.room).where(Round.cutoff_at >= start, Round.cutoff_at < end)
    )
    return {int(r.id): str(r.room) for r in rows.all()}
