"""deal stock shared across groups: one counter per deal product

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deal_stock",
        sa.Column("deal_key", sa.String(length=128), nullable=False),
        sa.Column("product_key", sa.String(length=64), nullable=False),
        sa.Column("stock_milli", sa.BigInteger(), nullable=False),
        sa.Column("taken_milli", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_grant_milli", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("deal_key", "product_key"),
    )


def downgrade() -> None:
    op.drop_table("deal_stock")
