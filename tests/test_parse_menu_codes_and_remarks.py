"""Shapes from real chains: box numbers glued to names, flavours picked for a box, `各` amid
other goods, conditions and talk where goods go, and chains bought by the money's worth.

Each test is a chain as a leader and residents write it, and what the bot reads from it."""

from __future__ import annotations

from decimal import Decimal

from handlers.parsing.chain_parser import parse_chain, parse_entry_line
from handlers.parsing.menu import parse_menu
from handlers.parsing.types import ParsedEntry

BAKERY = (
    "#接龙\n"
    "1. 肉松小贝一盒三个（原味/咸蛋黄/芋泥）16.9/21.9/19.9\n"
    "2. 生巧焦糖香蕉布丁小方 22.9\n"
    "4. 酱多多麻薯蛋糕卷 19.9\n"
    "8. 牛油酥皮小泡芙一盒四个（原味/抹茶/黑芝麻/巧克力/焙茶）26.9\n"
)


def goods(entry: ParsedEntry) -> list[tuple[str | None, Decimal, str | None]]:
    return [(i.item, i.qty, i.unit) for i in entry.items]


def test_a_menu_line_priced_after_its_choices_or_per_choice_is_read() -> None:
    menu = parse_menu(BAKERY)
    assert [(m.code, m.price, m.sale_unit) for m in menu] == [
        ("1", Decimal("16.9"), None),  # the first of a price per choice, no unit `21.`
        ("2", Decimal("22.9"), None),
        ("4", Decimal("19.9"), None),
        ("8", Decimal("26.9"), None),
    ]


def test_flavours_picked_for_a_box_are_its_note_and_other_words_are_asked_about() -> None:
    chain = parse_chain(BAKERY + "1. Sarah 8 抹茶黑芝麻巧克力抹茶+4\n2. 小鹿 8 红丝绒+2")
    sarah, deer = chain.entries
    assert goods(sarah) == [("8", 1, None), ("4", 1, None)]
    assert sarah.note == "抹茶黑芝麻巧克力抹茶" and not sarah.needs_review
    # `红丝绒` is none of box 8's flavours: a note or part of the box? The leader decides.
    assert deer.needs_review and "leftover" in deer.flags


def test_a_box_number_glued_to_a_name_is_the_box_ordered() -> None:
    chain = parse_chain(BAKERY + "1. Riki4\n2. Jay8 冰\n3. 李姐2\n4. 小雨 2+4")
    riki, jay, sister, rain = chain.entries
    assert (riki.name, goods(riki), riki.needs_review) == ("Riki", [("4", 1, None)], False)
    assert (jay.name, goods(jay), jay.note) == ("Jay", [("8", 1, None)], "冰")
    # `李姐2` is how people number their nicknames: box 2, or nothing ordered? Asked.
    assert sister.needs_review and "ambiguous_name" in sister.flags
    assert goods(rain) == [("2", 1, None), ("4", 1, None)] and not rain.needs_review


def test_each_amid_other_goods_spreads_over_the_kinds_since_the_last_count() -> None:
    e = parse_entry_line("5. 三管 红富士4斤 小番茄 红和黄 各一斤 甜瓜 3斤 拉面3斤")
    assert sorted(goods(e), key=str) == sorted(
        [
            ("红富士", 4, "斤"),
            ("小番茄 红和黄", 2, "斤"),  # red and yellow: two kinds of one product
            ("甜瓜", 3, "斤"),
            ("拉面", 3, "斤"),
        ],
        key=str,
    )
    assert not e.needs_review
    e = parse_entry_line("3. 王五 苹果2斤 香蕉 橙子各1斤")
    assert sorted(goods(e), key=str) == sorted([("苹果", 2, "斤"), ("香蕉 橙子", 2, "斤")], key=str)
    assert goods(parse_entry_line("1. 张三 苹果、梨各一斤")) == [("苹果、梨", 2, "斤")]


