"""The chain parser against real messages (tests/fixtures/jielong, from ../shared/samples) and
against every format in DESIGN.md (tests/fixtures/parse_cases.txt), plus a fuzz run."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.parsing.chain_parser import parse_chain, parse_entry_line, parse_menu
from handlers.parsing.types import MAX_QTY

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = FIXTURES / "jielong"


def _expected() -> list[dict[str, object]]:
    with (SAMPLES / "expected.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.mark.parametrize("case", _expected(), ids=lambda c: str(c["file"]))
def test_real_chain_messages_parse_as_annotated(case: dict[str, object]) -> None:
    text = (SAMPLES / str(case["file"])).read_text(encoding="utf-8")
    got = [
        {k: e[k] for k in ("seq", "name", "items", "raw")}
        for e in parse_chain(text).to_json()["entries"]
    ]
    assert got == case["entries"]


def _cases() -> list[tuple[str, str]]:
    rows = []
    for line in (FIXTURES / "parse_cases.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            given_, expected = line.split("=>")
            rows.append((given_.strip(), expected.strip()))
    return rows


def _dash(text: str) -> str | None:
    return None if text == "-" else text


@pytest.mark.parametrize(("line", "expected"), _cases(), ids=[c[0][:12] for c in _cases()])
def test_design_formats(line: str, expected: str) -> None:
    name, items, note, flags = (p.strip() for p in expected.split("|"))
    entry = parse_entry_line(line)
    assert entry.name == _dash(name)
    want_items = []
    for spec in filter(None, (s.strip() for s in items.split(";"))):
        if spec == "-":
            continue
        *item_words, qty, unit = spec.split(" ")
        want_items.append((_dash(" ".join(item_words)), Decimal(qty), _dash(unit)))
    assert [(i.item, i.qty, i.unit) for i in entry.items] == want_items
    assert entry.note == _dash(note)
    assert entry.flags == ([] if flags == "-" else flags.split(","))
    assert entry.raw == line


def test_design_example_chain_head_menu_and_placeholder() -> None:
    text = (Path(__file__).parent / "transcripts" / "fruit_head.txt").read_text("utf-8")
    chain = parse_chain(text + "\n例 张三 苹果1份\n\n1. 姓名+商品数量\n2. 张三 苹果2份")
    assert chain.has_marker
    assert [e.raw for e in chain.entries] == ["2. 张三 苹果2份"]
    assert "例 张三 苹果1份" in chain.header and chain.skipped == ["1. 姓名+商品数量"]
    menu = parse_menu(chain.header)
    assert [(m.code, m.name, m.price, m.sale_unit) for m in menu] == [
        ("1", "烟台苹果", Decimal("12.8"), "3斤"),
        ("2", "海南香蕉", Decimal("9.9"), "把"),
    ]


def test_numbered_menu_with_prices_above_entries_is_header() -> None:
    chain = parse_chain(
        "#接龙 面包团\n1. 肉松小贝一盒三个 16.9/盒\n2. 蛋挞 ¥25/盒\n\n1. 小王 1x2\n2. 小李 2"
    )
    assert [e.name for e in chain.entries] == ["小王", "小李"]
    assert [(m.name, m.price, m.sale_unit) for m in parse_menu(chain.header)] == [
        ("肉松小贝一盒三个", Decimal("16.9"), "盒"),
        ("蛋挞", Decimal("25"), "盒"),
    ]


def test_unnumbered_chain_and_glued_names() -> None:
    chain = parse_chain("#接龙 水果团\n张三 苹果2斤\n李四 香蕉1把\n请大家按时取货")
    assert [(e.seq, e.name) for e in chain.entries] == [(None, "张三"), (None, "李四")]
    assert "请大家按时取货" in chain.header
    glued = parse_entry_line("1. 张三苹果2份", ["烟台苹果", "海南香蕉"])
    assert (glued.name, glued.items[0].item, glued.items[0].qty) == ("张三", "苹果", 2)
    alone = parse_entry_line(
        "5. 苹果2份", ["烟台苹果", "海南香蕉"]
    )  # no name: the poster is the orderer
    assert (alone.name, alone.items[0].item, alone.flags) == (None, "苹果", ["no_name"])
    unknown = parse_entry_line("1. 张三榴莲2个")
    # 张三 + 榴莲2个, or 张三榴莲 + 2个? Without a menu it is a guess: flagged for review.
    assert "ambiguous_name" in unknown.flags and unknown.needs_review


def test_chat_that_is_not_a_chain() -> None:
    for text in ("好的谢谢", "收到+1", "明天几点到？", "", "   \n  "):
        chain = parse_chain(text)
        assert not chain.is_chain and chain.entries == []


def test_500_entry_chain_parses_quickly_enough_to_be_usable() -> None:
    """A functional bound (not a benchmark): the figure to beat lives in `groupbuy bench`."""
    lines = [f"{n}. 住户{n} 苹果{n % 5 + 1}份 香蕉x2" for n in range(1, 501)]
    text = (Path(__file__).parent / "transcripts" / "fruit_head.txt").read_text("utf-8")
    start = time.perf_counter()
    chain = parse_chain(text + "\n\n" + "\n".join(lines))
    assert time.perf_counter() - start < 5  # seconds: catches runaway regexes only
    assert len(chain.entries) == 500


hostile = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("0123456789.、)）①＃#接龙+x×*份斤\n \u200b\u202e\u200d\ufe0f🌸-")),
    ),
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(text=hostile)
def test_parser_never_crashes_and_drops_nothing(text: str) -> None:
    chain = parse_chain(text)
    kept = "\n".join([chain.header, chain.footer, *chain.skipped, *(e.raw for e in chain.entries)])
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            assert line.strip() in kept
    for e in chain.entries:
        for item in e.items:
            assert item.qty <= MAX_QTY or "qty_out_of_range" in e.flags
            assert item.qty > 0 or "qty_out_of_range" in e.flags


def test_huge_and_deeply_punctuated_messages_finish() -> None:
    start = time.perf_counter()
    parse_chain("1. " + "苹果" * 50_000)
    parse_chain("（" * 20_000 + "1. 张三 苹果2份" + "）" * 20_000)
    parse_chain("\n".join(f"{n}. {'+' * 200}" for n in range(1, 300)))
    assert time.perf_counter() - start < 10


def test_a_single_line_is_read_against_the_rounds_menu_codes() -> None:
    """`改 3 2+4` in a round whose menu numbers its boxes: box 2 and box 4, nothing to ask."""
    boxes = parse_entry_line("3. 小鹿 2+4", ["芋泥麻薯", "芝士流心"], codes=["2", "4"])
    assert [(i.item, i.qty) for i in boxes.items] == [("2", 1), ("4", 1)]
    assert boxes.flags == [] and not boxes.needs_review
    unknown = parse_entry_line("3. 小鹿 2+4", ["芋泥麻薯", "芝士流心"])
    assert unknown.needs_review  # without the codes, bare numbers are a question


def _read(chain: str) -> list[tuple[object, ...]]:
    return [
        (e.seq, e.name, [(i.item, i.qty, i.unit) for i in e.items], e.note, e.needs_review)
        for e in parse_chain(chain).entries
    ]


def test_the_shop_after_the_dishes_is_a_note_not_a_dish() -> None:
    """Where entries name their shop in brackets, the shop written alone after the goods is
    where they come from; so is `X的菜`, and a word in the slot where others put `uni`."""
    got = _read(
        "1. 刘老五 春饼套餐（东方明珠）超市147258\n"
        "2. 亚森先生 青椒小炒肉（东方）梅菜扣肉（东方）uni PayPal\n"
        "3. Lulina 小炒辣子鸡，葱爆羊肉(不辣)  东方明珠 uni 现金\n"
        "4. Bombebon 三香豆干，麻酱粉皮 莲花的菜\n"
        "5. Coney997 鸭蛋10个 uni\n"
        "6. Felix 鸭蛋20个 möhringen\n"
    )
    assert [i[0] for i in got[2][2]] == ["小炒辣子鸡", "葱爆羊肉(不辣)"]
    assert "东方明珠" in str(got[2][3])
    assert [i[0] for i in got[3][2]] == ["三香豆干", "麻酱粉皮"]
    assert got[5][2] == [("鸭蛋", 20, "个")] and got[5][3] == "möhringen"


def test_extras_named_inside_a_set_meal_customisation_are_counted() -> None:
    """The head prices 黑凉粉 and 开胃萝卜; a portion line that names them inside its
    customisation orders them, each with the number written before it."""
    head = "今日套餐 杂粮饭\n黑凉粉3元（450毫升圆碗）\n小菜1元：开胃萝卜\n\n"
    got = _read(
        head + "1. 刘展-J区 6份（1饭盒 2黑凉粉 1炒饭换炒粉 米饭换炒面+黑凉粉+开胃萝卜）\n"
        "2. 小周 2份（1饭盒加黑凉粉）\n"
        "3. 阿May 1份 不要黑凉粉\n"
        "4. 老王 少饭\n"
    )
    assert got[0][2][0] == (None, 6, "份")
    assert sorted(got[0][2][1:]) == [("开胃萝卜", 1, None), ("黑凉粉", 3, None)]
    assert got[1][2] == [(None, 2, "份"), ("黑凉粉", 1, None)]
    assert got[2][4]  # `不要黑凉粉`: refused, so the leader reads it


def test_numbers_after_a_name_and_initials() -> None:
    """`🔆7` under a numbered menu is box 7; `Z r` is one name; `3栋502 李姐12` is a
    building-room and a nickname; `8 抹茶黑芝麻` (a box, a space, words) is asked about."""
    head = "#接龙\n1. 原味 25元\n7. 红豆 25元\n8. 抹茶 28元\n\n"
    got = _read(head + "1. 🔆7\n2. Z r 8\n3. 3栋502 李姐12 1\n4. Sarah 8 抹茶黑芝麻+7\n")
    assert got[0][1:3] == ("🔆", [("7", 1, None)])
    assert got[1][1] == "Z r"
    assert got[2][1] == "3栋502 李姐12"
    assert got[3][4]


def test_a_numbered_dish_list_over_portion_lines_is_one_set_meal() -> None:
    """No price sets the dishes apart and nobody names one: `2份` is two set meals."""
    got = _read("#接龙\n今日菜单\n1.红烧肉\n2.炒青菜\n\n1. 张三 2份\n2. 李四 1份 不要辣\n")
    assert [(g[1], g[2], g[4]) for g in got] == [
        ("张三", [(None, 2, "份")], False),
        ("李四", [(None, 1, "份")], False),
    ]


def test_format_words_glued_together_are_a_format_line() -> None:
    chain = parse_chain("#接龙\n周日爬山\n1. 姓名+人数\n2. 张三 2人\n3. 李四\n")
    assert chain.skipped == ["1. 姓名+人数"]
    assert [e.name for e in chain.entries] == ["张三", "李四"]


def test_a_repost_reuses_its_settled_lines_and_hands_out_fresh_entries() -> None:
    lines = "\n".join(f"{n}. 住户{n} 苹果2份" for n in range(1, 80))
    chain = "#接龙\n水果团 苹果 12.8元/3斤\n\n" + lines
    first = parse_chain(chain)
    first.entries[0].flags.append("accepted")  # the chain engine marks its own copies
    again = parse_chain(chain + "\n80. 新人 苹果1份")
    assert len(again.entries) == 80 and again.entries[0].flags == []
    assert [e.to_json() for e in again.entries[:79]] == [
        {**e.to_json(), "flags": []} if i == 0 else e.to_json() for i, e in enumerate(first.entries)
    ]


def test_the_leader_closing_the_list_in_its_next_slot_is_no_entry() -> None:
    chain = parse_chain("本周二夜场报名\n1. 张三\n2. 李四 +1\n3. 王五\n4. 人满截止")
    assert [e.name for e in chain.entries] == ["张三", "李四", "王五"]
    assert chain.skipped == ["4. 人满截止"]


def test_same_as_above_carries_the_goods_above_and_its_flag() -> None:
    head = "#接龙\n苹果 10元/斤\n香蕉 5元/把\n\n"
    got = parse_chain(head + "1. 张三 苹果一斤半\n2. 李四 同上\n").entries
    assert [(i.item, i.qty, i.unit) for i in got[1].items] == [("苹果", Decimal("1.5"), "斤")]
    assert "same_as_above" in got[1].flags


def test_a_check_in_keeps_its_own_numbered_list_and_both_names() -> None:
    chain = parse_chain(
        "#接龙\n早起打卡 第12天\n"
        "1. 颜泱 1. 尝试了一下把代码传入github。2. 肝工作\n"
        "2. 琴子 Miyo  6.35  6.40-7.20听力\n"
        "3. 西瓜（虽然但是还是记一下 8:10\n"
    )
    assert [(e.seq, e.name) for e in chain.entries] == [(1, "颜泱"), (2, "琴子 Miyo"), (3, "西瓜")]


def test_a_letter_code_followed_by_words_that_name_no_dish_is_asked_about() -> None:
    head = "#接龙\n周四午餐\nA：红烧排骨饭 25元\nC：素三鲜饭 18元\n\n"
    got = _read(head + "1. 孙八 C 老样子\n2. 张三 A 红烧排骨饭\n3. 李四 A2\n4. 周九 C 加饭\n")
    assert [g[4] for g in got] == [True, False, False, False]
    assert got[3][2] == [("C", 1, None)]  # 加饭 (more rice) is a note on box C


def test_a_game_night_sign_up_keeps_names_apart_from_their_remarks() -> None:
    head = "#接龙 9月7日 血染钟楼（下午场）\n"
    chain = parse_chain(head + "1. 清扬\n2. 老王（全天）\n3. 阿进（罐军授权）")
    assert chain.kind == "signup"
    assert [(e.name, e.note) for e in chain.entries] == [
        ("清扬", None),
        ("老王", "全天"),
        ("阿进", "罐军授权"),
    ]


def test_a_report_chain_whose_slots_hold_a_dot_reads_the_line_under_it() -> None:
    chain = parse_chain(
        "#接龙\n4月27日勤工俭学活动情况统计\n\n"
        "1. .\n北京王小琼家皮皮7岁，\n今天问询35次，\n给出4个书签，成交4本，\n当天收入85元。\n"
        "2. .\n广州缪峰家嘉龄4.5岁，\n今天问询10次，\n成交5本，\n当天收入110元，\n累计115本。\n"
    )
    assert chain.kind == "report"
    assert [(e.seq, e.name, e.items) for e in chain.entries] == [
        (1, "北京王小琼家皮皮7岁", []),
        (2, "广州缪峰家嘉龄4.5岁", []),
    ]


def test_a_roll_call_half_numbered_without_marks_is_one_list_of_answers() -> None:
    chain = parse_chain(
        "#接龙\n请上报有无返郑人员。没有就回复无\n\n"
        "1. 王墨宸无\n2. 朱可皓 无\n3. 母子轩妈妈 无\n\n4张恺腾无\n5吴锦心无\n6. 张三 6栋\n7李四 ?"
    )
    assert chain.kind == "checkin"
    assert [(e.seq, e.name) for e in chain.entries] == [
        (1, "王墨宸"),
        (2, "朱可皓"),
        (3, "母子轩妈妈"),
        (4, "张恺腾"),
        (5, "吴锦心"),
        (6, "张三"),
        (7, "李四"),
    ]


def test_paid_order_lines_stay_orders() -> None:
    """`已交` after goods says the money is paid: still an order chain, the word a note."""
    chain = parse_chain("#接龙 周五团购 苹果\n1. 张三 2斤 已交\n2. 李四 3斤 已交\n3. 王五 1斤 已交")
    assert chain.kind == "order"
    got = [(e.name, [(i.item, i.qty, i.unit) for i in e.items], e.note) for e in chain.entries]
    assert got == [
        ("张三", [(None, 2, "斤")], "已交"),
        ("李四", [(None, 3, "斤")], "已交"),
        ("王五", [(None, 1, "斤")], "已交"),
    ]


def test_a_supply_order_keeps_qualifiers_stops_and_unclear_each_counts() -> None:
    """A crew's supply order: a bracket after the quantity still qualifies the product, a
    full stop ends the sentence not the quantity, and `各一斤` amid other goods spreads over the
    kinds written since the last count (`小番茄 红和黄`: red and yellow, one pound each)."""
    got = _read(
        "1. 机工长  黄金油蟠桃3斤   香蕉3斤（青）  蒜蓉辣椒酱2瓶\n"
        "2. 机工姜艳平 老冰糖2斤，青香蕉3斤。\n"
        "3. 三管 红富士冰糖心4斤 小番茄 红和黄 各一斤 拉面3斤\n"
        "4. 张三 苹果2斤（送888）\n"
    )
    assert got[0][2] == [("黄金油蟠桃", 3, "斤"), ("香蕉（青）", 3, "斤"), ("蒜蓉辣椒酱", 2, "瓶")]
    assert not got[0][4]
    assert got[1][2] == [("老冰糖", 2, "斤"), ("青香蕉", 3, "斤")] and not got[1][4]
    assert ("小番茄 红和黄", 2, "斤") in got[2][2] and not got[2][4]
    assert ("红富士冰糖心", 4, "斤") in got[2][2] and ("拉面", 3, "斤") in got[2][2]
    assert got[3][2] == [("苹果", 2, "斤")]  # a door number in brackets stays a note


def test_a_roster_of_chinese_and_english_names_is_no_order() -> None:
    """A workplace survey roster (`汇丰调查问卷完成统计`): English names after or before the
    Chinese ones are people, not goods, so the bot opens no order round for it."""
    names = ["林俊杰 Jackie", "周楠 Victoria", "Kolor 陈家乐", "Kevin 梁思羽", "冼静 Jane"]
    names += ["赖霄-Sean", "覃淇韩", "Kyle 程珺", "李锦宇", "黄波-Boris"]
    chain = parse_chain(
        "#接龙\n汇丰调查问卷完成统计\n\n" + "\n".join(f"{i}. {n}" for i, n in enumerate(names, 1))
    )
    assert chain.kind == "signup"
    assert [e.name for e in chain.entries] == names
    assert all([(i.item, i.qty) for i in e.items] == [(None, 1)] for e in chain.entries)


def test_a_gym_groups_daily_log_is_a_check_in_not_an_order() -> None:
    """`#接龙 / 2026-09-24 / <a motto>` over what each member trained: body parts, minutes,
    kilometres. No goods are ordered, so the bot opens no round."""
    chain = parse_chain(
        "#接龙\n2026-09-24\n生活是自己的，你选择怎样的生活，就会成就怎样的你！\n"
        "1. 余杭-阿栗-运10 有氧\n2. 滨江阿豪-运1 背+爬坡50min✅\n"
        "3. 下沙-占占-运5 背 核心80分钟 爬楼20分钟\n4. 诸暨-淮落 胸\n5. 钱塘-Beyourself 背二头\n"
        "6. 滨江-小王 肩\n7. 萧山威少-运7 腿，112km"
    )
    assert chain.kind == "checkin"
    names = [e.name for e in chain.entries]
    assert names[:3] == ["余杭-阿栗-运10", "滨江阿豪-运1", "下沙-占占-运5"]
    assert all(not e.items for e in chain.entries)


def test_a_study_groups_log_over_several_lines_is_a_check_in() -> None:
    chain = parse_chain(
        "#接龙\n2026-10-10\n\n1. 星星-学5运5 \n单词757\n2. 丑Mi-学7运7中西医英语考试 \n学习三小时\n"
        "3. 王一-运3学5 \n梳头100下 11/100\n4. AA-学7 \n20世纪思想史 看至2-17\n"
        "5. 十六-学7-运3 \n学习3h"
    )
    assert chain.kind == "checkin"
    assert [e.name for e in chain.entries][:2] == ["星星-学5运5", "丑Mi-学7运7中西医英语考试"]
    assert all(not e.items for e in chain.entries)


def test_goods_chains_with_a_date_head_stay_orders() -> None:
    chain = parse_chain(
        "#接龙\n2026-09-24 水果团购\n1. 张三 苹果2斤\n2. 李四 香蕉3斤\n3. 王五 背心1件"
    )
    assert chain.kind == "order"


@pytest.mark.parametrize("mark", ["{n}. ", "{n}、", "({n}) ", "#{n} ", "第{n}位 "])
def test_entries_numbered_the_ways_people_number_them(mark: str) -> None:
    head = "#接龙\n苹果 5元/斤 梨 4元/斤\n"
    lines = ["张三 苹果2斤", "李四 梨1斤 自提", "王五 苹果3斤 已付款"]
    chain = parse_chain(head + "\n".join(mark.format(n=n) + t for n, t in enumerate(lines, 1)))
    got = [(e.seq, e.name, [(i.item, i.qty, i.unit) for i in e.items]) for e in chain.entries]
    assert got == [
        (1, "张三", [("苹果", Decimal(2), "斤")]),
        (2, "李四", [("梨", Decimal(1), "斤")]),
        (3, "王五", [("苹果", Decimal(3), "斤")]),
    ]
