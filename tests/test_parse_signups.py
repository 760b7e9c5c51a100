"""Sign-up chains from real shapes: events whose head also talks of a meal or a vote, duties
the head lists, remarks after a name, numbers inside remarks, and organisers' notices written
in a slot. Right or flagged, never silently wrong: a sign-up counts people, not goods.

Each test is a chain as a leader and residents write it, and what the bot reads from it."""

from __future__ import annotations

from decimal import Decimal

from handlers.parsing.chain_parser import parse_chain
from handlers.parsing.types import ParsedEntry


def people(entry: ParsedEntry) -> list[tuple[str | None, Decimal, str | None]]:
    return [(i.item, i.qty, i.unit) for i in entry.items]


ONE = [(None, Decimal(1), None)]


def test_a_vote_among_topics_while_signing_up_is_a_sign_up() -> None:
    chain = parse_chain(
        "#接龙 周六读书会 两本书投票选一本，顺便接龙报名\n"
        "1. 小雨 1\n2. 阿杰 2\n3. 老周 1和2都行\n4. 琪琪"
    )
    assert chain.kind == "signup"
    assert [e.name for e in chain.entries] == ["小雨", "阿杰", "老周", "琪琪"]
    assert parse_chain("#接龙 给宝宝投票\n1. 张三 已投\n2. 李四 已投").kind == "other"


def test_a_duty_the_head_lists_is_not_a_check_in_when_the_example_shows_a_role() -> None:
    chain = parse_chain(
        "#接龙 周末义卖 志愿者招募\n"
        "入口志愿者2名，负责签到\n"
        "收银志愿者1名\n"
        "例 小王+入口志愿者\n"
        "1. 阿May 入口志愿者\n2. 老李 收银志愿者\n3. Tom 入口志愿者"
    )
    assert chain.kind == "signup"
    assert [e.name for e in chain.entries] == ["阿May", "老李", "Tom"]
    assert all(people(e) == ONE for e in chain.entries)
    # a check-in's own example keeps it a check-in, training words and all
    gym = parse_chain(
        "#接龙 健身打卡\n例 打卡第X天 训练部位\n1. 小K 打卡第3天 腿\n2. 阿June 打卡第5天 背"
    )
    assert gym.kind == "checkin"


def test_an_event_with_a_meal_and_no_price_whose_entries_count_nothing_is_a_sign_up() -> None:
    chain = parse_chain(
        "#接龙 周五晚饭，大家一起做饺子，请备注想做的事：1，买菜（1-2人）；2，擀皮\n"
        "1. 阿花 买菜\n2. 大刘 擀皮\n3. 小七 打酱油\n4. 老周 买菜"
    )
    assert chain.kind == "signup"
    assert [(e.name, people(e), e.note) for e in chain.entries] == [
        ("阿花", ONE, "买菜"),
        ("大刘", ONE, "擀皮"),
        ("小七", ONE, "打酱油"),
        ("老周", ONE, "买菜"),
    ]
    # the same head over counts of dumplings is people ordering them
    order = parse_chain("#接龙 周五晚饭，一起吃饺子\n1. 阿花 2份\n2. 大刘 1份\n3. 小七 3份")
    assert order.kind == "order"
    # and a price in the head keeps it an order whatever the entries say
    priced = parse_chain("#接龙 周五晚饭 饺子20元一份，一起来\n1. 阿花\n2. 大刘 韭菜的")
    assert priced.kind == "order"
