"""Tallies by SQL aggregation: the database sums exact integers (fen, thousandths)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, Subquery, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from models.money import commission_fen, qty_number, sale_word
from models.store.groups import load as load_groups
from models.store.refunds import RefundRow
from models.store.refunds import rows_of as refund_rows
from models.tables import LINE_PRODUCT, Entry, OrderLine, Round, RoundProduct


@dataclass(frozen=True, slots=True)
class ProductTotal:
    key: str | None  # matched product key, None for items that matched nothing
    name: str  # product name, or the item as written when unmatched
    qty_milli: int
    unit: str | None


def portion_unit(sale_unit: str | None) -> str:
    """How one unit of sale is called: `把` for 9.9元/把, `份` for 12.8元/3斤."""
    return sale_word(sale_unit) if sale_unit else "份"


def _line_groups(ids: list[int]) -> Subquery:
    """The rounds' active order lines summed per (round, product key, item text, unit).

    Tallies join each group, not each line, to its round product: a round's thousand lines
    fall into a handful of groups, so the join and the final GROUP BY see far fewer rows.
    Every group maps to one product row, so grouping again on top gives the same sums.
    """
    return (
        select(
            OrderLine.round_id.label("round_id"),
            OrderLine.product_key.label("product_key"),
            OrderLine.item_text.label("item_text"),
            OrderLine.unit.label("unit"),
            func.count().label("lines"),
            func.sum(OrderLine.qty_milli).label("qty"),
            func.sum(OrderLine.amount_fen).label("amount"),
        )
        .join(Entry, Entry.id == OrderLine.entry_id)
        .where(OrderLine.round_id.in_(ids), Entry.status == "active", Entry.held.is_(False))
        .group_by(OrderLine.round_id, OrderLine.product_key, OrderLine.item_text, OrderLine.unit)
        .subquery("g")
    )


def _groups_with_product(g: Subquery, *columns: Any) -> Select[Any]:
    """Line groups with, when matched, their round product (name, unit, whether it ships);
    products that will not ship (未成团) are left out."""
    return (
        select(*columns)
        .select_from(g)
        .outerjoin(
            RoundProduct,
            (RoundProduct.round_id == g.c.round_id) & (RoundProduct.key == g.c.product_key),
        )
        .where(RoundProduct.shipped.is_not(False))
    )


async def rounds_amount_fen(conn: AsyncConnection, ids: list[int]) -> dict[int, int]:
    """The exact amount of each round's active, shipping lines, in fen (one query)."""
    return (await rounds_totals_and_amounts(conn, ids))[1]


def _portion_case(g: Subquery) -> ColumnElement[str | None]:
    """NULL for lines counted in units of sale (份, none written, or the sale unit itself)."""
    return case(
        (
            RoundProduct.key.is_not(None)
            & (g.c.unit.is_(None) | (g.c.unit == "份") | (g.c.unit == RoundProduct.sale_unit)),
            None,
        ),
        else_=g.c.unit,
    )


def _matched(g: Subquery) -> ColumnElement[int]:
    """How many of the lines matched a product (the count of non-NULL product keys)."""
    return func.sum(case((RoundProduct.key.is_not(None), g.c.lines), else_=0))


async def rounds_totals(conn: AsyncConnection, ids: list[int]) -> dict[int, list[ProductTotal]]:
    """Quantities per product for each round's active entries, in menu order (one query).

    `苹果2份`, `1号×2` and `香蕉1把` (when it sells by the 把) all count units of sale, so they
    add up under one unit; any other measure (`苹果6斤`) is summed on its own line.
    """
    return (await rounds_totals_and_amounts(conn, ids))[0]


async def rounds_totals_and_amounts(
    conn: AsyncConnection, ids: list[int]
) -> tuple[dict[int, list[ProductTotal]], dict[int, int]]:
    """`rounds_totals` and `rounds_amount_fen` from one grouped query: a round's amount is the
    sum of its product groups' amounts (same lines, same filter)."""
    g = _line_groups(ids)
    unit = _portion_case(g)
    name = func.coalesce(RoundProduct.name, g.c.item_text)
    rows = (
        await conn.execute(
            _groups_with_product(
                g,
                g.c.round_id,
                g.c.product_key,
                name.label("name"),
                func.sum(g.c.qty).label("qty"),
                unit.label("unit"),
                func.min(func.coalesce(RoundProduct.position, 10_000)).label("position"),
                func.max(RoundProduct.sale_unit).label("sale_unit"),
                _matched(g).label("matched"),
                func.coalesce(func.sum(g.c.amount), 0).label("amount"),
            ).group_by(g.c.round_id, g.c.product_key, name, unit)
        )
    ).all()
    out: dict[int, list[ProductTotal]] = {i: [] for i in ids}
    amounts: dict[int, int] = dict.fromkeys(ids, 0)
    for r in sorted(rows, key=lambda r: (r.position, r.name or "", r.unit or "")):
        out[r.round_id].append(
            ProductTotal(
                r.product_key,
                r.name or "（未写商品）",
                int(r.qty),
                portion_unit(r.sale_unit) if r.matched and r.unit is None else r.unit,
            )
        )
        amounts[r.round_id] += int(r.amount or 0)
    return out, amounts


