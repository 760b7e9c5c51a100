"""Configuration from one TOML file (see config.example.toml for every key and its meaning).

The types the bot runs with are the frozen dataclasses here; the file's schema and its checks
are pydantic models in models/config_file.py.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo


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
    leader_name: str = ""  # a name given to the leader: in the config file, or by an admin


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
class WebConfig:
    """[web]: the operator dashboard; off by default. Operators log in with the token."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8081
    token: str = field(default="", repr=False)  # never printed, never logged, never in a URL


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
    web: WebConfig = field(default_factory=WebConfig)
    wechaty: WechatySettings = field(default_factory=WechatySettings)
    source: Path | None = None
    data_dir: Path = Path("data")  # the bot's own files (wechaty's among them)

    @property
    def leader_names(self) -> dict[str, str]:
        """Names the config file gives leaders, by contact id (they win over display names)."""
        return {g.leader: g.leader_name for g in self.groups if g.leader_name}

    def with_database(self, url: str | None) -> Config:
        """The same config with `--db URL` applied (the command line wins over the file)."""
        return replace(self, database_url=url) if url else self


def _deals_path(value: str | None, source: Path | None) -> Path | None:
    """The deals file, relative to the config file's folder when not absolute."""
    if not value:
        return None
    path = Path(value)
    if not path.is_absolute() and source is not None:
        path = source.parent / path
    return path


def _data_dir(value: str, source: Path | None) -> Path:
    """[bot] data_dir, relative to the config file's folder when not absolute."""
    path = Path(value)
    if not path.is_absolute() and source is not None:
        path = source.parent / path
    return path


def parse_config(data: dict[str, Any], source: Path | None = None) -> Config:
    """Validate a parsed TOML document into a Config; every error names the key at fault.

    The schema is models/config_file.py (pydantic); tokens may come from the environment.
    """
    from pydantic import ValidationError

    from models.config_file import ConfigFile, describe

    try:
        f = ConfigFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc)) from exc
    token = os.environ.get("GROUPBUY_HTTP_TOKEN") or f.http.token
    if f.http.enabled and len(token) < 16:
        raise ConfigError("[http] needs a token of 16+ characters (or GROUPBUY_HTTP_TOKEN)")
    web_token = os.environ.get("GROUPBUY_WEB_TOKEN") or f.web.token
    if f.web.enabled and len(web_token) < 16:
        raise ConfigError("[web] needs a token of 16+ characters (or GROUPBUY_WEB_TOKEN)")
    w = f.wechaty
    wechaty_token = os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN") or w.token or None
    endpoint = os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT") or w.endpoint or None
    return Config(
        timezone=ZoneInfo(f.bot.timezone),
        admins=frozenset(f.bot.admins),
        database_url=f.database.url,
        groups=tuple(
            GroupConfig(
                room=g.room,
                topic=g.topic or g.room,
                leader=g.leader,
                route=g.route,
                pickup_point=g.pickup_point,
                commission_rate=g.commission_rate,
                leader_name=g.leader_name,
            )
            for g in f.groups
        ),
        bot_name=f.bot.name,
        adapter=f.bot.adapter,
        default_cutoff=f.bot.default_cutoff,
        pickup_reminder=f.bot.pickup_reminder,
        catalogue=tuple(
            CatalogueProduct(
                name=p.name,
                code=p.code,
                aliases=tuple(p.aliases),
                price=p.price,
                sale_unit=p.unit or None,
            )
            for p in f.products
        ),
        deals_file=_deals_path(f.bot.deals_file, source),
        sender=SendLimits(**f.sender.model_dump()),
        http=HttpConfig(f.http.enabled, f.http.host, f.http.port, token),
        web=WebConfig(f.web.enabled, f.web.host, f.web.port, web_token),
        wechaty=WechatySettings(
            token=wechaty_token,
            endpoint=endpoint,
            no_tls=w.no_tls,
            watchdog_s=w.watchdog_s,
            max_file_mb=w.max_file_mb,
        ),
        source=source,
        data_dir=_data_dir(f.bot.data_dir, source),
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
