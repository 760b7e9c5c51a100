"""payments (claimed by residents, confirmed by leaders) and refunds (shortages, after-sales)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by", sa.String(length=128), nullable=True),
        sa.Column("paid_fen", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.create_index("ix_payments_round_id", "payments", ["round_id"])
    op.create_table(
        "refunds",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("product_key", sa.String(length=64), nullable=True),
        sa.Column("qty_milli", sa.BigInteger(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_refunds_round_id", "refunds", ["round_id"])
    op.create_index("ix_refunds_entry_id", "refunds", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_refunds_entry_id", table_name="refunds")
    op.drop_index("ix_refunds_round_id", table_name="refunds")
    op.drop_table("refunds")
    op.drop_index("ix_payments_round_id", table_name="payments")
    op.drop_table("payments")