def test_a_condition_written_in_a_slot_is_no_count() -> None:
    chain = parse_chain("#接龙 好吃不贵的快餐，一起来点\n1. 阿瑞  十人以上可送\n2. Suzy")
    first, _ = chain.entries
    assert goods(first) == [(None, 1, None)]  # one meal, not ten people
    assert first.note == "十人以上可送"


def test_a_chain_bought_by_the_moneys_worth_reads_the_amounts() -> None:
    chain = parse_chain(
        "#接龙 明早去买酱香饼 接龙写下要几块钱的（称重购买） 6人截单\n"
        "1. Mia 6块\n2. 橙子 5元的\n3. Anna 5快～\n4. 豆沙 6块的（还有的话）"
    )
    assert [goods(e) for e in chain.entries] == [
        [(None, 6, "块")],
        [(None, 5, "元")],  # a price elsewhere would be a note; here it is the order
        [(None, 5, "快")],  # typed fast for 块: five yuan's worth
        [(None, 6, "块")],
    ]
    assert not any(e.needs_review for e in chain.entries)
    # Where the head does not ask for amounts, a price on the line stays a note.
    plain = parse_chain("#接龙 酱香饼 明早送\n1. 橙子 5元\n2. Mia 2份")
    assert goods(plain.entries[0]) == [(None, 1, None)] and plain.entries[0].note == "5元"


def test_talk_where_the_goods_go_under_a_menu_orders_nothing() -> None:
    chain = parse_chain(
        "#接龙 茶话会 接龙写上饮品噢！！ 1-美式（热/冷） 2-拿铁（热/冷） 3-生椰拿铁（热/冷）  "
        "1. 九里 征集一个朋友来帮忙免单噢 2. Mia 先吃后跳～没有烦恼～ 2热 3. 阿航 3冰"
    )
    host, mia, hang = chain.entries
    assert (goods(host), host.note, host.needs_review) == ([], "征集一个朋友来帮忙免单噢", False)
    assert goods(mia) == [("2热", 1, None)] and not mia.needs_review
    assert goods(hang) == [("3冰", 1, None)]


def test_a_one_line_chain_with_a_numbered_dish_list_above_fewer_entries() -> None:
    """WeChat sends some chains as one line. The head's five dishes are a longer numbered list
    than the two entries under them; the entries are still the list numbered again from 1."""
    chain = parse_chain(
        "#接龙 6.8号星期一晚餐预定接龙（30元） 1.凉拌牛肉 2.客家酿豆腐 3.炒青瓜 4.炒青菜 "
        "5.冬瓜汤 例 桃子 1份晚餐 1. 桃子 8份晚餐 2. lily 1份晚餐"
    )
    assert [(e.seq, e.name) for e in chain.entries] == [(1, "桃子"), (2, "lily")]
    assert [goods(e) for e in chain.entries] == [[("晚餐", 8, "份")], [("晚餐", 1, "份")]]
    one = parse_chain("#接龙 今日套餐 1.红烧肉 2.炒青菜 3.米饭 1. 桃子 2份")
    assert [(e.seq, e.name, goods(e)) for e in one.entries] == [(1, "桃子", [(None, 2, "份")])]


def test_a_one_line_chain_reads_the_menu_above_its_entries_line_by_line() -> None:
    chain = parse_chain(
        "#接龙 周日配送 1. 肉松小贝 16.9 2. 布丁小方 22.9 3. 杏子卷 19.9 "
        "1. Lumi 1+2 2. 阿支 3 3. Mia 2x2"
    )
    assert [m.code for m in chain.menu] == ["1", "2", "3"]
    assert [goods(e) for e in chain.entries] == [
        [("1", 1, None), ("2", 1, None)],
        [("3", 1, None)],
        [("2", 2, None)],
    ]


