"""What a chain's head offers: its menu lines (code, name, price, unit of sale) and codes.

A menu line carries a price (`1号 烟台苹果 12.8元/3斤`, `蛋挞 ¥25/盒`) or a letter code with a
colon (`C：牛肋条`). A numbered list in the head without prices (`1. 芋泥麻薯` … `11. 全麦吐司`)
offers menu numbers too: with it, residents' `2+4` means box 2 and box 4.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

from handlers.parsing.segment import EXAMPLE, INVISIBLE, MARKER, prepare
from handlers.parsing.types import MenuLine
from handlers.parsing.vocab import HEADER_WORDS, is_template

_CODE_COLON = re.compile(r"^\s*([A-Za-z])\s*[:：]\s*(\S.*)$")
# The code before a menu line's product: `1号`, `1.`, `A：`, `①`, or `1 原味吐司` (a number and
# a space before words).
_MENU_CODE = re.compile(
    r"^\s*(?:(\d{1,3})\s*号|(\d{1,3})\s*(?:[、\)）:：]|\.(?!\d))|([A-Za-z])\s*[:：.、)）]|([\u2460-\u2473])"
    r"|(\d{1,2})\s+(?=[^\d\s])|([A-Za-z])\s+(?=[\u4e00-\u9fff])"
    # `A1 珍珠奶茶 12`, `[1] 原味吐司 16`
    r"|([A-Za-z]\d{1,2})\s*(?:[:：.、)）]|\s)(?=\s*[^\d\s])|\[(\d{1,2})\])\s*"
)
# `①原味吐司 18`, `1 原味吐司 18`: after a code and a product, a number alone is its price;
# so after the product's choices in brackets (`小泡芙（原味/抹茶）26.9`), or the first of a
# price per choice (`小贝（原味/咸蛋黄）16.9/21.9`).
_BARE_PRICE = re.compile(
    r"(?:(?<=[^\d\s])\s+|(?<=[)）]))(?P<p4>\d+(?:\.\d+)?)(?:/\d+(?:\.\d+)?)*\s*"
    r"(?:[（(][^（）()]*[）)])?\s*$"  # `可颂 4个装 22（原味/巧克力 可选）`: choices after the price
)
_CIRCLED_LEAD = re.compile(r"^\s*([\u2460-\u2473])")
_NUMBER_SPACE = re.compile(r"^(\d{1,2})\s+[^\d\s]")
_PRICE_UNIT = re.compile(
    r"(?:[¥￥]\s*(?P<p1>\d+(?:\.\d+)?)|(?<![:：\d.])(?P<p2>\d+(?:\.\d+)?)\s*(?:元|块钱?|rmb|RMB|r|R)?)"
    r"\s*(?:/|每|一)\s*(?P<unit>\d*(?:\.\d+)?\s*[^\s/，,、。;；()（）\d.]{1,3})"
    r"|单价\s*(?P<p3>\d+(?:\.\d+)?)|(?P<p4>\d+(?:\.\d+)?)\s*(?:元|块钱?)"
    r"|[¥￥]\s*(?P<p5>\d+(?:\.\d+)?)"
)
_NUMBER_CODE = re.compile(r"^\s*(\d{1,3})\s*号")


def parse_menu(header: str) -> list[MenuLine]:
    """Products offered in a chain head, with code, price and unit of sale when written."""
    return list(_parse_menu_cached(header))


@lru_cache(maxsize=1024)
def _parse_menu_cached(header: str) -> tuple[MenuLine, ...]:
    """Every copy of a chain repeats its head: read each distinct head once (frozen lines).

    A line may offer several products (`五常大米 68元/袋，东北小米 35元/袋`) and may be the
    head's first line (`#接龙 周六到 赣南脐橙 39.9元/箱（10斤） 明早8点截单`): the product is
    the words just before its price, without the date, the title or a `团购：` label."""
    menu: list[MenuLine] = []
    for raw in header.split("\n"):
        lead = _CIRCLED_LEAD.match(raw)  # NFKC folds `①` into a bare 1: keep it a code
        if lead:
            raw_code = f"{ord(lead.group(1)) - 0x2460 + 1}. {raw[lead.end() :]}"
        text = INVISIBLE.sub("", unicodedata.normalize("NFKC", raw_code if lead else raw)).strip()
        text = _without_bullet(text)  # `🍇 1号 阳光玫瑰 29.9元/2斤`: the emoji is a bullet
        marked = bool(MARKER.search(text))
        text = MARKER.sub(" ", text).strip()
        if not text or EXAMPLE.match(text):
            continue
        cm = _CODE_COLON.match(text)
        if cm is not None and _PRICE_UNIT.search(text) is None:
            menu.append(MenuLine(cm.group(1).upper(), cm.group(2).strip(), None, None, raw.strip()))
            continue
        dashed = _dashed_menu(text, raw.strip()) if "-" in text else []
        if dashed:
            menu.extend(dashed)
            continue
        code_m = _MENU_CODE.match(text)
        parts = [text] if code_m else [p for c in _priced_parts(text) for p in _by_price(c)]
        for part in parts:
            line = _menu_line(part, raw.strip(), narrow=marked or part is not text)
            if line is not None:
                menu.append(line)
    return tuple(menu)


def _without_bullet(text: str) -> str:
    """A line's leading emoji or bullet (`🍇`, `•`, `▪`) before a menu code or a product."""
    start = 0
    while start < len(text) and (
        unicodedata.category(text[start]) in _BULLET_CATEGORIES or text[start] in "•·▪▫◆◇●○■□-*"
    ):
        start += 1
    return text[start:].lstrip() if start else text


