"""deals, limits and the cheng tuan minimum

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("round_products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("limit_milli", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("stock_milli", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("min_milli", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("shipped", sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deal_key", sa.String(length=128), nullable=True))
        batch_op.create_index("ux_rounds_deal_room", ["deal_key", "room"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_index("ux_rounds_deal_room")
        batch_op.drop_column("deal_key")

    with op.batch_alter_table("round_products", schema=None) as batch_op:
        batch_op.drop_column("shipped")
        batch_op.drop_column("min_milli")
        batch_op.drop_column("stock_milli")
        batch_op.drop_column("limit_milli")