def test_goods_the_head_names_outside_its_menu_lines_are_on_offer() -> None:
    """The flavours listed, the sizes listed, and the product in a line the menu reader took
    no product from are what the chain sells: read as written, and not held."""
    cupcakes = parse_chain(
        "#接龙 纸杯蛋糕🧁 6个一盒 ¥32\n口味：原味 / 可可 / 抹茶 / 红丝绒\n周日下午3点后取\n"
        "1. 苡苡 原味1盒 可可1盒\n2. 小颜 红丝绒×1\n3. 酆 抹茶两盒"
    )
    assert [goods(e) for e in cupcakes.entries] == [
        [("原味", Decimal(1), "盒"), ("可可", Decimal(1), "盒")],
        [("红丝绒", Decimal(1), None)],
        [("抹茶", Decimal(2), "盒")],
    ]
    assert not any(e.needs_review for e in cupcakes.entries)
    melons = parse_chain(
        "#接龙 🍉 8424西瓜 第二个半价！\n单个约7-8斤 ¥36/个，第二个¥18\n🍈 网纹瓜 买二送一 ¥25/个\n"
        "1. 俞 西瓜2个\n2. 叶子 网纹瓜2 西瓜1"
    )
    assert not any(e.needs_review for e in melons.entries)
    tissue = parse_chain(
        "【本周日用品清单】团长：小芳\n品名 | 规格 | 价格\n维达抽纸 | 3层100抽×24包 | 49.9\n"
        "立白洗洁精 | 1.5kg×2瓶 | 19.9\n------------------\n1. 佟 维达抽纸 x1 | 立白 x1"
    )
    assert goods(tissue.entries[0]) == [("维达抽纸", Decimal(1), None), ("立白", Decimal(1), None)]


def test_a_word_the_head_asks_for_is_no_goods_and_counts_left_in_the_goods_are_held() -> None:
    chain = parse_chain(
        "#接龙 中秋月饼 蛋黄莲蓉/豆沙/鲜肉 ¥48/盒 请写清电话\n"
        "1. 黄阿姨 2盒 蛋黄莲蓉\n"
        "2. 小戴 1盒：3个蛋黄莲蓉3个豆沙\n"
        "3. 周 豆沙1盒 电话13700002222\n"
        "4. 晴天 原味3个+鲜肉3个 一盒\n"
        "5. 张大妈 鲜肉1盒 要两盒换着吃"
    )
    first, mixed, phone, box, more = chain.entries
    assert goods(first) == [("蛋黄莲蓉", Decimal(2), "盒")] and not first.needs_review
    assert mixed.needs_review and box.needs_review and more.needs_review
    assert goods(phone) == [("豆沙", Decimal(1), "盒")]


def test_a_cake_chain_asking_for_the_day_reads_days_and_wishes_as_notes() -> None:
    chain = parse_chain(
        "🎂生日蛋糕预订 需提前2天\n动物奶油水果蛋糕 6寸128 8寸168\n巧克力慕斯 6寸138 8寸178\n"
        "写清楚尺寸和取货日期\n\n1. 小葵 6寸水果 12号下午取\n"
        "2. 何先生 8寸巧克力慕斯 写“生日快乐 爸爸” 14号\n3. 阿强 8寸 水果 16号"
    )
    assert [goods(e) for e in chain.entries] == [
        [("6寸水果", Decimal(1), None)],
        [("8寸巧克力慕斯", Decimal(1), None)],
        [("8寸 水果", Decimal(1), None)],
    ]
    assert chain.entries[1].note == "写“生日快乐 爸爸”；14号"


def test_a_number_is_never_the_product_it_appears_in() -> None:
    chain = parse_chain(
        "云南阳光玫瑰 🍇 一箱2串约4斤 85元 半箱45\n周四晚截单\n\n"
        "1. 黄黄 1箱\n2. 阿秀 半箱\n3. 乔乔 2"
    )
    assert goods(chain.entries[2]) == [(None, Decimal(2), None)]


def test_one_more_of_a_box_is_that_box() -> None:
    chain = parse_chain(
        "#接龙 冷冻年货\n①手抓饼 ②水饺 ③鸡翅 ④牛排\n1. 小米 ②2 ①1\n2. 胡胡 ②3\n"
        "3. 老廖 ①1箱②1箱\n4. 小米 再加一个④"
    )
    assert [goods(e) for e in chain.entries] == [
        [("②", Decimal(2), None), ("①", Decimal(1), None)],
        [("②", Decimal(3), None)],
        [("①", Decimal(1), "箱"), ("②", Decimal(1), "箱")],
        [("④", Decimal(1), "个")],
    ]