_BULLET_CATEGORIES = frozenset({"So", "Sk", "Cf", "Mn"})


def _priced_parts(text: str) -> list[str]:
    """The line cut at `，。；`, each part with a price: words without one lead into the next
    part (`可帮带嘉口生煎。0.9元/个`: the 生煎 is what costs 0.9元)."""
    parts: list[str] = []
    waiting = ""
    for part in _MENU_PARTS.split(text):
        if _PRICE_UNIT.search(part) is None:
            waiting = f"{waiting} {part}".strip()
            continue
        parts.append(f"{waiting} {part}".strip() if waiting else part)
        waiting = ""
    return parts or [text]


def _dashed_menu(text: str, raw: str) -> list[MenuLine]:
    """`1-美式（热/冷） 2-拿铁（热/冷） …`: one product after each number, numbers 1, 2, 3…"""
    found = list(_DASHED_CODE.finditer(text))
    if len(found) < 2 or [int(m.group(1)) for m in found] != list(range(1, len(found) + 1)):
        return []
    ends = [m.start() for m in found[1:]] + [len(text)]
    menu = []
    for m, end in zip(found, ends, strict=True):
        name = _BRACKETED.sub("", text[m.end() : end]).strip(" ，,;；。")
        if name:
            menu.append(MenuLine(m.group(1), name.split()[0], None, None, raw))
    return menu


_BRACKETED = re.compile(r"[（(][^（()）]*[）)]")


def _last_word(name: str) -> str:
    """The product among a head's words: the last one that is not a size (`褚橙 10斤装`) nor a
    grade (`车厘子 J级`): a word of two Chinese characters or more, where there is one."""
    words = name.split()
    named = [w for w in words if not w[:1].isdigit()]
    worded = [w for w in named if len(_HAN.findall(w)) >= 2]
    return (worded or named or words or [name])[-1]


def _by_price(text: str) -> list[str]:
    """`苹果 5元/斤 梨 4元/斤 香蕉 3元/斤`: one product before each price, on one line. A line
    that names its prices (`原价39元 现价29元`) offers one product at two prices."""
    ends = [m.end() for m in _PRICE_UNIT.finditer(text)]
    if len(ends) < 2 or _PRICE_LABEL.search(text):
        return [text]
    parts = [text[a:b] for a, b in zip([0, *ends], ends, strict=False)]
    parts[-1] += text[ends[-1] :]  # `（10斤装）` after the last price stays with it
    return parts


_LEADING_DATE = re.compile(
    r"^(?:今天|明天|后天|今日|明日|本周[一二三四五六日天]?|下周[一二三四五六日天]?|周[一二三四五六日天])"
)
_PER_HEAD = frozenset({"人", "位", "人次", "个人"})
_HAN = re.compile(r"[\u4e00-\u9fff]")
_PRICE_LABEL = re.compile(r"原价|现价|特价|[团购会员市场超活动秒杀单]价|优惠|折")


