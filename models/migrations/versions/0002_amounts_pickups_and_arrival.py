"""amounts, pickups and arrival

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("picked_at", models.types.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amount_fen", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("arrived_at", models.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("arrived_at")

    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("amount_fen")

    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_column("picked_at")