def test_clothes_by_colour_and_size_are_what_the_head_offers() -> None:
    chain = parse_chain(
        "#接龙\n童装卫衣 加绒款 69元/件 颜色：粉、蓝、灰 尺码：100-150\n接龙写颜色+尺码+件数\n\n"
        "1) 朵朵妈 粉色 120 1件\n2) 小宇妈妈 蓝130 灰130\n3) 小熊 灰120 2件"
    )
    assert [goods(e) for e in chain.entries] == [
        [("粉色 120", Decimal(1), "件")],
        [("蓝130", Decimal(1), None), ("灰130", Decimal(1), None)],
        [("灰120", Decimal(2), "件")],
    ]
    assert not any(e.needs_review for e in chain.entries)


def test_set_meals_lettered_one_a_line_are_picked_by_letter() -> None:
    chain = parse_chain(
        "#接龙 周三工作餐\nA 宫保鸡丁饭\nB 番茄牛腩饭\nC 香菇滑鸡饭\n都是20元，含例汤\n"
        "写名字+套餐字母\n\n"
        "1. 小周 A\n2. Lily wang B 少饭\n3. 王姐(3栋) B+C\n4. 赵 B2份"
    )
    assert [goods(e) for e in chain.entries] == [
        [("A", Decimal(1), None)],
        [("B", Decimal(1), None)],
        [("B", Decimal(1), None), ("C", Decimal(1), None)],
        [("B", Decimal(2), "份")],
    ]


def test_a_portion_size_many_entries_repeat_is_the_goods_not_a_place() -> None:
    chain = parse_chain(
        "#接龙\n🍗周五晚 卤味拼盘 外卖拼单\n小份 38（鸭脖+鸭翅+藕片）\n"
        "大份 68（鸭脖+鸭翅+鸭掌+藕片）\n"
        "口味：微辣/中辣/特辣/不辣\n\n1. 小周 大份 中辣\n2. 陈 阿姨 小份 不辣\n3. 12#1102 小份\n"
        "4. 赵工 小份 微辣 已付\n5. 何何 小份 不要鸭脖\n6. 冯姐 小份 微辣"
    )
    assert [(e.name, goods(e)) for e in chain.entries][1:4] == [
        ("陈 阿姨", [("小份", Decimal(1), None)]),
        ("12#1102", [("小份", Decimal(1), None)]),
        ("赵工", [("小份", Decimal(1), None)]),
    ]
    assert chain.entries[1].note == "不辣"


def test_a_potluck_sign_up_counts_people_and_keeps_their_dish() -> None:
    chain = parse_chain(
        "#接龙\n🥮 中秋邻里百家宴 9月17日晚6点 小区中心花园\n每家带一个菜，写清楚几个人\n\n"
        "1. 3-1-502 小雨家 3人 带可乐鸡翅\n2. 陈 阿姨 2人\n3. 赵家 2大1小"
    )
    assert chain.kind == "signup"
    assert [goods(e) for e in chain.entries] == [
        [(None, Decimal(3), "人")],
        [(None, Decimal(2), "人")],
        [(None, Decimal(3), None)],
    ]
    assert chain.entries[0].note == "带可乐鸡翅"


def test_a_count_kept_whole_as_a_word_in_a_one_product_chain_is_held() -> None:
    chain = parse_chain(
        "#接龙\n🍒智利车厘子 JJ级 5斤一箱 258元，也可以拆2斤装 108元\n预计下周二到\n\n"
        "1. 陈 阿姨 1箱\n2. 🌸小雨🌸 2斤\n3. 周周 2斤x2"
    )
    assert not chain.entries[1].needs_review
    assert chain.entries[2].needs_review  # two 2斤 boxes, or 2斤 twice over: the leader says
