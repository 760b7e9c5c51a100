"""Words residents and leaders write around the goods, and what each kind of word means.

Kept in one place so the rules that read a chain (segment, entry, kinds) agree on them, and so
a reader can see at a glance what the parser takes for a note rather than a product.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Payment, pickup and delivery words: notes, never products (`现金`, `已转`, `自取`, `送上门`).
NOTE_WORDS = frozenset(
    [
        "打包",  # to take away, or to eat in: how, not what
        "打包带走",
        "堂食",
        "现金",
        "已转",
        "已付",
        "已付款",
        "已交",
        "已交款",
        "已缴",
        "已缴费",
        "未交",
        "已支付",
        "已转账",
        "转了",
        "已转了",
        "付了",
        "已付了",
        "已过数",  # Cantonese: paid
        "已過數",
        "过数了",
        "過數了",
        "转账",
        "微信",
        "微信转账",
        "微信支付",
        "支付宝",
        "红包",
        "已发红包",
        "已红包",
        "paypal",
        "PayPal",
        "Paypal",
        "到付",
        "货到付款",
        "待付",
        "未付",
        "自取",
        "自提",
        "自拿",
        "送上门",
        "送货上门",
        "上门",
        "送货",
        "配送",
        "快递",
        "到店",
        "门口",
        "北门",
        "南门",
        "东门",
        "西门",
        "代收",
        "放门口",
        "放前台",
        "前台",
        "驿站",
        "丰巢",
        "谢谢",
        "感谢",
        "辛苦",
        "谢谢团长",
        "麻烦了",
        "麻烦",
        "急",
        "加急",
        "备注",
        "paypal已转",
        "已付款了",
        "上门自取",
        "取货",
        "拿货",
        "来拿",
        "来取",
        "晚点拿",
        "晚点取",
        # how a drink is served (`8 热`, `拿铁 冰`): a customisation of the cup, not a product
        "热",
        "冷",
        "冰",
        "温",
        "常温",
        "去冰",
        "少冰",
        "多冰",
        "加冰",
        "不加冰",
        "正常冰",
        "热饮",
        "冷饮",
        "无糖",
        "少糖",
        "半糖",
        "全糖",
        "正常糖",
    ]
)
# A token shaped like a place written after the name: an area, a gate, a building.
PLACE_TOKEN = re.compile(
    r"^(?:[A-Za-z一二三四五六七八九十东南西北中]\s*\d?\s*区(?:[东南西北]门?)?|[A-WYZa-wyz]\d{1,2}|[东南西北]\s*门|"
    r"\d+\s*(?:号楼|栋|幢|座|单元|期)(?:\d+(?:室|号)?)?|\d+(?:-\d+){0,2}-\d{3,4}|\d+-\d+-\d+|"
    r"\d{3,4}\s*室|[A-Za-z]\s*座|\S{1,6}取)$"
)
# A building-room before a nickname is part of the name (`12栋302 刘姐`, `3-201 张姐`, `B区12栋`).
ADDRESS = re.compile(
    r"^(?:(?:[A-Za-z东南西北]\s*区\s*)?\d+\s*(?:栋|幢|号楼|座|单元|期|区|楼|#)\s*\d*\s*(?:单元)?\s*\d*\s*(?:室|号)?|"
    r"\d+\s*#\s*\d+-\d{3,4}|"
    r"(?:[A-Za-z东南西北]\s*区\s*)?\d+(?:-\d+){0,2}-\d{3,4}|\d+-\d+-\d+|"
    r"[A-Za-z]\s*座?\s*\d{2,5}(?:-\d+)?|\d{3,4}\s*室|[A-Za-z]\d?-\d{2,5})$"
)
# Customisations start with these; from there to the end of the line is a note.
NOTE_START = re.compile(
    r"(?:^|(?<=[\s，,;；。\d份个盒斤杯碗]))(?:不要|不用|不加|不放|不吃|不辣|少饭|少少饭|少菜|少辣|少糖|少冰|少少冰|少少糖|少盐|少油|多饭|多菜|多放|多加|加饭|"
    r"加辣|微辣|中辣|特辣|免辣|免葱|去冰|去葱|常温|热的|备注|自取|自提|自备|送到|送货|放门口|放在|明天|后天|"
    r"周[一二三四五六日天]|米饭换|主食换|换成|换|其中|其他|其余|另外|另加|已付|已转|飞|谢谢|感谢|"
    r"跪谢|多谢|预计|大概|估计|配送|送货|付款|截单前|到家|"
    r"[\u4e00-\u9fff]{1,3}(?:多点|少点|多一点|少一点|多些|少些|不要|别放|不放)(?=$|[\s，,;；。])|"
    r"剁|切成|切块|切段|切丝|绞成|绞馅|绞碎|去皮|去骨|去鳞|杀好|宰好|开好|要活的|要熟|要新鲜|挑大|挑小|"
    r"[一二三四五六七八九0-9]分糖|半糖|全糖|无糖|正常糖|正常冰|多冰|都少糖|都去冰|"
    r"送人|送礼|送客户|送老人|公司发|送楼下|送上门|快递到|包邮|寄到|寄回|生日牌|写上|写生日|定金|尾款|已交|唔要|放快递柜|放到|[\u4e00-\u9fff]{1,4}用(?=$|[\s，,;；。]))"
)  # `饭多点`, `葱不要`, `周末不要`: a customisation written after what it is about
# Where a note that NOTE_START found ends: the next separator.
NOTE_END = re.compile(r"[\s，,;；。]")
NOTE_HINT = re.compile(
    r"[不少多加微中特免去常热备自送放明后周米主换其另已谢感跪预大估配付截到剁切绞杀宰开要挑分半全无正都公快包寄生写用定尾唔]"
)
# Inside one word, after a name or an area (`梁昌艳H3区少饭`): where the note starts.
_IN_WORD_NOTES = [
    "少少饭",
    "少饭",
    "少菜",
    "多饭",
    "多菜",
    "已付",
    "已转",
    "自取",
    "自提",
    "不要",
    "米饭换",
    "主食换",
    "换",
]
NOTE_IN_WORD = re.compile("|".join(map(re.escape, _IN_WORD_NOTES)))  # tried in this order
NOTE_IN_WORD_STARTS = frozenset(w[0] for w in _IN_WORD_NOTES)  # what a match starts with
# Goods written in English by residents who write their names in English (`Peter apple x2`):
# such a word after an English name starts the order, it is no second name. Singular, lower case.
ENGLISH_GOODS = frozenset(
    [
        "apple",
        "banana",
        "orange",
        "grape",
        "pear",
        "peach",
        "mango",
        "lemon",
        "cherry",
        "strawberry",
        "watermelon",
        "melon",
        "kiwi",
        "durian",
        "lychee",
        "blueberry",
        "pineapple",
        "avocado",
        "tomato",
        "potato",
        "onion",
        "cabbage",
        "lettuce",
        "carrot",
        "egg",
        "milk",
        "yogurt",
        "bread",
        "bagel",
        "croissant",
        "toast",
        "cake",
        "cookie",
        "muffin",
        "sourdough",
        "baguette",
        "donut",
        "coffee",
        "latte",
        "tea",
        "juice",
        "water",
        "beer",
        "wine",
        "rice",
        "noodle",
        "dumpling",
        "chicken",
        "beef",
        "pork",
        "fish",
        "shrimp",
        "salmon",
        "tofu",
        "cheese",
        "butter",
        "pizza",
        "burger",
        "sandwich",
        "salad",
        "soup",
        "box",
        "bag",
        "bottle",
        "pack",
    ]
)


def english_goods(word: str) -> bool:
    """`apple`, `Grapes`, `eggs`: an English word for goods."""
    w = word.casefold()
    return w in ENGLISH_GOODS or (
        w.endswith("s") and (w[:-1] in ENGLISH_GOODS or w[:-2] in ENGLISH_GOODS)
    )


# A size of portion or cup (`小份`, `大杯`, `中碗`): the goods chosen, never a place or a name.
PORTION_SIZE = re.compile(r"[大中小特超]{1,2}(?:份|杯|碗|盒|号|瓶|包|桶|串)")


# Sides a set-meal group hands out or sells beside the meal, written alone after an entry's
# place (`天天大王 云谷 换南瓜 沙拉`): one of them, with the meal. A word the head prices is
# read as the head says instead.
SIDE_DISHES = frozenset(["沙拉", "水果沙拉", "酸奶", "卤蛋", "煎蛋", "茶叶蛋", "例汤", "饮料"])


# A kinship word or title after a surname stays with it (`陈 阿姨`, `王 老师`).
TITLE_WORDS = frozenset(
    [
        "阿姨",
        "姐",
        "姐姐",
        "哥",
        "哥哥",
        "叔",
        "叔叔",
        "老师",
        "先生",
        "女士",
        "奶奶",
        "爷爷",
        "婆婆",
        "阿婆",
        "阿公",
        "大爷",
        "大妈",
        "妈妈",
        "宝妈",
        "爸爸",
        "爸妈",
        "爸爸妈妈",
        "家长",
        "总",
        "医生",
        "同学",
        "小姐",
        "太太",
        "阿叔",
        "伯伯",
        "姑姑",
        "嫂子",
        "老板",
        "师傅",
    ]
)
# A phone number glued to or written after a name: a note, not part of it.
# Starts with its literal 1 (the engine scans for it), then looks back: no digit before.
PHONE = re.compile(r"(?:(?:电话|手机|手机号|tel|Tel|TEL)\s*[:：]?\s*)?1(?<!\d1)[3-9]\d{9}(?!\d)")
# Money as a resident writes an amount of it (`5元的`, `6块钱`, typed fast `5快`): where the
# head asks how much money's worth, the amount ordered, never a count of the goods.
MONEY_UNITS = frozenset({"元", "块钱", "快"})
# A price a resident copies onto their line: a note (`19.8元`, `¥9.9`, `共39.6元`).
PRICE_NOTE = re.compile(
    r"(?:(?:共|合计|总计|总共|一共)\s*)?(?:[¥￥]\s*\d+(?:\.\d+)?\s*(?:元)?|"
    r"\d+(?:\.\d+)?\s*(?:元|块钱)(?:\s*/\s*(?:\d+(?:\.\d+)?\s*)?[^\s\d，,/、+]{1,2}|(?!\s*/)))"
)
# An order or reference number: an id, kept in the item, never a quantity.
ORDER_ID = re.compile(
    r"(?:(?:超市订单|超市|订单号|订单编号|订单尾号|单号|尾号|订单|编号)\s*[:：#]?\s*\d{4,}|\d{5,}\s*超市)"
    r"(?:[（(][^（）()]*[）)])?"
)
# Words in a line that belong to the leader's head or footer, not a resident's entry.
HEADER_WORDS = re.compile(
    r"截单|截止|自提|提货|取货|配送|时间|地址|团购|接龙|请大家|付款|群|限购|每人限|成团|到货|发货|"
    r"须知|注意|规则|说明|温馨提示|下单"
)
# The leader closing the list in its next slot (`5. 人满截止`, `12. 已截单`): not an entry.
CLOSING = re.compile(
    r"^(?:(?:人已?满|已满员?|满员|名额已满)[，,\s]*)?(?:已?截止|已?截单|结束|停止报名|报名截止)?[!！。.~～]*$"
)
# The format line of a chain (`姓名+楼号`, `1. 姓名/项目简介/Issue#`): not an entry.
TEMPLATE_WORDS = frozenset(
    [
        "姓名",
        "名字",
        "昵称",
        "名称",
        "项目",
        "项目简介",
        "项目简称",
        "简介",
        "简称",
        "型号",
        "门店",
        "楼号",
        "房号",
        "门牌号",
        "单元",
        "数量",
        "商品",
        "品名",
        "规格",
        "电话",
        "手机",
        "手机号",
        "备注",
        "issue",
        "issue#",
        "学号",
        "部门",
        "班级",
        "份数",
        "地址",
        "微信名",
        "群昵称",
        "内容",
        "商品数量",
        "购买数量",
        "商品名称",
        "楼栋",
        "房间号",
        "几份",
        "口味",
        "xx",
        "xxx",
        "某某",
        "金额",
        "人数",
        "几人",
        "几位",
        "室号",
        "栋号",
        "门牌",
        "房间",
        "小区",
        "品种",
        "重量",
        "斤数",
        "件数",
        "箱数",
        "盒数",
        "时间",
        "日期",
        "编号",
        "序号",
    ]
)
TEMPLATE_SPLIT = re.compile(r"[\s/+、\-|｜,，()（）:：]+")


@lru_cache(maxsize=65536)
def is_note_token(token: str) -> bool:
    """A word after the goods that is a payment, pickup or place note, or a customisation.
    Memoised: the same words recur down a chain."""
    bare = token.strip("，,。.!！~～")
    return (
        bare in NOTE_WORDS
        or bare.casefold() in NOTE_WORDS
        or (may_be_place(bare) and PLACE_TOKEN.match(bare) is not None)
        or ("换" in bare and not bare.startswith("换"))
        or is_paid_or_pickup(bare)
        or (bare[-1:] in "级班" and _SCHOOL_YEAR.match(bare) is not None)
        or (bare[-1:] in _SERVED_ENDS and _SERVED_ALONE.match(bare) is not None)
        or (bare[:1] == "放" and _PUT_AT.match(bare) is not None)
        or (bare[-1:] == "辣" and _HOW_HOT.fullmatch(bare) is not None)
    )


# `微辣`, `不辣`, `都中辣`: how hot, said of the dish.
_HOW_HOT = re.compile(
    r"(?:(?:[一两二三四五\d]份)?(?:都|全|要)?(?:微|中|特|重|少|多|不|免|变态|超|正常)辣)+"
)  # `一份不辣一份中辣`: how hot each one is


# `正常`, `少冰`, `一杯少冰`, `都少冰`, `半糖`: how a drink is served, written on its own.
_SERVED_ALONE = re.compile(
    r"^(?:都|全部?|[一两二三四五\d]杯)?(?:正常冰?|少冰|去冰|多冰|冰的|热的|常温|温的|少糖|半糖|无糖|"
    r"全糖|不加糖|正常糖|[一二三四五六七八九十]分糖)+$"
)
_SERVED_ENDS = frozenset("常冰的温糖")
# `放传达室`, `放门口`, `放快递柜`: where the goods are left, never goods.
_PUT_AT = re.compile(
    r"^放(?:在|到)?(?:\d{1,3}\s*(?:栋|幢|号楼|单元))?(?:家门口|门口|传达室|门卫室?|快递柜|丰巢|物业|前台|驿站|保安室|楼下|电梯口|"
    r"车库|楼道|鞋柜|信箱)(?:就行|就好|即可)?$"
)


# `三年级`, `大班`, `初二`: the child's school year in a chain of books or classes, a note.
_SCHOOL_YEAR = re.compile(r"^(?:[一二三四五六七八九1-9]年级|[大中小]班|学前班)$")


# `微信已付`, `支付宝已转`, `北门自提`, `小区门口取货`: how it is paid or picked up.
_PAY_PICKUP_HINT = re.compile(r"[付转交提取]")
_PAY_OR_PICKUP = re.compile(
    r"^(?:(?:微信|支付宝|wx|vx|WX|VX|zfb)已?(?:付|付款|支付|转|转账|交|交款)了?(?:\d+(?:\.\d+)?[元块])?"
    r"|已(?:微信|支付宝)?(?:付|付款|支付|转|转账|交|交款|缴)了?(?:\d+(?:\.\d+)?[元块])?"
    r"|已(?:交|缴|付|转)(?:[\u4e00-\u9fff]{0,4}费|定金|订金|押金)"  # `已交材料费`: paid, no goods
    r"|\S{1,6}(?:自提|自取|提货|取货))$"
)


def is_paid_or_pickup(token: str) -> bool:
    """`已转`, `微信已付`, `北门自提`: how the order is paid or picked up, never what it is."""
    return _PAY_PICKUP_HINT.search(token) is not None and _PAY_OR_PICKUP.match(token) is not None


_PLACE_START = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz一二三四五六七八九十东南西北中"
)


def may_be_place(text: str) -> bool:
    """False where PLACE_TOKEN cannot match: it starts with a letter, a numeral, a direction or
    a digit, or holds 取 (`Uni取`). One look at the first character spares most words the regex."""
    return bool(text) and (text[0] in _PLACE_START or text[0].isdecimal() or "取" in text)


def is_template(body: str) -> bool:
    """`姓名+楼号`, `姓名/项目简介/Issue#`, an empty slot, the leader's `人满截止`: a format or a
    closing line, not an entry. Most entries start with a Chinese character or an ASCII letter
    or digit that none of these starts with: answered from that, without the memo."""
    if "某某" in body:  # `20电信1班某某某`: the format filled in with a placeholder name
        return True
    lead = body[:1]
    if lead not in _TEMPLATE_OPENERS and (
        "\u4e00" <= lead <= "\u9fff" or (lead.isascii() and lead.isalnum())
    ):
        return False
    return _is_template(body)


@lru_cache(maxsize=65536)
def _is_template(body: str) -> bool:
    if not body.strip():
        return True
    if body[:1] in "人已满名截结停报" and CLOSING.match(body.strip()):
        return True
    if body[:1] == "请" and _INSTRUCTION.match(body):
        return True  # `1. 请写楼号`: the leader's instruction in the first slot
    start = body.lstrip("#")
    lead = start[:1]
    if lead not in _TEMPLATE_LEADS and (lead.isascii() or "\u4e00" <= lead <= "\u9fff"):
        return False  # a Chinese or ASCII character no format word starts with (no case)
    if _TEMPLATE_ANY.match(start) is None:  # most lines start with no such word
        return False
    parts = [p.strip("#").casefold() for p in TEMPLATE_SPLIT.split(body) if p.strip("#")]
    return bool(parts) and all(p in TEMPLATE_WORDS or _all_template(p) for p in parts)


_INSTRUCTION = re.compile(r"请(?:写|填|注明|备注|按|在|大家|各位|务必)")


def _all_template(part: str) -> bool:
    """`姓名手机`, `楼号房号`: format words written without a separator."""
    at = 0
    while at < len(part):
        word = _TEMPLATE_ANY.match(part, at)
        if word is None:
            return False
        at = word.end()
    return at > 0


# The first characters of the format words, both cases: no other Chinese or ASCII character
# can start a match (other characters are left to the pattern, which ignores case).
_TEMPLATE_LEADS = frozenset(w[:1] for w in TEMPLATE_WORDS) | frozenset(
    w[:1].upper() for w in TEMPLATE_WORDS
)
# What a line that may be a format, closing or instruction line starts with.
_TEMPLATE_OPENERS = _TEMPLATE_LEADS | frozenset("人已满名截结停报请")
_TEMPLATE_ANY = re.compile(
    "|".join(sorted((re.escape(w) for w in TEMPLATE_WORDS), key=len, reverse=True)), re.IGNORECASE
)


def clear_caches() -> None:
    """Forget memoised words and lines (for measuring a cold parse)."""
    is_note_token.cache_clear()
    _is_template.cache_clear()