def _menu_line(text: str, raw: str, *, narrow: bool) -> MenuLine | None:
    code_m = _MENU_CODE.match(text)
    price_m = _PRICE_UNIT.search(text)
    if price_m is None and code_m is not None:
        price_m = _BARE_PRICE.search(text, code_m.end())
    if price_m is None:
        return None
    code = None
    name_start = 0
    if code_m:
        g = code_m.group(1) or code_m.group(2) or code_m.group(3) or code_m.group(5)
        g = g or code_m.group(6) or code_m.group(7) or code_m.group(8)
        code = g.upper() if g else str(ord(code_m.group(4)) - 0x2460 + 1)
        name_start = code_m.end()
    name = text[name_start : price_m.start()].strip(" :：-—,，")
    if re.search(r"[:：]", name):
        name = re.split(r"[:：]", name)[-1].strip()  # `本周团购：五常大米` → 五常大米
    if narrow or _DATE_WORD.search(name):
        name = _last_word(name)  # `周六到 赣南脐橙` → 赣南脐橙
    if not name:
        name = text[price_m.end() :].strip(" :：-—,，").split(" ")[0]
    words = name.split()
    if code is None and len(words) > 1 and HEADER_WORDS.search(name):
        name = _last_word(name)  # `团购 大米 68元/袋`: the title's words, then the product
    sized = name.split()
    if len(sized) > 1 and sized[-1][:1].isdigit() and not sized[0][:1].isdigit():
        name = " ".join(w for w in sized if not w[:1].isdigit())  # `沃柑 10斤 45元`: 沃柑
    dated = _LEADING_DATE.match(name)
    if dated and dated.end() < len(name):
        name = name[dated.end() :].strip()  # `明天草莓团`: the day, then the product
    if len(name) > 2 and name.endswith("团") and code is None:
        name = name[:-1]  # `蛋糕团 88元/个`: the group buy's title names its product
    if not name or (code is None and (HEADER_WORDS.search(name) or _NOT_PRODUCT.search(name))):
        return None  # `运费5元`, `截单时间…`: not products
    groups = price_m.groupdict()
    if (groups.get("unit") or "").strip() in _PER_HEAD:
        return None  # `费用99/人`, `20元/人`: what taking part costs, not goods
    price_txt = next(groups[k] for k in ("p1", "p2", "p3", "p4", "p5") if groups.get(k))
    unit = groups.get("unit")
    return MenuLine(
        code=code,
        name=name,
        price=Decimal(price_txt),
        sale_unit=unit.strip() if unit else None,
        raw=raw,
    )


_MENU_PARTS = re.compile(r"[，,；;。]")
_DATE_WORD = re.compile(r"\d+月\d+日|周[一二三四五六日天]|星期|今天|明天|后天|本周|下周|今日")
_NOT_PRODUCT = re.compile(
    r"运费|邮费|配送费|满\d|包邮|减|优惠|定金|尾款|押金|共计|合计|总价|费用|报名|参赛|门票|入场|社区价|"
    r"奖金|奖品|奖池|第[一二三四五六七八九十\d]名|众筹"
)


@lru_cache(maxsize=1024)
def menu_numbers(header: str) -> frozenset[str]:
    """Menu numbers the head offers: `1号 …`, or a numbered list of goods without prices."""
    codes: set[str] = set()
    spaced: list[int] = []  # `1 原味吐司`: numbers before a space, a list only if they run 1, 2…
    for raw in header.split("\n"):
        ln = prepare(raw)
        if ln.blank or MARKER.search(ln.norm) or EXAMPLE.match(ln.body):
            continue
        m = _NUMBER_CODE.match(_without_bullet(ln.norm) if ln.norm[:1] > "\u2000" else ln.norm)
        spaced_m = _NUMBER_SPACE.match(ln.body) if ln.seq is None else None
        if m:
            codes.add(str(int(m.group(1))))
        elif spaced_m and not HEADER_WORDS.search(ln.body):
            spaced.append(int(spaced_m.group(1)))
        elif (
            ln.seq is not None
            and ln.body
            and not is_template(ln.body)
            and (ln.priced or not HEADER_WORDS.search(ln.body))
            and len(ln.body) <= 80
        ):
            codes.add(str(ln.seq))
    if len(spaced) >= 2 and spaced == list(range(1, len(spaced) + 1)):
        codes.update(map(str, spaced))
    if not codes and "-" in header:
        codes.update(_dashed_codes(header))
    return frozenset(codes)


