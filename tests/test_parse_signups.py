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
    assert all(people(e) == ONE for e in chain.entries)  # `1`, `2` are topics, not heads
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


def test_an_english_or_emoji_nickname_keeps_its_remark_apart() -> None:
    chain = parse_chain(
        "#接龙 周六爬山报名\n"
        "1. Momo 有车\n"  # a remark: 有 starts no family name
        "2. Tina 划水版\n"
        "3. Kevin 梁思羽\n"  # the Chinese name after the English one
        "4. KK 秀帅 买水\n"  # initials, then the rest of the nickname, then the remark
        "5. Leo  just back on time\n"
        "6. Lily wang\n"  # two words: a name
        "7. 🌸，16号\n"
        "8. 帮Mia接上！"
    )
    assert chain.kind == "signup"
    assert [e.name for e in chain.entries] == [
        "Momo",
        "Tina",
        "Kevin 梁思羽",
        "KK 秀帅",
        "Leo",
        "Lily wang",
        "🌸",
        "Mia",
    ]
    momo, tina, _, kk, leo, _, flower, _ = chain.entries
    assert [e.note for e in (momo, tina, kk, leo, flower)] == [
        "有车",
        "划水版",
        "买水",
        "just back on time",
        "16号",
    ]
    assert all(people(e) == ONE and not e.needs_review for e in chain.entries)


def test_a_number_of_people_inside_a_sentence_is_no_head_count() -> None:
    chain = parse_chain(
        "#接龙 周日野餐报名\n"
        "1. 阿花 B区，我们三人都在公园门口，谁来这里一起玩吗？\n"
        "2. 大刘，报名的五位朋友，不好意思，今天取消\n"
        "3. 小七 （天凉一点的话再带一人一起）\n"
        "4. 老周 4人\n"
        "5. 王五 一家3口\n"
        "6. 钱 带家属3人"
    )
    flower, liu, seven, zhou, wang, qian = chain.entries
    assert people(flower) == ONE and people(seven) == ONE
    assert people(liu) == ONE and "cancel" in liu.flags
    assert people(zhou) == [(None, 4, "人")]  # the count alone, or with a word or two
    assert people(wang) == [(None, 3, "口")]
    assert people(qian) == [(None, 3, "人")]


def test_an_organisers_notice_in_a_slot_signs_no_one_up() -> None:
    chain = parse_chain(
        "#接龙 端午晚会报名\n"
        "1. 阿花\n"
        "2. 由于晚上下雨，场地改到b1活动室，大家快来！\n"
        "3. 期待大家的报名，这是我们的第一场活动！\n"
        "4. 哈哈哈，场地订好了。那就7点半开始\n"
        "5. 时间管理大师\n"  # a nickname, however it starts
        "6. 没见过世面的云南人必须要来"
    )
    flower, rain, hope, laugh, master, yunnan = chain.entries
    for notice in (rain, hope, laugh):
        assert (notice.name, notice.items, notice.needs_review) == (None, [], False)
        assert "notice" in notice.flags and notice.note == notice.raw.split(". ", 1)[1]
    assert [(e.name, people(e)) for e in (flower, master, yunnan)] == [
        ("阿花", ONE),
        ("时间管理大师", ONE),
        ("没见过世面的云南人必须要来", ONE),
    ]


def test_a_named_slot_arranging_the_meeting_is_asked_about() -> None:
    chain = parse_chain(
        "#接龙 周六骑行报名\n"
        "1. 阿花 想一起出发的可以6点在南门集合\n"
        "2. 大刘 咱们可以每人带点吃的，大家一起分享\n"
        "3. 小七 上午11:00报名截止哦\n"  # the leader's own line with a deadline: coming
        "4. 老周 你们开吃了吗，没有的话我来\n"
        "5. 阿June\n6. 小雨\n7. Tom"
    )
    assert chain.kind == "signup"
    flower, liu, seven, zhou = chain.entries[:4]
    assert flower.needs_review and "arranging" in flower.flags
    assert liu.needs_review and "arranging" in liu.flags
    assert people(flower) == ONE and people(liu) == ONE  # kept as read, the leader decides
    assert not seven.needs_review and not zhou.needs_review
    assert people(seven) == ONE and people(zhou) == ONE


def test_a_remark_in_brackets_after_a_name_keeps_its_comma() -> None:
    chain = parse_chain("#接龙 周六郊游报名\n1. 杨光（有车搭就去，没有就算了）\n2. 阿花")
    assert chain.entries[0].name == "杨光（有车搭就去，没有就算了）"
    assert people(chain.entries[0]) == ONE


def test_a_slot_saying_sorry_or_next_time_is_asked_about() -> None:
    chain = parse_chain(
        "#接龙 周六飞盘报名\n"
        "1. 阿花\n"
        "2. 草莓 抱歉啊，下次来玩\n"
        "3. 球球不好意思呀，下午改去游泳啦～\n"
        "4. 小K 不好意思各位，今晚有事，取消\n"  # says 取消: plainly out, nothing to ask
        "5. 大刘"
    )
    flower, berry, ball, k, liu = chain.entries
    assert berry.needs_review and "withdrawing" in berry.flags
    assert ball.needs_review and "withdrawing" in ball.flags
    assert "cancel" in k.flags and not k.needs_review
    assert not flower.needs_review and not liu.needs_review


