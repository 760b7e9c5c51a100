"""recall undo: entry creator, canceller and previous version; message fingerprints;
audit log by verb (pushes are read back from it); heartbeats

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("seen_at", models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_message", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("cancel_message", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("prev", sa.JSON(), nullable=True))
    # Entries never edited were created by the message that last wrote them.
    op.execute("UPDATE entries SET created_message = source_message")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=40), nullable=True))
        batch_op.create_index("ux_messages_fingerprint", ["fingerprint"], unique=True)
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_verb", ["verb"], unique=False)


def downgrade() -> None:
    op.drop_table("heartbeats")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_verb")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ux_messages_fingerprint")
        batch_op.drop_column("fingerprint")
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_column("prev")
        batch_op.drop_column("cancel_message")
        batch_op.drop_column("created_message")
