"""The `groupbuy` command's contracts: replay, orders --json, parse, demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"
REPO = Path(__file__).resolve().parents[1]


def write_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        (REPO / "bot" / "demo" / "config.toml")
        .read_text(encoding="utf-8")
        .replace("groupbuy-demo.db", str(tmp_path / "day.db")),
        encoding="utf-8",
    )
    return cfg


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(args) == 0
    return capsys.readouterr().out


def test_replay_prints_what_the_bot_says_and_twice_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path)
    day = str(REPO / "bot" / "demo" / "day.jsonl")
    first = [
        json.loads(x) for x in run_cli(["replay", day, "--config", str(cfg)], capsys).splitlines()
    ]
    assert all(set(r) == {"ts", "room", "to", "text"} for r in first)
    texts = [r["text"] for r in first]
    assert any("已开团" in t for t in texts)  # private note to the leader
    assert any("合并" in t or "漏掉" in t for t in texts)  # the fork merged once
    assert any("榴莲" in t for t in texts)  # an item not on the menu
    assert any("已取消" in t for t in texts)  # 李姐's 取消
    assert any(t.startswith("【已截单】") for t in texts)  # the final list at 22:00
    assert any("已截单（11月23日 22:00）" in t for t in texts)  # the late post, answered once
    opened = next(r for r in first if "已开团" in r["text"])
    assert opened["room"] is None and opened["to"] == "wxid_leader_li"

    orders_before = run_cli(["orders", "--config", str(cfg), "--json"], capsys)
    second = run_cli(["replay", day, "--config", str(cfg)], capsys)
    assert second == ""
    assert run_cli(["orders", "--config", str(cfg), "--json"], capsys) == orders_before


def test_orders_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    run_cli(["replay", str(REPO / "bot" / "demo" / "day.jsonl"), "--config", str(cfg)], capsys)
    data = json.loads(run_cli(["orders", "--config", str(cfg), "--json"], capsys))
    [rnd, oranges] = data["rounds"]  # the fruit chain, and a one-line head's round
    assert [o["items"] for o in oranges["orders"]] == [  # 20斤 of 39.9元/箱（10斤）: two 箱
        [{"product": "赣南脐橙", "qty": 2, "unit": "份"}],
        [{"product": "赣南脐橙", "qty": 1, "unit": "份"}],
    ]
    assert set(rnd) >= {"id", "room", "status", "orders"}
    assert rnd["status"] == "closed"
    by_name = {o["name"]: o for o in rnd["orders"]}
    assert "3栋502 李姐" not in by_name  # cancelled
    assert by_name["张三"]["items"] == [{"product": "烟台苹果", "qty": 3, "unit": "份"}]
    assert by_name["王五"]["poster"] == "wxid_wangwu"  # kept although 赵六's fork dropped it
    assert by_name["隔壁刘奶奶"]["poster"] == "wxid_sun"  # ordered by a neighbour
    assert "陈陈" not in by_name  # after cutoff
    # 钱七 copied the chain from before 张三's edit: 张三 stays at 3份, 钱七's 6斤 is 2份
    assert by_name["钱七"]["items"] == [{"product": "烟台苹果", "qty": 2, "unit": "份"}]
    assert [o["name"] for o in rnd["orders"]].count("张三") == 1
    for o in rnd["orders"]:
        assert set(o) >= {"name", "poster", "items"}
        for item in o["items"]:
            assert set(item) == {"product", "qty", "unit"}


def test_parse_command_prints_the_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    msg = tmp_path / "chain.txt"
    msg.write_text(
        (TRANSCRIPTS / "fruit_head.txt").read_text("utf-8") + "\n1. 张三 苹果2份\n", "utf-8"
    )
    out = json.loads(run_cli(["parse", str(msg)], capsys))
    assert "水果团" in out["header"]
    assert out["entries"] == [
        {
            "seq": 1,
            "name": "张三",
            "items": [{"item": "苹果", "qty": 2, "unit": "份"}],
            "note": None,
            "raw": "1. 张三 苹果2份",
            "flags": [],
            "confidence": 1.0,
        }
    ]
    assert out["kind"] == "order"


def test_bad_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[bot]\ntimezone = "Mars/Olympus"\n', "utf-8")
    assert main(["orders", "--config", str(cfg)]) == 2
    assert "Mars/Olympus" in capsys.readouterr().err


def test_demo_runs_as_a_subprocess() -> None:
    """The README's first command ends in `groupbuy demo`: it must work from a plain process."""
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=True,
    ).stdout
    assert "【已截单】" in out and "最终订单" in out and "隔壁刘奶奶" in out
