"""Configuration from one TOML file (see config.example.toml for every key and its meaning)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from datetime import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DB_URL = "sqlite+aiosqlite:///groupbuy.db"
ADAPTERS = frozenset({"console", "wechaty"})


@dataclass(frozen=True, slots=True)
class SendLimits:
    per_minute: int = 20
    daily_cap: int = 3000
    group_interval_s: float = 3.0
    jitter_s: float = 1.0
    backoff_s: float = 60.0
    backoff_max_s: float = 1800.0


class ConfigError(ValueError):
    """The config file is missing something or says something impossible; the text says what."""


@dataclass(frozen=True, slots=True)
class GroupConfig:
    room: str
    topic: str
    leader: str
    route: str = ""
    pickup_point: str = ""
    commission_rate: Decimal = Decimal("0.10")  # the leader's share of the group's sales
    paused: bool = False  # an admin paused the bot here: messages are stored, nothing else


@dataclass(frozen=True, slots=True)
class CatalogueProduct:
    """A product from the configured catalogue, used when a chain head has no menu of its own."""

    name: str
    code: str | None = None
    aliases: tuple[str, ...] = ()
    price: Decimal | None = None
    sale_unit: str | None = None


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """The optional HTTP API for the platform's systems; off by default."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    token: str = field(default="", repr=False)  # never printed, never logged


@dataclass(frozen=True, slots=True)
class WechatySettings:
    """[wechaty]: how to reach the WeChat gateway. The token is better kept in the environment
    (WECHATY_PUPPET_SERVICE_TOKEN); it is never printed and is redacted from logs."""

    token: str | None = field(default=None, repr=False)
    endpoint: str | None = None
    no_tls: bool = True  # the Python client speaks gRPC without TLS: gateways must allow it
    watchdog_s: float = 180.0  # reconnect after this long without any event
    max_file_mb: float = 3.0  # larger files fail on WeChat; a text with the path goes instead


@dataclass(frozen=True, slots=True)
class Config:
    timezone: ZoneInfo
    admins: frozenset[str]
    database_url: str
    groups: tuple[GroupConfig, ...]
    bot_name: str = "团购助手"
    adapter: str = "console"
    default_cutoff: time = time(22, 0)
    pickup_reminder: time = time(18, 0)
    catalogue: tuple[CatalogueProduct, ...] = ()
    deals_file: Path | None = None
    sender: SendLimits = field(default_factory=SendLimits)
    http: HttpConfig = field(default_factory=HttpConfig)
    wechaty: WechatySettings = field(default_factory=WechatySettings)
    source: Path | None = None
    data_dir: Path = Path("data")  # the bot's own files (wechaty's among them)

    def with_database(self, url: str | None) -> Config:
        """The same config with `--db URL` applied (the command line wins over the file)."""
        return replace(self, database_url=url) if url else self


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}] must be a table")
    return value


def _str(value: Any, where: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(f"{where} must be a non-empty string")
    return value.strip()


def _parse_time(value: Any, where: str) -> time:
    try:
        hh, mm = str(value).split(":")
        return time(int(hh), int(mm))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where} must look like 22:00, got {value!r}") from exc


def _parse_price(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        # TOML floats are binary; take the text the operator wrote, as written.
        value = repr(value)
    try:
        price = Decimal(str(value))
    except InvalidOperation as exc:
        raise ConfigError(f'{where} must be a price like "12.80", got {value!r}') from exc
    if price < 0:
        raise ConfigError(f"{where} must not be negative")
    return price


def _parse_rate(value: Any, where: str) -> Decimal:
    if value is None:
        return Decimal("0.10")
    rate = _parse_price(value, where)
    if rate is None or rate > 1:
        raise ConfigError(f'{where} must be a fraction like "0.10" (10%)')
    return rate


def _parse_sender(raw: dict[str, Any]) -> SendLimits:
    """[sender] budgets; every key optional, every value a positive number."""
    known = {f: getattr(SendLimits(), f) for f in SendLimits.__dataclass_fields__}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"[sender] has no key {key!r}; known: {', '.join(sorted(known))}")
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"[sender] {key} must be a non-negative number")
        values[key] = type(known[key])(value)
    return SendLimits(**values)


def _parse_http(raw: dict[str, Any]) -> HttpConfig:
    """[http]; the token may come from GROUPBUY_HTTP_TOKEN instead of the file."""
    enabled = bool(raw.get("enabled", False))
    token = os.environ.get("GROUPBUY_HTTP_TOKEN") or str(raw.get("token", ""))
    if enabled and len(token) < 16:
        raise ConfigError("[http] needs a token of 16+ characters (or GROUPBUY_HTTP_TOKEN)")
    port = raw.get("port", 8080)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError("[http] port must be a port number")
    return HttpConfig(enabled, str(raw.get("host", "127.0.0.1")), port, token)


