"""A day in three groups on two routes: chains, 截单 at 22:00, the tally, arrival and pickups.

Amounts are exact: 烟台苹果 sells at 12.80 per portion of 3斤, 海南香蕉 at 9.90 per 把.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from handlers.exports import write_exports
from handlers.people import named_tally
from handlers.reports import tally_report
from models.store.tally import LeaderMonth, monthly_reconciliation
from tests.chains import Chain
from tests.chat import ChatHarness
from tests.conftest import TZ, make_config, make_harness, split_schema

GROUPS = [
    {"room": "east1", "topic": "幸福里", "leader": "wxid_lead_east1", "route": "东线"},
    {
        "room": "east2",
        "topic": "阳光花园",
        "leader": "wxid_lead_east2",
        "leader_name": "王姐",  # named by the operator: wins over the display name
        "route": "东线",
        "commission_rate": "0.12",
    },
    {
        "room": "west1",
        "topic": "西湖小区",
        "leader": "wxid_lead_west1",
        "route": "西线",
        "pickup_point": "西湖小区南门",
    },
]


# What each leader's WeChat shows as their name (east2's is overruled by the config file).
LEADER_SAYS = {"east1": "李姐", "east2": "阳光花园-团长", "west1": "赵哥"}


@pytest.fixture
async def day(db_url: str) -> AsyncIterator[ChatHarness]:
    base, _ = split_schema(db_url)
    bot = await make_harness(db_url, make_config(base, groups=GROUPS))
    try:
        yield bot
    finally:
        await bot.app.close()


async def chain_day(bot: ChatHarness, *, extra_east1: str | None = None) -> None:
    for g in GROUPS:
        await bot.post(LEADER_SAYS[g["room"]], Chain().text, room=g["room"], sender=g["leader"])
    east1 = Chain().add("张三 苹果2份", "李四 香蕉x2")
    await bot.post("李四", east1.text, room="east1")
    if extra_east1 is not None:  # a later order that its poster then cancels
        await bot.post("钱多多", east1.add(extra_east1).text, room="east1")
        await bot.post("钱多多", "取消", room="east1")
    east2 = Chain().add("王五 1号x3", "赵六 苹果6斤")  # 6斤 of a 3斤 portion: two portions
    await bot.post("赵六", east2.text, room="east2")
    west1 = Chain().add("钱七 香蕉1把", "孙八 苹果1份", "周九 榴莲2个")
    await bot.post("周九", west1.text, room="west1")
    await bot.at("22:00")


async def test_tally_per_round_product_and_route(day: ChatHarness) -> None:
    await chain_day(day)
    async with day.app.db.connect() as conn:
        report = await tally_report(conn, day.app.config, date(2026, 11, 23))
    rounds = {r["room"]: r for r in report["rounds"]}  # type: ignore[index, union-attr]
    assert rounds["east1"]["totals"] == {
        "烟台苹果": {"qty": 2, "unit": "份", "amount": "25.60"},
        "海南香蕉": {"qty": 2, "unit": "把", "amount": "19.80"},
    }
    assert (rounds["east1"]["amount"], rounds["east1"]["commission"]) == ("45.40", "4.54")
    # 王五 3 portions (38.40) + 赵六 6斤 = 2 portions (25.60); 12% commission
    # one product, one unit of sale: 6斤 is counted as the two portions it is
    assert rounds["east2"]["totals"] == {"烟台苹果": {"qty": 5, "unit": "份", "amount": "64.00"}}
    assert (rounds["east2"]["amount"], rounds["east2"]["commission"]) == ("64.00", "7.68")
    # 榴莲 is not on the menu: held for the leader's decision, never a ¥0.00 line in a total.
    assert "榴莲" not in rounds["west1"]["totals"] and rounds["west1"]["held"] == 1
    assert rounds["west1"]["amount"] == "22.70"
    assert {r["status"] for r in rounds.values()} == {"closed"}
    assert report["routes"]["东线"]["amount"] == "109.40"  # type: ignore[index]
    assert report["routes"]["西线"]["amount"] == "22.70"  # type: ignore[index]
    assert report["products"]["烟台苹果"] == {"qty": 8, "unit": "份", "amount": "102.40"}  # type: ignore[index]
    async with day.app.db.connect() as conn:
        other_day = await tally_report(conn, day.app.config, date(2026, 11, 24))
    assert other_day["rounds"] == []
    # Each leader got the summary privately at cutoff, with their own commission rate.
    [east2] = [t for t in day.private_texts("wxid_lead_east2") if t.startswith("【截单汇总】")]
    assert "共2单" in east2 and "金额 ¥64.00，佣金 ¥7.68（12%）" in east2


async def test_arrival_reminder_and_pickups(day: ChatHarness) -> None:
    await chain_day(day)
    await day.post("团长", "到货", room="west1", sender="wxid_lead_west1")
    reminder = day.group_texts()[-1]
    assert reminder.startswith("【到货】") and "西湖小区南门" in reminder
    assert "1号 钱七" in reminder and "3号 周九" in reminder
    await day.post("团长", "到货", room="west1", sender="wxid_lead_west1")  # once only
    assert sum("【到货】" in t for t in day.group_texts()) == 1
    await day.post("团长", "#已取 1 3 9", room="west1", sender="wxid_lead_west1")
    [note] = [t for t in day.private_texts("wxid_lead_west1") if "已记录取货" in t]
    assert "1号 钱七" in note and "3号 周九" in note and "没有第9条" in note
    # 周九 wrote all three lines (代接): pickups go by contact id, so 孙八 saying 已取 marks
    # nothing (anyone can rename themselves 孙八); the poster or the leader's number does.
    await day.post("孙八", "已取", room="west1")
    async with day.app.db.connect() as conn:
        report = await tally_report(conn, day.app.config)
    west = next(r for r in report["rounds"] if r["room"] == "west1")  # type: ignore[index, union-attr]
    assert (west["picked"], west["waiting"]) == (2, 1)
    await day.post("周九", "已取", room="west1")
    async with day.app.db.connect() as conn:
        report = await tally_report(conn, day.app.config)
    west = next(r for r in report["rounds"] if r["room"] == "west1")  # type: ignore[index, union-attr]
    assert (west["picked"], west["waiting"]) == (3, 0)
    await day.post("张三", "到货", room="east1")  # a resident cannot
    east = next(r for r in report["rounds"] if r["room"] == "east1")  # type: ignore[index, union-attr]
    assert (east["picked"], east["waiting"]) == (0, 2)
    assert not any("【到货】" in t and "张三" in t for t in day.group_texts())


async def test_exports_open_in_openpyxl_and_add_up_to_the_tally(
    day: ChatHarness, tmp_path: Path
) -> None:
    await chain_day(day)
    async with day.app.db.connect() as conn:
        report = await named_tally(conn, day.app.config, date(2026, 11, 23))
    paths = write_exports(report, tmp_path, "团购-2026-11-23")
    assert [p.name for p in paths] == [
        "团购-2026-11-23.xlsx",
        "团购-2026-11-23-配送清单.csv",
        "团购-2026-11-23-排序列表.csv",
        "团购-2026-11-23-总清单.csv",
        "团购-2026-11-23-退款.csv",
    ]
    wb = load_workbook(paths[0])
    assert wb.sheetnames == ["配送清单", "排序列表", "总清单", "退款"]
    *delivery, total_row = list(wb["配送清单"].iter_rows(min_row=2, values_only=True))
    assert total_row[0] == "合计" and round(Decimal(str(total_row[7])) * 100) == 13210
    # Route → leader order, and the amounts add up to the tally to the fen.
    assert [row[0] for row in delivery] == sorted(row[0] for row in delivery)
    total_fen = sum(round(Decimal(str(row[7])) * 100) for row in delivery)
    tally_fen = sum(r.amount_fen for r in report.rounds)
    assert total_fen == tally_fen == 13210
    assert {row[1] for row in delivery} == {"李姐", "王姐", "赵哥"}  # names, not contact ids
    west_rows = [row for row in delivery if row[1] == "赵哥"]
    assert ("海南香蕉", 1, "把") in [(r[4], r[5], r[6]) for r in west_rows]
    sorting = {row[0]: row for row in wb["排序列表"].iter_rows(min_row=2, values_only=True)}
    header = next(wb["排序列表"].iter_rows(max_row=1, values_only=True))
    assert header == ("商品", "单位", "东线", "西线", "合计")
    assert sorting["烟台苹果"][2:] == (7, 1, 8)  # 赵六's 6斤 counted as its 2 portions
    totals = {row[0]: row for row in wb["总清单"].iter_rows(min_row=2, values_only=True)}
    assert totals["烟台苹果"][1:] == (8, "份", 102.4)
    with paths[3].open(encoding="utf-8-sig") as fh:
        assert next(csv.reader(fh)) == ["商品", "数量", "单位", "金额"]


def test_export_command_writes_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main
    from tests.test_replay_cli import REPO, write_config

    cfg = write_config(tmp_path)
    assert main(["replay", str(REPO / "bot" / "demo" / "day.jsonl"), "--config", str(cfg)]) == 0
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["export", "--config", str(cfg), "--date", "2026-11-23", "--out", str(out)]) == 0
    wb = load_workbook(out / "团购-2026-11-23.xlsx")
    *amounts, total = [row[7] for row in wb["配送清单"].iter_rows(min_row=2, values_only=True)]
    # the fruit chain (12份 of apples, 3把 of bananas) and the one-line head's 3箱 of oranges
    assert round(sum(amounts), 2) == total == 303.00


async def test_daily_pickup_reminder_names_only_those_waiting(day: ChatHarness) -> None:
    await chain_day(day)
    await day.post("团长", "到货", room="west1", sender="wxid_lead_west1")
    await day.post("团长", "已取 1", room="west1", sender="wxid_lead_west1")  # 钱七's line
    await day.at("17:59", day=24)
    assert not any("【取货提醒】" in t for t in day.group_texts())
    await day.at("18:00", day=24)
    await day.at("18:30", day=24)  # the trigger fires again: still one reminder that day
    [reminder] = [t for t in day.group_texts() if t.startswith("【取货提醒】")]
    assert "钱七" not in reminder and "2号 孙八" in reminder and "3号 周九" in reminder
    await day.post("团长", "已取 2 3", room="west1", sender="wxid_lead_west1")
    await day.at("18:00", day=25)
    assert sum(t.startswith("【取货提醒】") for t in day.group_texts()) == 1  # nobody waits


async def test_monthly_reconciliation_per_leader(day: ChatHarness) -> None:
    await chain_day(day, extra_east1="钱多多 苹果1份")
    await day.post("团长", "到货", room="west1", sender="wxid_lead_west1")
    await day.post("团长", "已取 1 2", room="west1", sender="wxid_lead_west1")
    async with day.app.db.connect() as conn:
        rows = await monthly_reconciliation(conn, TZ, 2026, 11)
        december = await monthly_reconciliation(conn, TZ, 2026, 12)
    assert december == []
    assert rows == [  # leader, rounds, sales and commission in fen, cancelled, orders, picked
        LeaderMonth(
            "wxid_lead_east2",
            rounds=1,
            sales_fen=6400,
            commission_fen=768,
            cancelled=0,
            orders=2,
            picked=0,
        ),
        LeaderMonth(
            "wxid_lead_east1",
            rounds=1,
            sales_fen=4540,
            commission_fen=454,
            cancelled=1,
            orders=2,
            picked=0,
        ),
        LeaderMonth(
            "wxid_lead_west1",
            rounds=1,
            sales_fen=2270,
            commission_fen=227,
            cancelled=0,
            orders=3,
            picked=2,
        ),
    ]
    await day.post("管理员", "月结 2026-11", room=None, sender="wxid_admin")
    assert day.private_texts("wxid_admin")[-1].startswith(
        "【2026年11月 月结】\n王姐：1团，销售 ¥64.00，佣金 ¥7.68，取消 0，已取 0/2，"
        "已收 ¥0.00，待收 ¥64.00，佣金余额 ¥7.68\n李姐：1团"
    )


async def test_a_leader_has_no_power_in_another_leaders_group(day: ChatHarness) -> None:
    await chain_day(day)
    await day.post("东一团长", "#到货", room="west1", sender="wxid_lead_east1")
    assert "只有团长可以“到货”" in day.group_texts()[-1]
    await day.post("东一团长", "删 1", room="west1", sender="wxid_lead_east1")
    async with day.app.db.connect() as conn:
        report = await tally_report(conn, day.app.config)
    west = next(r for r in report["rounds"] if r["room"] == "west1")
    assert west["waiting"] == 3 and not any("【到货】" in t for t in day.group_texts())


async def test_admin_leader_detail_and_a_leaders_own_export(
    day: ChatHarness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("handlers.private.EXPORTS_DIR", tmp_path)
    await chain_day(day)
    await day.post("管理员", "团长 王姐 11月23日", room=None, sender="wxid_admin")
    detail = day.private_texts("wxid_admin")[-1]
    assert detail.startswith("【王姐 2026-11-23】阳光花园（东线）\n11月23日 水果团［已截单］")
    assert "合计 ¥64.00" in detail and "佣金 ¥7.68" in detail
    await day.post("赵哥", "导出 2026-11-23", room=None, sender="wxid_lead_west1")
    [sent] = [s for s in day.said if s.to == "wxid_lead_west1" and s.file_path]
    assert sent.file_path is not None
    name = Path(sent.file_path).name  # what the leader sees in WeChat
    assert name.startswith("团购-2026-11-23-赵哥-") and "wxid" not in name
    rows = list(load_workbook(sent.file_path)["配送清单"].iter_rows(min_row=2, values_only=True))
    assert [r[:2] for r in rows] == [("西线", "赵哥"), ("西线", "赵哥"), ("合计", None)]
    assert round(sum(r[7] for r in rows[:-1]), 2) == rows[-1][7] == 22.70
