"""Platform deals from a file the operator edits, posted to groups on schedule.

deals.toml (see deals.example.toml):

    [[deals]]
    key = "2026-11-23-fruit"          # unique; a deal is posted to a group at most once
    title = "11月23日 水果团"
    post_at = "2026-11-23 08:00"      # local time ([bot] timezone)
    cutoff_at = "2026-11-23 22:00"
    pickup = "明天下午3点后"
    groups = ["all"]                  # or room ids
    [[deals.products]]
    code = "1"
    name = "烟台苹果"
    price = "12.80"
    unit = "3斤"                      # the unit of sale the price is for
    aliases = ["苹果"]
    limit = 5                         # per person, in units of sale
    stock = 200                       # for the whole round
    min_total = 10                    # 成团: below this at cutoff, the product does not ship

At post time each target group gets a round (one per deal and room: a unique index, so two
bot processes never open two) and the chain head, which residents then copy.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handlers.parsing.matching import Product
from models.config import ConfigError, GroupConfig
from models.rounds import Limits


@dataclass(frozen=True, slots=True)
class DealProduct:
    product: Product
    limits: Limits


@dataclass(frozen=True, slots=True)
class Deal:
    key: str
    title: str
    post_at: datetime
    cutoff_at: datetime
    pickup: str
    groups: tuple[str, ...]  # room ids, or ("all",)
    products: tuple[DealProduct, ...]

    def targets(self, groups: Iterable[GroupConfig]) -> list[GroupConfig]:
        """The groups it goes to now: those named (or all), unless paused."""
        live = [g for g in groups if not g.paused]
        if "all" in self.groups:
            return live
        return [g for g in live if g.room in self.groups]


def _when(value: Any, tz: ZoneInfo, where: str) -> datetime:
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"{where} must look like 2026-11-23 22:00, got {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=tz)


def _milli(value: Any, where: str) -> int | None:
    if value is None:
        return None
    try:
        q = Decimal(str(value))
    except ArithmeticError as exc:
        raise ConfigError(f"{where} must be a number") from exc
    if q <= 0:
        raise ConfigError(f"{where} must be positive")
    return int(q * 1000)


def load_deals(path: Path, tz: ZoneInfo) -> list[Deal]:
    """Read and validate the deals file; every error names the deal and key at fault."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"deals file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"deals file {path} is not valid TOML: {exc}") from exc
    return parse_deals(data, tz)


def parse_deals(data: dict[str, Any], tz: ZoneInfo) -> list[Deal]:
    """Validate deals from the file or the HTTP API; errors name the deal and the key."""
    raw = data.get("deals", [])
    if not isinstance(raw, list) or not all(isinstance(d, dict) for d in raw):
        raise ConfigError("deals must be a list of objects")
    deals: list[Deal] = []
    seen: set[str] = set()
    for i, d in enumerate(raw):
        where = f"[[deals]] #{i + 1}"
        key = str(d.get("key") or "")
        if not key or key in seen:
            raise ConfigError(f"{where} needs a unique key")
        seen.add(key)
        products: list[DealProduct] = []
        for j, p in enumerate(d.get("products", [])):
            pw = f"{where} product #{j + 1}"
            if not p.get("name"):
                raise ConfigError(f"{pw} needs a name")
            code = str(p["code"]) if p.get("code") is not None else None
            try:
                price = Decimal(str(p["price"])) if p.get("price") is not None else None
            except ArithmeticError as exc:
                raise ConfigError(f'{pw} price must be like "12.80"') from exc
            products.append(
                DealProduct(
                    Product(
                        key=code or str(p["name"]),
                        name=str(p["name"]),
                        code=code,
                        aliases=tuple(str(a) for a in p.get("aliases", [])),
                        price=price,
                        sale_unit=str(p["unit"]) if p.get("unit") else None,
                    ),
                    Limits(
                        _milli(p.get("limit"), f"{pw} limit"),
                        _milli(p.get("stock"), f"{pw} stock"),
                        _milli(p.get("min_total"), f"{pw} min_total"),
                    ),
                )
            )
        post_at = _when(d.get("post_at"), tz, f"{where} post_at")
        cutoff_at = _when(d.get("cutoff_at"), tz, f"{where} cutoff_at")
        if cutoff_at <= post_at:
            raise ConfigError(f"{where} cutoff_at must be after post_at")
        groups = d.get("groups", ["all"])
        deals.append(
            Deal(
                key=key,
                title=str(d.get("title") or key),
                post_at=post_at,
                cutoff_at=cutoff_at,
                pickup=str(d.get("pickup", "")),
                groups=tuple(str(g) for g in groups),
                products=tuple(products),
            )
        )
    return deals