def test_the_format_filled_in_with_a_placeholder_name_is_no_one() -> None:
    chain = parse_chain(
        "#接龙\n讲座报名接龙\n例 专业班级姓名\n\n"
        "1. 20电信1班某某某\n2. 20电信1班陈明\n3. 20计科2班王芳"
    )
    assert [e.name for e in chain.entries] == ["20电信1班陈明", "20计科2班王芳"]
    assert chain.skipped == ["1. 20电信1班某某某"]


def test_prize_money_and_a_shared_purchase_are_no_goods_on_sale() -> None:
    tournament = parse_chain(
        "#接龙 第三届象棋擂台赛 今晚八点开赛，参赛报名30元。"
        "第一名奖金200元，第二名100元，第三名50元 欢迎参加！\n"
        "1. 阿花\n2. 大刘\n3. Tom\n4. 小七"
    )
    assert tournament.kind == "signup" and tournament.menu == []
    assert all(people(e) == ONE for e in tournament.entries)
    crowdfund = parse_chain(
        "#接龙 众筹一台投影仪，120元\n1. 阿花\n2. 大刘 支持\n3. Tom\n4. 小七\n5. 老周"
    )
    assert crowdfund.kind == "signup" and crowdfund.menu == []
    # a price for goods still makes the menu
    assert parse_chain("#接龙 烤鸭 58元一只\n1. 阿花 1只\n2. 大刘 2只").kind == "order"


def test_grown_ups_and_children_and_a_friend_along_are_counted_as_people() -> None:
    chain = parse_chain(
        "#接龙 中秋游园会报名\n每户限报4人，报名请写 楼号+姓名+人数\n"
        "1. 小雨妈妈 大人1 小孩2\n2. 7-1-1501 Cathy 2大1小\n3. Jerry +1 朋友\n"
        "4. 老周 大人2\n5. 阿May 2人"
    )
    assert chain.kind == "signup"
    assert [people(e)[0][1] for e in chain.entries] == [3, 3, 2, 2, 2]
    assert not any(e.needs_review for e in chain.entries)


def test_a_dinner_priced_per_head_counts_a_family_as_its_places() -> None:
    chain = parse_chain(
        "#接龙 小区业主年夜饭 每人88元 小孩半价\n请写房号+人数（大人/小孩）\n"
        "1. 3-1-201 王 2大1小\n2. 8-1-1101 陈 大人2 小孩2\n3. 12-302 赵奶奶 1"
    )
    assert [people(e) for e in chain.entries] == [
        [(None, Decimal(3), None)],
        [(None, Decimal(4), None)],
        ONE,
    ]


def test_someone_bringing_others_counts_them_too() -> None:
    chain = parse_chain("#接龙 周日爬山\n1. 弦默\n2. 大羽带两个人\n3. 李姐带孙子\n4. 阿凯 带2个人")
    assert [(e.name, people(e)[0][1]) for e in chain.entries] == [
        ("弦默", 1),
        ("大羽", 3),
        ("李姐", 2),
        ("阿凯", 3),
    ]


def test_a_number_after_a_name_picks_one_of_the_events_numbered_by_their_days() -> None:
    chain = parse_chain(
        "#接龙\n【社区端午刺绣系列活动·预报名接龙】\n"
        "1️⃣ 布艺刺绣手袋 —— 6月15日\n2️⃣ 刺绣布艺 —— 6月17日\n3️⃣ 端午香囊 —— 6月19日\n"
        "1. 小客服\n2. 阿城 2"
    )
    assert people(chain.entries[1]) == ONE and chain.entries[1].note == "2"


def test_a_tally_of_one_emoji_per_friend_is_a_check_in() -> None:
    chain = parse_chain(
        "#接龙\n\n1. yuxii3 💩💩💩💩💩\n2. joanne(; 💩💩💩\n3. 保温杯里伏特加 💩💩💩💩"
    )
    assert chain.kind == "checkin"
    assert [e.name for e in chain.entries] == ["yuxii3", "joanne(;", "保温杯里伏特加"]
    assert [e.note for e in chain.entries] == ["💩💩💩💩💩", "💩💩💩", "💩💩💩💩"]


def test_a_list_above_the_example_line_is_the_head_not_entries() -> None:
    chain = parse_chain(
        "接龙\n『中期报告提交确认』\n需提交内容包括：\n1、组委会要求提交的报告\n"
        "2、社区要求提交的博客\n请各个项目的同学完成后接龙确认。\n例 姓名/项目简称/Issue#"
    )
    assert chain.entries == []
    grown = parse_chain(
        "接龙\n『中期报告提交确认』\n需提交内容包括：\n1、组委会要求提交的报告\n"
        "2、社区要求提交的博客\n请各个项目的同学完成后接龙确认。\n例 姓名/项目简称/Issue#\n"
        "1. 小王/wechaty-ui/#12"
    )
    assert [e.seq for e in grown.entries] == [1]


def test_couples_and_partners_and_grown_ups_alone_are_counted() -> None:
    chain = parse_chain(
        "邻里百家宴 报名\n请写人数\n1. 阿东 两口子\n2. 陈凤英 66 6栋 和老伴一起\n"
        "3. 丁丁妈妈 2大\n4. 马天宇 请假"
    )
    assert [people(e)[0][1] for e in chain.entries[:3]] == [2, 2, 2]
    assert chain.entries[3].needs_review  # on leave: not coming, for the leader to see