async def orders_report(conn: AsyncConnection) -> list[dict[str, object]]:
    """Every round with its active orders (the `groupbuy orders --json` contract)."""
    rounds = (await conn.execute(select(Round).order_by(Round.id))).all()
    products = {
        (r.round_id, r.key): r.name for r in (await conn.execute(select(RoundProduct))).all()
    }
    entries = (
        await conn.execute(
            select(
                Entry.id,
                Entry.round_id,
                Entry.name,
                Entry.poster,
                Entry.poster_name,
                Entry.raw,
                Entry.flags,
                Entry.held,
            )
            .where(Entry.status == "active")
            .order_by(Entry.round_id, Entry.pos)
        )
    ).all()
    lines: dict[int, list[dict[str, object]]] = {}
    for ln in (
        await conn.execute(
            select(
                OrderLine.entry_id,
                OrderLine.round_id,
                OrderLine.product_key,
                OrderLine.item_text,
                OrderLine.qty_milli,
                OrderLine.unit,
            ).order_by(OrderLine.id)
        )
    ).all():
        product = products.get((ln.round_id, ln.product_key)) if ln.product_key else None
        lines.setdefault(ln.entry_id, []).append(
            {"product": product or ln.item_text, "qty": qty_number(ln.qty_milli), "unit": ln.unit}
        )
    by_round: dict[int, list[dict[str, object]]] = {}
    for e in entries:
        by_round.setdefault(e.round_id, []).append(
            {
                "name": e.name,
                "poster": e.poster,
                "poster_name": e.poster_name,
                "items": lines.get(e.id, []),
                "raw": e.raw,
                "flags": list(e.flags or ()),
                "held": bool(e.held),
            }
        )
    return [
        {
            "id": r.id,
            "room": r.room,
            "title": r.title,
            "status": r.status,
            "orders": by_round.get(r.id, []),
        }
        for r in rounds
    ]


@dataclass(slots=True)
class Amount:
    """A product's total in one scope (a round, a route, the day): exact integers."""

    qty_milli: int = 0
    amount_fen: int = 0
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class RoundTally:
    id: int
    room: str
    title: str
    status: str
    leader: str | None  # None: a room no group row names
    route: str
    pickup_point: str
    totals: dict[str, Amount]  # product (or `name/unit` when one name has two units) → sum
    amount_fen: int
    commission_fen: int
    picked: int
    waiting: int
    held: int = 0  # lines waiting for the leader's decision: in no total
    leader_name: str = ""  # what people call the leader (handlers/people.py fills it in)


@dataclass(slots=True)
class RouteTally:
    rounds: int = 0
    products: dict[str, Amount] = field(default_factory=dict)

    @property
    def amount_fen(self) -> int:
        return sum(s.amount_fen for s in self.products.values())


@dataclass(frozen=True, slots=True)
class Tally:
    """Per round, per product, per route; formatted for people or JSON by handlers/reports.py."""

    rounds: list[RoundTally]
    products: dict[str, Amount]
    routes: dict[str, RouteTally]
    refunds: list[RefundRow] = field(default_factory=list)  # shortages and after-sales

    @classmethod
    def of(cls, rounds: list[RoundTally], refunds: list[RefundRow] | None = None) -> Tally:
        """The rounds with their products and routes summed."""
        products: dict[str, Amount] = {}
        routes: dict[str, RouteTally] = {}
        for r in rounds:
            route = routes.setdefault(r.route, RouteTally())
            route.rounds += 1
            for k, s in r.totals.items():
                for bucket in (products, route.products):
                    b = bucket.setdefault(k, Amount(unit=s.unit))
                    b.qty_milli += s.qty_milli
                    b.amount_fen += s.amount_fen
        return cls(rounds, products, routes, refunds or [])

    def only_leader(self, leader: str) -> Tally:
        mine = [r for r in self.rounds if r.leader == leader]
        ids = {r.id for r in mine}
        return Tally.of(mine, [f for f in self.refunds if f.round_id in ids])

    def with_leader_names(self, names: dict[str, str]) -> Tally:
        """The same figures with each round's leader named (contact id → name)."""
        named = [replace(r, leader_name=names.get(r.leader or "", "")) for r in self.rounds]
        return replace(self, rounds=named)