# `1-美式（热/冷） 2-拿铁（热/冷） …`: a menu numbered with dashes, often on one line.
_DASHED_CODE = re.compile(r"(?:^|(?<=\s))(\d{1,2})\s*[-－—]\s*(?=[^\d\s\-－—])")


def _dashed_codes(header: str) -> set[str]:
    """The numbers of a dash-numbered menu, when they run 1, 2, 3… (two at least): a date or a
    door number (`12-502`) never starts such a run."""
    found = [int(m.group(1)) for m in _DASHED_CODE.finditer(header)]
    run = [n for k, n in enumerate(found) if n == k + 1]
    if len(run) < 2 or len(run) != len(found):
        return set()
    return {str(n) for n in run}


_FORMAT = re.compile(r"^\s*[（(【\[]?\s*(?:接龙)?格式\s*[:：]")  # `格式：数量+姓名+楼号`
_LAYOUT_PARTS = re.compile(r"\s*[，,/+＋、]\s*")
_NAME_WORDS = ("姓名", "名字", "昵称", "微信名", "群昵称", "名称")
_PLACE_WORDS = ("楼号", "室号", "房号", "门牌", "地址", "单元", "楼栋", "栋", "小区", "房间")
_GOODS_WORDS = ("内容", "商品", "数量", "品名", "份数", "规格", "口味", "菜品", "需求")


@lru_cache(maxsize=1024)
def example_layout(header: str) -> tuple[str, ...]:
    """The parts of the head's `例` line (`例 姓名手机，楼号，室号，内容`): what each is."""
    for raw in header.split("\n"):
        text = unicodedata.normalize("NFKC", raw).strip()
        m = EXAMPLE.match(text) or _FORMAT.match(text)
        if not m:
            continue
        parts = [p for p in _LAYOUT_PARTS.split(text[m.end() :].strip(" :：")) if p]
        roles = tuple(_role(p) for p in parts)
        if len(roles) >= 2 and "name" in roles:
            return roles
    return ()


# `在自己的名字后加上自己可以做的土豆`, `接龙写上你带的菜`: what each entry writes is what that
# person brings or cooks for everyone, not goods they order.
_BRINGS = re.compile(
    r"(?:名字|姓名|昵称)后.{0,8}(?:自己|你)?(?:可以|能|会|要|想)?(?:做|带|拿|准备|贡献)的"
    r"|(?:写上?|注明|备注|加上)(?:自己|你)?(?:可以|能|会|要|想)?(?:做|带|拿|准备|贡献)(?:的|什么)"
    r"|每(?:家|人|户)(?:各)?(?:带|做|准备)(?:一|1)?(?:个|道|份)?(?:菜|拿手菜|吃的)"
)


@lru_cache(maxsize=1024)
def asks_what_each_brings(header: str) -> bool:
    """The head of a potluck: entries say what they will bring or cook, each one a place."""
    return _BRINGS.search(unicodedata.normalize("NFKC", header)) is not None


def _role(part: str) -> str:
    if any(w in part for w in _NAME_WORDS):
        return "name"
    if any(w in part for w in _PLACE_WORDS):
        return "place"
    if any(w in part for w in _GOODS_WORDS):
        return "goods"
    return "other"


_QUOTED = re.compile(r"[“\"「『]([^”\"」』]{1,8})[”\"」』]")
_ADDON_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}")


@lru_cache(maxsize=1024)
def header_addons(header: str) -> frozenset[str]:
    """Extras a one-product chain's head offers: priced words (`黑凉粉3元`, `小菜1元：开胃萝卜`)
    and words residents are asked to write (`请备注“沙拉”`)."""
    words: set[str] = set()
    for raw in header.split("\n"):
        text = unicodedata.normalize("NFKC", raw)
        words.update(m.strip() for m in _QUOTED.findall(text))
        if not re.search(r"\d+(?:\.\d+)?\s*元", text) or "换" in text:
            continue
        for part in re.split(r"[，,：:、;；（）()\s]+", text):
            m = _ADDON_WORD.match(part)
            if m and not HEADER_WORDS.search(m.group(0)) and not _NOT_PRODUCT.search(m.group(0)):
                words.add(m.group(0))
    return frozenset(w for w in words if w)
