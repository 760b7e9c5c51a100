"""Config: the example file loads, and mistakes are named precisely."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from models.config import ConfigError, load_config, parse_config

REPO = Path(__file__).resolve().parents[1]


def test_example_config_loads() -> None:
    cfg = load_config(REPO / "config.example.toml")
    assert str(cfg.timezone) == "Asia/Shanghai"
    assert cfg.admins == frozenset({"wxid_admin"})
    assert cfg.default_cutoff == time(22, 0)
    assert [g.route for g in cfg.groups] == ["东线", "西线"]
    assert "12345678901@chatroom" in {g.room for g in cfg.groups}
    assert cfg.catalogue[0].price == Decimal("12.80")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bot": {"timezone": "Mars/Olympus"}}, "Mars/Olympus"),
        ({"bot": {"admins": "wxid_a"}}, "admins"),
        ({"groups": [{"room": "r1"}]}, "leader"),
        ({"groups": [{"room": "r1", "leader": "a"}, {"room": "r1", "leader": "b"}]}, "twice"),
        ({"bot": {"default_cutoff": "ten pm"}}, "22:00"),
        ({"products": [{"name": "苹果", "price": "cheap"}]}, "price"),
        ({"bot": {"adapter": "telegram"}}, "adapter"),
        ({"web": {"enabled": True, "token": "short"}}, r"\[web\] needs a token"),
        ({"web": {"port": 0}}, "port"),
    ],
)
def test_mistakes_are_named(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config\.example\.toml"):
        load_config(tmp_path / "nope.toml")


def test_the_dashboard_is_off_unless_asked_and_its_token_is_never_shown() -> None:
    assert load_config(REPO / "config.example.toml").web.enabled is False
    cfg = parse_config({"web": {"enabled": True, "token": "a-long-enough-token"}})
    assert (cfg.web.enabled, cfg.web.host, cfg.web.port) == (True, "127.0.0.1", 8081)
    assert "a-long-enough-token" not in repr(cfg)