@dataclass(slots=True)
class LeaderMonth:
    """One leader's month: rounds, sales and commission in fen, cancellations, pickups."""

    leader: str
    rounds: int = 0
    sales_fen: int = 0
    commission_fen: int = 0
    cancelled: int = 0
    orders: int = 0
    picked: int = 0


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, local time: 月结 counts rounds by cutoff."""
    start = datetime(year, month, 1, tzinfo=tz)
    return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)


def _day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, start + timedelta(days=1)


async def tally(conn: AsyncConnection, tz: ZoneInfo, day: date | None = None) -> Tally:
    """Per round, per product, per route, in exact integers.

    Sums come from SQL (GROUP BY over integer fen and thousandths); Python only arranges them.
    With `day`, the rounds whose cutoff (团期) falls on that local day.
    """
    live = await load_groups(conn)  # leader, route and rate as the groups table says
    rq = select(Round.id, Round.room, Round.title, Round.status, Round.cutoff_at).order_by(Round.id)
    if day is not None:
        lo, hi = _day_bounds(day, tz)
        rq = rq.where(Round.cutoff_at >= lo, Round.cutoff_at < hi)
    rounds = (await conn.execute(rq)).all()
    ids = [r.id for r in rounds]
    if not ids:
        return Tally([], {}, {})

    g = _line_groups(ids)
    unit = _portion_case(g)
    name = func.coalesce(RoundProduct.name, g.c.item_text, "（未写商品）")
    lines = (
        await conn.execute(
            _groups_with_product(
                g,
                g.c.round_id,
                name.label("name"),
                unit.label("unit"),
                func.max(RoundProduct.sale_unit).label("sale_unit"),
                _matched(g).label("matched"),
                func.sum(g.c.qty).label("qty"),
                func.coalesce(func.sum(g.c.amount), 0).label("amount"),
                func.min(func.coalesce(RoundProduct.position, 10_000)).label("position"),
            ).group_by(g.c.round_id, name, unit)
        )
    ).all()
    pickups = {
        r.round_id: (int(r.picked or 0), int(r.waiting or 0), int(r.held or 0))
        for r in (
            await conn.execute(
                select(
                    Entry.round_id,
                    func.sum(case((Entry.picked_at.is_not(None), 1), else_=0)).label("picked"),
                    func.sum(case((Entry.picked_at.is_(None), 1), else_=0)).label("waiting"),
                    func.sum(case((Entry.held, 1), else_=0)).label("held"),
                )
                .where(Entry.round_id.in_(ids), Entry.status == "active")
                .group_by(Entry.round_id)
            )
        ).all()
    }

    per_round: dict[int, dict[str, Amount]] = {}
    for ln in sorted(lines, key=lambda r: (r.round_id, r.position, r.name, r.unit or "")):
        shown_unit = portion_unit(ln.sale_unit) if ln.matched and ln.unit is None else ln.unit
        key = ln.name
        totals = per_round.setdefault(ln.round_id, {})
        if key in totals and totals[key].unit != shown_unit:
            key = f"{ln.name}/{shown_unit}"
        s = totals.setdefault(key, Amount(unit=shown_unit))
        s.qty_milli += int(ln.qty)
        s.amount_fen += int(ln.amount)

    out: list[RoundTally] = []
    for r in rounds:
        group = live.get(r.room)
        totals = per_round.get(r.id, {})
        amount = sum(s.amount_fen for s in totals.values())
        picked, waiting, held = pickups.get(r.id, (0, 0, 0))
        out.append(
            RoundTally(
                id=r.id,
                room=r.room,
                title=r.title,
                status=r.status,
                leader=group.leader if group else None,
                route=group.route if group else "",
                pickup_point=group.pickup_point if group else "",
                totals=totals,
                amount_fen=amount,
                commission_fen=commission_fen(amount, group.commission_rate) if group else 0,
                picked=picked,
                waiting=waiting,
                held=held,
            )
        )
    return Tally.of(out, await refund_rows(conn, ids))


async def monthly_reconciliation(
    conn: AsyncConnection, tz: ZoneInfo, year: int, month: int
) -> list[LeaderMonth]:
    """Per leader for one month (by cutoff date): rounds, sales, commission, cancellations,
    pickups. Every figure is a SQL aggregate; commission uses each group's rate."""
    live = await load_groups(conn)  # leader, route and rate as the groups table says
    start, end = month_bounds(year, month, tz)
    in_month = (Round.cutoff_at >= start) & (Round.cutoff_at < end)
    sales = {
        r.room: (int(r.rounds), int(r.amount))
        for r in (
            await conn.execute(
                select(
                    Round.room,
                    func.count(func.distinct(Round.id)).label("rounds"),
                    func.coalesce(func.sum(OrderLine.amount_fen), 0).label("amount"),
                )
                .select_from(Round)
                .outerjoin(
                    Entry,
                    (Entry.round_id == Round.id)
                    & (Entry.status == "active")
                    & Entry.held.is_(False),
                )
                .outerjoin(OrderLine, OrderLine.entry_id == Entry.id)
                .outerjoin(RoundProduct, LINE_PRODUCT)
                .where(in_month, RoundProduct.shipped.is_not(False))
                .group_by(Round.room)
            )
        ).all()
    }
    counts = {
        r.room: (int(r.cancelled or 0), int(r.picked or 0), int(r.active or 0))
        for r in (
            await conn.execute(
                select(
                    Round.room,
                    func.sum(case((Entry.status == "cancelled", 1), else_=0)).label("cancelled"),
                    func.sum(
                        case(
                            ((Entry.status == "active") & Entry.picked_at.is_not(None), 1), else_=0
                        )
                    ).label("picked"),
                    func.sum(case((Entry.status == "active", 1), else_=0)).label("active"),
                )
                .join(Entry, Entry.round_id == Round.id)
                .where(in_month)
                .group_by(Round.room)
            )
        ).all()
    }
    by_leader: dict[str, LeaderMonth] = {}
    for room in sorted(set(sales) | set(counts)):
        group = live.get(room)
        leader = group.leader if group else "?"
        rounds, amount = sales.get(room, (0, 0))
        cancelled, picked, active = counts.get(room, (0, 0, 0))
        row = by_leader.setdefault(leader, LeaderMonth(leader))
        row.rounds += rounds
        row.sales_fen += amount
        row.commission_fen += commission_fen(amount, group.commission_rate) if group else 0
        row.cancelled += cancelled
        row.orders += active
        row.picked += picked
    return sorted(by_leader.values(), key=lambda r: r.sales_fen, reverse=True)


