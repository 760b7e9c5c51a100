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
    stock = 200                       # shared by every group carrying the deal
    group_stock = 50                  # optional: at most this much for one group
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

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from handlers.parsing.matching import Product
from models.config import ConfigError, GroupConfig
from models.rounds import Limits


@dataclass(frozen=True, slots=True)
class DealProduct:
    """A product on offer: its per-group limits (`limits.stock_milli` is a cap for one group)
    and the deal's stock shared by every group (`stock_milli`, one counter)."""

    product: Product
    limits: Limits
    stock_milli: int | None = None


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


def load_deals(path: Path, tz: ZoneInfo) -> list[Deal]:
    """Read and validate the deals file; every error names the deal and key at fault."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"deals file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"deals file {path} is not valid TOML: {exc}") from exc
    return parse_deals(data, tz)


# Bounds that keep every amount and count inside the database's integers (fen, thousandths).
MAX_PRICE = Decimal(1_000_000)  # yuan per unit of sale
MAX_COUNT = Decimal(1_000_000)  # units of sale: a limit, a stock, a 成团 minimum


class DealProductIn(BaseModel):
    """One product of a deal, as deals.toml and POST /api/deals write it."""

    code: str | None = Field(None, description='menu code, e.g. "1"; keys the product')
    name: str = Field(min_length=1)
    price: Decimal | None = Field(
        None,
        ge=0,
        le=MAX_PRICE,
        allow_inf_nan=False,
        description='yuan per unit of sale, e.g. "12.80"',
    )
    unit: str | None = Field(None, description='the unit of sale the price is for, e.g. "3斤"')
    aliases: list[str] = []
    limit: Decimal | None = Field(
        None, gt=0, le=MAX_COUNT, allow_inf_nan=False, description="per person, in units of sale"
    )
    stock: Decimal | None = Field(
        None,
        gt=0,
        le=MAX_COUNT,
        allow_inf_nan=False,
        description="shared by every group carrying the deal: one counter, never oversold",
    )
    group_stock: Decimal | None = Field(
        None, gt=0, le=MAX_COUNT, allow_inf_nan=False, description="a cap for any one group"
    )
    min_total: Decimal | None = Field(
        None, gt=0, le=MAX_COUNT, allow_inf_nan=False, description="成团: below this it won't ship"
    )

    @field_validator("code", mode="before")
    @classmethod
    def _code_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("price", "limit", "stock", "group_stock", "min_total", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        return repr(value) if isinstance(value, float) else value  # TOML floats: as written


class DealIn(BaseModel):
    """One platform deal: posted to its groups at `post_at`, closed at `cutoff_at`."""

    @model_validator(mode="before")
    @classmethod
    def _has_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("key"):
            raise ValueError("every deal needs a unique key")
        return data

    key: str = Field(min_length=1, description="unique; a deal is posted to a group once")
    title: str | None = None
    post_at: datetime = Field(description="local time ([bot] timezone): 2026-11-23 08:00")
    cutoff_at: datetime
    pickup: str = ""
    groups: list[str] = Field(default=["all"], description='room ids, or ["all"]')
    products: list[DealProductIn] = []

    @model_validator(mode="after")
    def _cutoff_after_post(self) -> DealIn:
        if self.cutoff_at <= self.post_at:
            raise ValueError("cutoff_at must be after post_at")
        return self


class DealsIn(BaseModel):
    """deals.toml, or the body of POST /api/deals."""

    deals: list[DealIn]

    @model_validator(mode="after")
    def _unique_keys(self) -> DealsIn:
        keys = [d.key for d in self.deals]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"every deal needs a unique key; twice: {twice}")
        return self

    def to_deals(self, tz: ZoneInfo) -> list[Deal]:
        return [_deal(d, tz) for d in self.deals]


def _milli(q: Decimal | None) -> int | None:
    return int(q * 1000) if q is not None else None


def _aware(when: datetime, tz: ZoneInfo) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=tz)


def _deal(d: DealIn, tz: ZoneInfo) -> Deal:
    return Deal(
        key=d.key,
        title=d.title or d.key,
        post_at=_aware(d.post_at, tz),
        cutoff_at=_aware(d.cutoff_at, tz),
        pickup=d.pickup,
        groups=tuple(d.groups),
        products=tuple(
            DealProduct(
                Product(
                    key=p.code or p.name,
                    name=p.name,
                    code=p.code,
                    aliases=tuple(p.aliases),
                    price=p.price,
                    sale_unit=p.unit or None,
                ),
                Limits(_milli(p.limit), _milli(p.group_stock), _milli(p.min_total)),
                _milli(p.stock),
            )
            for p in d.products
        ),
    )


def validation_message(exc: ValidationError) -> str:
    """Pydantic's errors as one line that names each field at fault: `deals[0].post_at: …`."""
    parts = []
    for err in exc.errors(include_url=False):
        where = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where.lstrip('.') or 'body'}: {message}")
    return "; ".join(parts)


def parse_deals(data: dict[str, Any], tz: ZoneInfo) -> list[Deal]:
    """Validate deals from the file or the HTTP API; errors name the deal and the field."""
    try:
        return DealsIn.model_validate(data).to_deals(tz)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc)) from exc
