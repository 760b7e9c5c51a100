"""The config file's schema as pydantic models: what each [section] may say, and its checks.

`models.config.parse_config` validates a parsed TOML document with `ConfigFile` and builds the
frozen `Config` the bot runs with; every error names the key at fault ("[bot] default_cutoff:
must look like 22:00"). Imported only when a config is read, so `groupbuy --help` stays fast.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Words = Annotated[str, StringConstraints(strip_whitespace=True)]
DEFAULT_DB_URL = "sqlite+aiosqlite:///groupbuy.db"


def _exact(value: Any) -> Any:
    """TOML floats are binary; take the text the operator wrote, as written."""
    return repr(value) if isinstance(value, float) else value


def _clock(value: Any) -> time:
    try:
        hh, mm = str(value).split(":")
        return time(int(hh), int(mm))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"must look like 22:00, got {value!r}") from exc


class BotSection(BaseModel):
    timezone: str = "Asia/Shanghai"
    admins: list[str] = []
    adapter: Literal["console", "wechaty"] = "console"
    name: str = "团购助手"
    default_cutoff: time = time(22, 0)
    pickup_reminder: time = time(18, 0)
    deals_file: str | None = None
    data_dir: str = Field("data", min_length=1)  # the bot's own files (wechaty's among them)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a known time zone") from exc
        return value

    @field_validator("default_cutoff", "pickup_reminder", mode="before")
    @classmethod
    def _times(cls, value: Any) -> time:
        return value if isinstance(value, time) else _clock(value)


class DatabaseSection(BaseModel):
    url: str = DEFAULT_DB_URL


class GroupSection(BaseModel):
    room: Text
    topic: Text | None = None
    leader: Text
    leader_name: Words = ""  # how the leader is called in lists; else their display name
    route: Words = ""
    pickup_point: Words = ""
    commission_rate: Decimal = Field(Decimal("0.10"), ge=0, le=1, description='e.g. "0.10"')

    @field_validator("commission_rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        return _exact(value)


class ProductSection(BaseModel):
    name: Text
    code: str | None = None
    aliases: list[str] = []
    price: Decimal | None = Field(None, ge=0, description='a price like "12.80"')
    unit: str | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("price", mode="before")
    @classmethod
    def _price(cls, value: Any) -> Any:
        return _exact(value)


class SenderSection(BaseModel):
    """[sender] budgets; every key optional, every value a non-negative number."""

    model_config = ConfigDict(extra="forbid")

    per_minute: int = Field(20, ge=0)
    daily_cap: int = Field(3000, ge=0)
    group_interval_s: float = Field(3.0, ge=0)
    jitter_s: float = Field(1.0, ge=0)
    backoff_s: float = Field(60.0, ge=0)
    backoff_max_s: float = Field(1800.0, ge=0)


class HttpSection(BaseModel):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8080, gt=0, lt=65536)
    token: str = ""


class WebSection(BaseModel):
    """[web]: the operator dashboard (login with `token`); off by default."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8081, gt=0, lt=65536)
    token: str = ""


class WechatySection(BaseModel):
    token: str | None = None
    endpoint: str | None = None
    no_tls: bool = True
    watchdog_s: float = Field(180.0, ge=10)
    max_file_mb: float = Field(3.0, gt=0)


class ConfigFile(BaseModel):
    bot: BotSection = BotSection()
    database: DatabaseSection = DatabaseSection()
    groups: list[GroupSection] = []
    products: list[ProductSection] = []
    sender: SenderSection = SenderSection()
    http: HttpSection = HttpSection()
    web: WebSection = WebSection()
    wechaty: WechatySection = WechatySection()

    @model_validator(mode="after")
    def _rooms_once(self) -> ConfigFile:
        seen: set[str] = set()
        for g in self.groups:
            if g.room in seen:
                raise ValueError(f"[[groups]] room {g.room!r} is listed twice")
            seen.add(g.room)
        return self


def _where(loc: tuple[int | str, ...]) -> str:
    """("groups", 0, "leader") → "[[groups]] #1 leader"; ("bot", "admins") → "[bot] admins"."""
    if not loc:
        return ""
    head, *rest = loc
    if rest and isinstance(rest[0], int):
        label = f"[[{head}]] #{rest[0] + 1}"
        rest = rest[1:]
    else:
        label = f"[{head}]"
    return " ".join([label, *(str(x) for x in rest)])


def describe(exc: ValidationError) -> str:
    """Every error in one line, each naming the key at fault."""
    parts = []
    for e in exc.errors(include_url=False):
        where, message = _where(tuple(e["loc"])), e["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)