async def _sales_rows(
    conn: AsyncConnection, tz: ZoneInfo, first: date, last: date, *by: Any
) -> list[Any]:
    """Counted, shipping sales in fen per round and `by` (extra grouping columns), for rounds
    whose cutoff falls from `first` to `last` (local days)."""
    lo = datetime.combine(first, time(0), tzinfo=tz)
    hi = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    return list(
        (
            await conn.execute(
                select(
                    Round.room,
                    Round.cutoff_at,
                    *by,
                    func.coalesce(func.sum(OrderLine.amount_fen), 0).label("amount"),
                )
                .select_from(Round)
                .join(
                    Entry,
                    (Entry.round_id == Round.id)
                    & (Entry.status == "active")
                    & Entry.held.is_(False),
                )
                .join(OrderLine, OrderLine.entry_id == Entry.id)
                .outerjoin(RoundProduct, LINE_PRODUCT)
                .where(
                    Round.cutoff_at >= lo, Round.cutoff_at < hi, RoundProduct.shipped.is_not(False)
                )
                .group_by(Round.id, Round.room, Round.cutoff_at, *by)
            )
        ).all()
    )


async def sales_by_day(
    conn: AsyncConnection, tz: ZoneInfo, first: date, last: date
) -> dict[str, dict[date, int]]:
    """Leader → day → sales in fen. Sums per round in SQL; rounds are bucketed by local day."""
    live = await load_groups(conn)  # leader, route and rate as the groups table says
    out: dict[str, dict[date, int]] = {}
    for r in await _sales_rows(conn, tz, first, last):
        group = live.get(r.room)
        leader = group.leader if group else r.room
        day = r.cutoff_at.astimezone(tz).date()
        out.setdefault(leader, {})
        out[leader][day] = out[leader].get(day, 0) + int(r.amount)
    return out


async def product_sales_by_day(
    conn: AsyncConnection, tz: ZoneInfo, first: date, last: date
) -> dict[str, dict[date, int]]:
    """Product name → day → sales in fen, over every group; an item that matched no product
    is summed under the words it was written with. Goods with no price sold nothing that
    can be charted (not ¥0): they are left out."""
    name = func.coalesce(RoundProduct.name, OrderLine.item_text, "（未写商品）").label("product")
    out: dict[str, dict[date, int]] = {}
    for r in await _sales_rows(conn, tz, first, last, name):
        if not r.amount:
            continue
        day = r.cutoff_at.astimezone(tz).date()
        per_day = out.setdefault(str(r.product), {})
        per_day[day] = per_day.get(day, 0) + int(r.amount)
    return out
