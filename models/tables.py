"""The schema. Alembic migrations in models/migrations are generated from and checked against it.

Money is integer fen and quantities integer thousandths (`qty_milli`), so sums in SQL are exact
on SQLite as well as PostgreSQL (SQLite has no decimal type and would round through floats).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from models.types import UTCDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """The metadata every table below, and Alembic's autogenerate, share."""


class Group(Base):
    """A WeChat group the bot serves: its leader (by contact id) and delivery route."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room: Mapped[str] = mapped_column(String(128), unique=True)
    topic: Mapped[str] = mapped_column(String(256), default="")
    leader: Mapped[str] = mapped_column(String(128))
    route: Mapped[str] = mapped_column(String(128), default="")
    pickup_point: Mapped[str] = mapped_column(String(256), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The leader's commission in basis points (1000 = 10%), exact without a decimal type.
    commission_bp: Mapped[int] = mapped_column(Integer, default=1000, server_default="1000")
    # A name given to the leader (config file, or an admin's 换团长 … 名字): shown until the
    # leader's own messages carry one; the config file's name wins over both.
    leader_name: Mapped[str] = mapped_column(String(256), default="", server_default="")


class Round(Base):
    """One 团期 in one group: opened by a chain head, closed at cutoff (截单).

    `version` is bumped by every message that touches the round; a process whose cached copy
    has an older version reloads it, so two bot processes on one database stay consistent.
    """

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room: Mapped[str] = mapped_column(String(128), index=True)
    title: Mapped[str] = mapped_column(String(512), default="")
    header: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_by: Mapped[str] = mapped_column(String(128), default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cutoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    head_message_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The platform deal this round was opened from (None for a leader's own chain head). Unique
    # per room, so two processes posting the same deal open one round.
    deal_key: Mapped[str | None] = mapped_column(String(128), nullable=True)

    __table_args__ = (
        Index("ix_rounds_status_cutoff", "status", "cutoff_at"),
        Index("ux_rounds_deal_room", "deal_key", "room", unique=True),
    )


class RoundProduct(Base):
    """A product on offer in a round, from the chain head's menu or the configured catalogue."""

    __tablename__ = "round_products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    name: Mapped[str] = mapped_column(String(256))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    price_fen: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sale_unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # In thousandths of a unit of sale: per-person limit, stock cap, 成团 minimum (None = none).
    limit_milli: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    stock_milli: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    min_milli: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # False once the round closed below the 成团 minimum: the product does not ship.
    shipped: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class InboundMessage(Base):
    """Every message the bot received, stored raw before anything else; the dedupe record."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(String(128), unique=True)
    room: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    sender: Mapped[str] = mapped_column(String(128))
    sender_name: Mapped[str] = mapped_column(String(256), default="")
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="handled")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The same group message seen by two bot accounts has two platform ids; this hash of room,
    # sender, second and text is the same for both, so the second copy is a duplicate too.
    fingerprint: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Failed handlings so far of a message stored with status `error`; it is handled again at
    # the next start or when it is fed again (a replay), and the leader is told of the failure.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        Index("ux_messages_fingerprint", "fingerprint", unique=True),
        # People are named by the display name of their latest message (models/store/people.py).
        Index("ix_messages_sender_id", "sender", "id"),
    )


class Entry(Base):
    """One chain line in a round: identity is its normalised content, not its number.

    `poster` is who posted it (contact id); `name` is the name as written (代接: a resident
    may order for a neighbour). Unreadable lines are entries too, with flags, so nothing is lost.
    """

    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    pos: Mapped[int] = mapped_column(Integer)
    identity: Mapped[str] = mapped_column(String(512))
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    poster: Mapped[str] = mapped_column(String(128))
    poster_name: Mapped[str] = mapped_column(String(256), default="")
    raw: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Out of totals until the leader decides (models.rounds.is_held of the flags), kept as a
    # column so tallies filter it in SQL.
    held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default="active")
    source_message: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    fork_noticed: Mapped[bool] = mapped_column(Boolean, default=False)
    picked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Which entries (bit n = pos n) the post that wrote this line carried: the version of the
    # chain its poster was looking at. A later copy descends from the version of its newest
    # known line, and only lines that version had can have been removed from it.
    seen_mask: Mapped[str] = mapped_column(Text, default="0")
    # What a recall (撤回) needs to undo one message's effect: the message that created the
    # entry, the one that cancelled it, and the version an edit replaced.
    created_message: Mapped[str | None] = mapped_column(String(128), nullable=True)
    cancel_message: Mapped[str | None] = mapped_column(String(128), nullable=True)
    prev: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (
        Index("ux_entries_round_identity", "round_id", "identity", unique=True),
        Index("ix_entries_round_pos", "round_id", "pos"),
    )


class OrderLine(Base):
    """One product ordered by an entry. `product_key` is NULL when the item matched nothing."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(Integer, index=True)
    product_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    item_text: Mapped[str | None] = mapped_column(String(256), nullable=True)
    qty_milli: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    match_how: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Exact price of the line in fen; NULL when the product has no price or the written unit
    # cannot be converted to its unit of sale (`苹果2箱` for apples sold by 3斤).
    amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


