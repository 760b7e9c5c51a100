"""deal stock counts the lines already taken: counters seeded from the rounds' counted lines

A database that ran 0012 or 0013 got its counters at the first start after the upgrade, at 0,
while rounds of those deals were already open with lines in them: those lines could be sold a
second time. Each counter's taken amount is set to what its deal's counted lines hold (active,
not held, of products that ship; in open and closed rounds alike, since a close gives nothing
back unless the product does not ship). That is the counter's own invariant, so on a database
whose counters were right it changes nothing. A counter made later starts the same way
(models/store/stock.py set_stock).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.store.stock import taken_by_lines

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINES = sa.text(
    """
    SELECT r.deal_key, l.product_key, l.qty_milli, l.unit, p.sale_unit
    FROM order_lines l
    JOIN entries e ON e.id = l.entry_id
    JOIN rounds r ON r.id = l.round_id
    JOIN round_products p ON p.round_id = l.round_id AND p.key = l.product_key
    WHERE r.deal_key IS NOT NULL AND e.status = 'active' AND e.held = :no
      AND (p.shipped IS NULL OR p.shipped = :yes)
    """
)


def upgrade() -> None:
    conn = op.get_bind()
    counters = conn.execute(sa.text("SELECT deal_key, product_key FROM deal_stock")).all()
    if not counters:
        return
    taken = taken_by_lines(
        (str(d), str(p), int(q), u, s)
        for d, p, q, u, s in conn.execute(LINES, {"no": False, "yes": True}).all()
    )
    conn.execute(
        sa.text("UPDATE deal_stock SET taken_milli = :t WHERE deal_key = :d AND product_key = :p"),
        [{"t": taken.get((d, p), 0), "d": d, "p": p} for d, p in counters],
    )


def downgrade() -> None:
    pass  # the counts stay: they are right under the older code too
