"""commission for rounds closed before the ledger: their lines and refund deductions backfilled

Rounds closed before 0013 have no commission line, so a leader's 钱包 and 月结 balance
started at that upgrade. The figures are all in the database: a round's amount is its counted
lines' (active, not held, of products that ship), as its close summed them; the rate is the
group's (it changes only by editing the table); refunds owed are recorded with their amounts.
What is not recorded is who led the group then: leaders change only by the admin's 换团长 and
绑定, which the audit log keeps, so a round is credited to its group's leader now unless such
a change came after the round closed; those rounds stay out (never credited to the wrong
leader) and the migration logs how many. Keys are the ones closing uses (`commission:<round>`,
`refund:<refund>`), so nothing is booked twice, and the lines are dated when their cause was.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

import logging
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

from models.money import commission_fen, fen_str
from models.types import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

rounds = sa.table(
    "rounds",
    sa.column("id", sa.Integer()),
    sa.column("room", sa.String()),
    sa.column("title", sa.String()),
    sa.column("status", sa.String()),
    sa.column("closed_at", UTCDateTime()),
)
groups = sa.table(
    "groups",
    sa.column("room", sa.String()),
    sa.column("topic", sa.String()),
    sa.column("leader", sa.String()),
    sa.column("commission_bp", sa.Integer()),
)
ledger = sa.table(
    "leader_ledger",
    sa.column("leader", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("round_id", sa.Integer()),
    sa.column("amount_fen", sa.BigInteger()),
    sa.column("note", sa.String()),
    sa.column("created_at", UTCDateTime()),
    sa.column("dedupe_key", sa.String()),
)
audit = sa.table(
    "audit_log",
    sa.column("ts", UTCDateTime()),
    sa.column("verb", sa.String()),
    sa.column("args", sa.JSON()),
    sa.column("allowed", sa.Boolean()),
)
refunds = sa.table(
    "refunds",
    sa.column("id", sa.Integer()),
    sa.column("round_id", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("amount_fen", sa.BigInteger()),
    sa.column("created_at", UTCDateTime()),
)
AMOUNTS = sa.text(
    """
    SELECT l.round_id, SUM(l.amount_fen)
    FROM order_lines l
    JOIN entries e ON e.id = l.entry_id
    JOIN rounds r ON r.id = l.round_id
    LEFT JOIN round_products p ON p.round_id = l.round_id AND p.key = l.product_key
    WHERE r.status = 'closed' AND e.status = 'active' AND e.held = :no
      AND (p.shipped IS NULL OR p.shipped = :yes)
    GROUP BY l.round_id
    """
)


def _last_change(conn: sa.Connection, by_room: dict[str, Any]) -> dict[str | None, datetime]:
    """Room → when its leader last changed by 换团长/绑定; None: a change of a group not known
    now (a topic renamed since), which may have been any group's."""
    out: dict[str | None, datetime] = {}
    by_topic = {g.topic: room for room, g in by_room.items()}
    for ts, args in conn.execute(
        sa.select(audit.c.ts, audit.c.args).where(
            audit.c.verb.in_(["换团长", "绑定"]), audit.c.allowed.is_(True)
        )
    ).all():
        key = (args or [None])[0]
        room = key if key in by_room else by_topic.get(key)
        if room not in out or ts > out[room]:
            out[room] = ts
    return out


def upgrade() -> None:
    conn = op.get_bind()
    by_room = {g.room: g for g in conn.execute(sa.select(groups)).all()}
    booked = set(conn.execute(sa.select(ledger.c.dedupe_key)).scalars().all())
    changed = _last_change(conn, by_room)
    closed = {
        r.id: r
        for r in conn.execute(
            sa.select(rounds).where(rounds.c.status == "closed", rounds.c.closed_at.is_not(None))
        ).all()
    }

    def leader_of(round_id: int) -> Any:
        """The round's group, when its leader now is the one it had when it closed."""
        r = closed.get(round_id)
        g = by_room.get(r.room) if r is not None else None
        if r is None or g is None:
            return None
        since = [t for t in (changed.get(r.room), changed.get(None)) if t is not None]
        return None if any(t >= r.closed_at for t in since) else g

    lines: list[dict[str, object]] = []
    left_out = 0
    for round_id, amount in conn.execute(AMOUNTS, {"no": False, "yes": True}).all():
        if f"commission:{round_id}" in booked or not amount:
            continue
        g = leader_of(round_id)
        if g is None:
            left_out += 1
            continue
        r = closed[round_id]
        lines.append(
            {
                "leader": g.leader,
                "kind": "commission",
                "round_id": round_id,
                "amount_fen": commission_fen(int(amount), Decimal(g.commission_bp) / 10_000),
                "note": f"{r.title[:60]} 销售¥{fen_str(int(amount))}",
                "created_at": r.closed_at,
                "dedupe_key": f"commission:{round_id}",
            }
        )
    for f in conn.execute(
        sa.select(refunds).where(refunds.c.status == "owed", refunds.c.amount_fen > 0)
    ).all():
        g = leader_of(f.round_id)
        fen = commission_fen(int(f.amount_fen), Decimal(g.commission_bp) / 10_000) if g else 0
        if f"refund:{f.id}" in booked or f.round_id not in closed or not fen:
            continue
        lines.append(
            {
                "leader": g.leader,
                "kind": "refund",
                "round_id": f.round_id,
                "amount_fen": -fen,
                "note": f"退款¥{fen_str(int(f.amount_fen))}",
                "created_at": f.created_at,
                "dedupe_key": f"refund:{f.id}",
            }
        )
    if lines:
        conn.execute(sa.insert(ledger), lines)
    if left_out:
        log.warning(
            "%d closed round(s) got no commission line: their group's leader changed since",
            left_out,
        )


def downgrade() -> None:
    pass  # the lines stay: they are what closing would have booked
