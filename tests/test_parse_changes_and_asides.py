"""Words around the goods that change what an entry means: a count taken off (`-3份`), who the
goods are for (`亲友`), how they are shared (`和jay拼`), an extra counted with the meal
(`1份沙拉`). Each chain is written for the test in the shapes of the real ones."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from handlers.parsing.chain_parser import parse_chain
from handlers.parsing.types import FLAG_CANCEL, ParsedEntry

CORPUS = Path(__file__).resolve().parent / "corpus" / "real"
MEAL_HEAD = """#接龙
今日（周三）菜单
红烧腐竹，椒盐金针菇，干煸四季豆，杂粮饭
本群免费提供水果沙拉，需要的请备注“沙拉”
目前送餐路线：云谷～E东～J南～F南

1. 卫龙- H3 少饭，多菜
2. 小丛-D区，少饭
3. 华丽 D区 少饭
4. 程彩艳 H区 少饭
5. 大宇 E区 自备饭盒 多饭
6. 李皓晓 E区 换白米饭
"""


def _goods(entry: ParsedEntry) -> list[tuple[str | None, Decimal, str | None]]:
    return [(it.item, it.qty, it.unit) for it in entry.items]


def test_a_count_after_a_minus_takes_portions_off() -> None:
    chain = parse_chain(MEAL_HEAD + "7. 刘展-J区 13份\n8. 刘展-J区 -3份 2炒饭\n9. 刘展 -1份炒饭")
    first, fewer, one_fewer = chain.entries[-3:]
    assert FLAG_CANCEL not in first.flags
    assert FLAG_CANCEL in fewer.flags and _goods(fewer) == [(None, Decimal(3), "份")]
    assert FLAG_CANCEL in one_fewer.flags and _goods(one_fewer) == [(None, Decimal(1), "份")]


def test_a_minus_in_a_check_in_log_is_no_cancel() -> None:
    chain = parse_chain("#接龙\n早起打卡\n1. 李家鑫 8.00 -8.24 洗漱出门 -8.57 吃早餐")
    assert FLAG_CANCEL not in chain.entries[0].flags


def test_one_meal_with_salad_counts_one_of_each() -> None:
    chain = parse_chain(MEAL_HEAD + "7. 嘟嘟 E区 1份沙拉\n8. 春春 少饭 沙拉\n9. 果堃 2份沙拉")
    one, plain, two = chain.entries[-3:]
    assert _goods(one) == [(None, Decimal(1), "份"), ("沙拉", Decimal(1), None)]
    assert not one.needs_review
    assert _goods(plain) == [(None, Decimal(1), None), ("沙拉", Decimal(1), None)]
    assert two.needs_review  # two meals with salad, or two salads? the leader decides


def test_who_the_goods_are_for_is_a_note() -> None:
    # the head of a real chain (held_out5/h5029: drinks numbered 1-13), entries written here
    real = (CORPUS / "held_out5" / "h5029.txt").read_text("utf-8")
    head = real[: real.index(" 1. ")]
    chain = parse_chain(head + " 1. 阿May 1 2. Chen 12 + 亲友 2热 3. KK 2")
    chen = chain.entries[1]
    assert _goods(chen) == [("12", Decimal(1), None), ("2热", Decimal(1), None)]
    assert chen.note == "亲友" and not chen.needs_review


def test_sharing_or_spare_before_the_goods_is_a_note() -> None:
    head = "#接龙 帮带包子\n鲜肉包 2元/个\n瑞士卷 8元/个\n"
    chain = parse_chain(head + "1. 大周 有多，来4个瑞士卷\n2. 阿航 和jay拼，2个鲜肉包")
    spare, shared = chain.entries
    assert _goods(spare) == [("瑞士卷", Decimal(4), "个")] and spare.note == "有多"
    assert _goods(shared) == [("鲜肉包", Decimal(2), "个")] and shared.note == "和jay拼"


POTLUCK = """#接龙 周六中午，饺子宴共创，有猪肉白菜、三鲜、韭菜鸡蛋等多种馅，参与费每人10元，\
报名的伙伴可以在自己的名字后加上自己可以做的馅。
1. KC 猪肉白菜、三鲜
2. 振中 擀皮
3. KK 秀帅 和面，想吃韭菜鸡蛋
4. 💪 三鲜，韭菜鸡蛋都可以
"""


def test_in_a_potluck_what_each_cooks_is_a_note_and_each_is_one_place() -> None:
    chain = parse_chain(POTLUCK)
    assert chain.kind == "order"
    assert [(e.name, _goods(e), e.note) for e in chain.entries] == [
        ("KC", [(None, Decimal(1), None)], "猪肉白菜；三鲜"),
        ("振中", [(None, Decimal(1), None)], "擀皮"),
        ("KK 秀帅", [(None, Decimal(1), None)], "和面；想吃韭菜鸡蛋"),
        ("💪", [(None, Decimal(1), None)], "三鲜；韭菜鸡蛋都可以"),
    ]
    assert not any(e.needs_review for e in chain.entries)


def test_a_head_that_sells_dishes_is_no_potluck() -> None:
    chain = parse_chain(
        "#接龙 周六饺子 猪肉白菜20元/斤 三鲜25元/斤\n1. 小王 猪肉白菜2斤\n2. 小李 三鲜1斤"
    )
    assert [_goods(e) for e in chain.entries] == [
        [("猪肉白菜", Decimal(2), "斤")],
        [("三鲜", Decimal(1), "斤")],
    ]


def test_a_fee_paid_is_no_extra() -> None:
    chain = parse_chain(
        "#接龙 社区暑期少儿美术班 报名\n对象：大班-三年级（5-9岁）\n"
        "每周二、四 下午3:00-4:30 共8节 材料费80元\n请写：孩子姓名+年龄/年级+家长电话\n\n"
        "1. 小宇 三年级 9岁 已交材料费\n2. 朵朵 大班 5岁"
    )
    paid, plain = chain.entries
    assert _goods(paid) == [(None, Decimal(1), None)] and not paid.needs_review
    assert plain.note == "大班；5岁"  # the age as written, not `岁5`


def test_a_side_written_alone_after_the_place_is_one_more_with_the_meal() -> None:
    chain = parse_chain(
        "#接龙\n尖椒炒腐竹，秋葵炒木耳，杂粮饭\n黑凉粉3元\n目前送餐路线：云谷～E东～J南\n"
        "1. 张鑫-云谷 少饭\n2. 天天大王 云谷 换南瓜 沙拉\n3. 云华 云谷 沙拉\n4. 吴杏 云谷 少少饭"
    )
    salad = [(None, Decimal(1), None), ("沙拉", Decimal(1), None)]
    assert [_goods(e) for e in chain.entries] == [
        [(None, Decimal(1), None)],
        salad,
        salad,
        [(None, Decimal(1), None)],
    ]
    assert chain.entries[1].note == "云谷；换南瓜"