# The menu product an order line is of: the join every query that asks "does it ship, what is
# it called, what does it cost" makes (NULL product_key joins nothing).
LINE_PRODUCT = (RoundProduct.round_id == OrderLine.round_id) & (
    RoundProduct.key == OrderLine.product_key
)


class Outbox(Base):
    """Every message the bot will send, written in the same transaction as its cause.

    The unique `dedupe_key` makes each send exactly-once across crashes and restarts.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(256), unique=True)
    room: Mapped[str | None] = mapped_column(String(128), nullable=True)
    to_contact: Mapped[str | None] = mapped_column(String(128), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    file_path: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_outbox_status_not_before", "status", "not_before"),)


class AuditLog(Base):
    """Every command anyone gave the bot, allowed or refused: who, where, what, and the verdict."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    room: Mapped[str | None] = mapped_column(String(128), nullable=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    actor_name: Mapped[str] = mapped_column(String(256), default="")
    verb: Mapped[str] = mapped_column(String(32), index=True)  # e.g. pushes (推送) are read back
    args: Mapped[list[str]] = mapped_column(JSON, default=list)
    role: Mapped[str] = mapped_column(String(16))
    allowed: Mapped[bool] = mapped_column(Boolean)
    message_id: Mapped[str] = mapped_column(String(128))


class Heartbeat(Base):
    """When the WeChat connection was last known alive, so a restart can tell how long the bot
    was away (and the leaders are told, since what was said meanwhile never reached it)."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PlatformDeal(Base):
    """A platform deal (from the deals file, the HTTP API): kept so a deal scheduled for later
    is still posted after a restart, and every bot process sees the same deals."""

    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    post_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cutoff_at: Mapped[datetime] = mapped_column(UTCDateTime())
    pickup: Mapped[str] = mapped_column(String(256), default="")
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)  # room ids, or ["all"]
    # Each product with its limits: key, name, code, aliases, price (yuan, as text),
    # sale_unit, limit_milli, stock_milli, min_milli.
    products: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Payment(Base):
    """Whether a chain line is paid. The bot cannot see transfers between other people: a
    resident's `已付` is their claim (`claimed_at`); only the leader's `收款` confirms it."""

    __tablename__ = "payments"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True
    )
    round_id: Mapped[int] = mapped_column(Integer, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    confirmed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # What the line owed when the leader confirmed it: a refund after that is money to give back.
    paid_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Refund(Base):
    """Money going back on a chain line: a shortage at arrival (缺货), or an after-sales claim
    (售后) — `requested` until the leader approves an exact amount (退款), then `owed`."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(Integer, index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # shortage | aftersale
    status: Mapped[str] = mapped_column(String(16))  # requested | owed
    product_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    qty_milli: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # units short
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_id: Mapped[str] = mapped_column(String(128))


class DealStock(Base):
    """A platform deal's stock of one product, shared by every group that carries the deal:
    one counter, taken by a conditional UPDATE so several bot processes never oversell.
    `last_grant_milli` is what the latest UPDATE granted (its RETURNING cannot show the old
    value on both databases)."""

    __tablename__ = "deal_stock"

    deal_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    product_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    stock_milli: Mapped[int] = mapped_column(BigInteger)
    taken_milli: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_grant_milli: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class LedgerEntry(Base):
    """One line of a leader's commission ledger, signed fen: commission earned on a closed
    round (+), commission given back on a refund (−), a settlement paid by an admin (−)."""

    __tablename__ = "leader_ledger"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    leader: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # commission | refund | settlement
    round_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # commission:<round> (a re-close updates it), refund:<refund id>, settle:<message id>
    dedupe_key: Mapped[str] = mapped_column(String(256), unique=True)