def _parse_wechaty(raw: dict[str, Any]) -> WechatySettings:
    """[wechaty]; token and endpoint may come from the service client's own variables."""
    token = os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN") or raw.get("token") or None
    endpoint = os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT") or raw.get("endpoint") or None
    try:
        watchdog = float(raw.get("watchdog_s", 180))
        max_mb = float(raw.get("max_file_mb", 3))
    except (TypeError, ValueError) as exc:
        raise ConfigError("[wechaty] watchdog_s and max_file_mb must be numbers") from exc
    if watchdog < 10:
        raise ConfigError("[wechaty] watchdog_s must be at least 10 seconds")
    return WechatySettings(
        token=str(token) if token else None,
        endpoint=str(endpoint) if endpoint else None,
        no_tls=bool(raw.get("no_tls", True)),
        watchdog_s=watchdog,
        max_file_mb=max_mb,
    )


def _data_dir(value: Any, source: Path | None) -> Path:
    """[bot] data_dir, relative to the config file's folder when not absolute."""
    path = Path(_str(value, "[bot] data_dir"))
    if not path.is_absolute() and source is not None:
        path = source.parent / path
    return path


def _deals_path(value: Any, source: Path | None) -> Path | None:
    """The deals file, relative to the config file's folder when not absolute."""
    if not value:
        return None
    path = Path(str(value))
    if not path.is_absolute() and source is not None:
        path = source.parent / path
    return path


def parse_config(data: dict[str, Any], source: Path | None = None) -> Config:
    """Validate a parsed TOML document into a Config; every error names the key at fault."""
    bot = _table(data, "bot")
    tz_name = bot.get("timezone", "Asia/Shanghai")
    try:
        tz = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"[bot] timezone {tz_name!r} is not a known time zone") from exc
    admins = bot.get("admins", [])
    if not isinstance(admins, list) or not all(isinstance(a, str) for a in admins):
        raise ConfigError("[bot] admins must be a list of contact ids")
    adapter = str(bot.get("adapter", "console"))
    if adapter not in ADAPTERS:
        raise ConfigError(f"[bot] adapter must be one of {sorted(ADAPTERS)}, got {adapter!r}")

    db = _table(data, "database")
    url = str(db.get("url", DEFAULT_DB_URL))

    groups: list[GroupConfig] = []
    rooms: set[str] = set()
    raw_groups = data.get("groups", [])
    if not isinstance(raw_groups, list):
        raise ConfigError("[[groups]] must be an array of tables")
    for i, g in enumerate(raw_groups):
        where = f"[[groups]] #{i + 1}"
        if not isinstance(g, dict):
            raise ConfigError(f"{where} must be a table")
        room = _str(g.get("room"), f"{where} room")
        if room in rooms:
            raise ConfigError(f"{where} room {room!r} is listed twice")
        rooms.add(room)
        groups.append(
            GroupConfig(
                room=room,
                topic=_str(g.get("topic", room), f"{where} topic"),
                leader=_str(g.get("leader"), f"{where} leader"),
                route=_str(g.get("route"), f"{where} route", required=False),
                pickup_point=_str(g.get("pickup_point"), f"{where} pickup_point", required=False),
                commission_rate=_parse_rate(g.get("commission_rate"), f"{where} commission_rate"),
            )
        )

    catalogue: list[CatalogueProduct] = []
    for i, p in enumerate(data.get("products", [])):
        where = f"[[products]] #{i + 1}"
        if not isinstance(p, dict):
            raise ConfigError(f"{where} must be a table")
        aliases = p.get("aliases", [])
        if not isinstance(aliases, list):
            raise ConfigError(f"{where} aliases must be a list")
        code = p.get("code")
        catalogue.append(
            CatalogueProduct(
                name=_str(p.get("name"), f"{where} name"),
                code=str(code) if code is not None else None,
                aliases=tuple(str(a) for a in aliases),
                price=_parse_price(p.get("price"), f"{where} price"),
                sale_unit=str(p["unit"]) if p.get("unit") else None,
            )
        )

    return Config(
        timezone=tz,
        admins=frozenset(admins),
        database_url=url,
        groups=tuple(groups),
        bot_name=str(bot.get("name", "团购助手")),
        adapter=adapter,
        default_cutoff=_parse_time(bot.get("default_cutoff", "22:00"), "[bot] default_cutoff"),
        pickup_reminder=_parse_time(bot.get("pickup_reminder", "18:00"), "[bot] pickup_reminder"),
        catalogue=tuple(catalogue),
        deals_file=_deals_path(bot.get("deals_file"), source),
        sender=_parse_sender(_table(data, "sender")),
        http=_parse_http(_table(data, "http")),
        wechaty=_parse_wechaty(_table(data, "wechaty")),
        source=source,
        data_dir=_data_dir(bot.get("data_dir", "data"), source),
    )


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config file. A relative SQLite path is kept relative to the CWD."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {p} does not exist (copy config.example.toml)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {p} is not valid TOML: {exc}") from exc
    return parse_config(data, source=p)
