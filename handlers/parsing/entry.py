"""One entry's text → the name as written, the goods, and the notes around them.

The first word is the name, widened where people write more than one word for themselves: a
building-room before the nickname (`12栋302 刘姐`), emoji (`冰✡️saya 🫧`), a title after a surname
(`陈 阿姨`), an English given and family name (`Lily wang`). A phone glued to the name is a note;
a quantity glued to it is a quantity (`刘芳2箱`).

After the name come the goods, separated by `+ ➕ ， 、 ；` or spaces between complete items, or
glued (`梨3斤可乐一箱`). Payment, pickup and place words, prices, phones and customisations are
notes. With a numbered menu, numbers are menu codes (`2+4`, `11x2`, `3-7`). Whatever the reader
had to guess is flagged, so the chain can say how sure it is.

This module reads an entry as if the chain sold several goods; the chain reader then settles
what the entry means in a one-product chain, a sign-up or a check-in (chain_parser.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from handlers.parsing.quantities import (
    COUNT_BEFORE_TIMES,
    MENU_NUMBER,
    NUM,
    UNIT_ALT,
    UNITS,
    has_quantity,
    is_negative,
    is_storable,
    pure_quantity,
    split_quantity,
    to_number,
)
from handlers.parsing.types import (
    FLAG_AMBIGUOUS_NAME,
    FLAG_BARE_NUMBER,
    FLAG_BIG_NUMBER,
    FLAG_CANCEL,
    FLAG_CHANGE,
    FLAG_GLUED,
    FLAG_LEFTOVER,
    FLAG_MANY_COUNTS,
    FLAG_QTY_OUT_OF_RANGE,
    FLAG_SAME_AS_ABOVE,
    FLAG_UNKNOWN_CODE,
    FLAG_UNSPLIT,
    MAX_QTY,
    ParsedItem,
)
from handlers.parsing.vocab import (
    ADDRESS,
    NOTE_END,
    NOTE_HINT,
    NOTE_IN_WORD,
    NOTE_IN_WORD_STARTS,
    NOTE_START,
    ORDER_ID,
    PHONE,
    PLACE_TOKEN,
    PORTION_SIZE,
    PRICE_NOTE,
    TITLE_WORDS,
    english_goods,
    is_note_token,
    is_paid_or_pickup,
    may_be_place,
)

# Searched only for whether it is there: a comma after a word holds a comma, so the commas
# stand alone, and the one-character class comes first.
_RARE = re.compile(r"[元¥￥块\ufe0f，,/例]|取消|订单|单号|编号|超市|\d{11}")
# What _RARE needs first, digits apart: one class, which the engine scans for quickly; the
# alternation is tried at every character only where one of these is met.
_RARE_START = re.compile(r"[元¥￥块\ufe0f，,/例取订单编超]")
_ELEVEN_DIGITS = re.compile(r"\d{11}")
_DIGIT = re.compile(r"\d")  # as str.isdecimal: the engine's digit is Unicode's decimal
_LAYOUT_SPLIT = re.compile(r"\s*[，,/]\s*")
# `豆花羊肉️莴笋`, `Bombebon ️`: an emoji selector after no emoji is a space.
_VS_SEPARATOR = re.compile(r"(?<=[\u4e00-\u9fffA-Za-z\s])\ufe0f")
_FIRST_COMMA = re.compile(r"^([^\s，,]+)[，,]\s*")
_ID_END = re.compile(r"\d{5,}\s*$")
# `10荠菜云吞`: a count before the dish (not a menu number `1号`, not a unit `2斤`).
_LEADING_COUNT = re.compile(r"^(\d{1,3})(?=[\u4e00-\u9fff])(?!号)")
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’.]+")
_LATIN_UNITS = frozenset({"ml", "kg", "g", "cm", "box", "pcs"})
_ADD_BEFORE_NUMBER = re.compile(r"^(?:另加|再加|加)(?=[\d一二两三四五六七八九十])")
_PLACE_MARK = "place"  # read_item's word that the goods' text was a place
_ONE_HAN = re.compile(r"^[\u4e00-\u9fff]$")
# `-3份`, `-1份炒饭`: taking back part of an earlier order (`+2份` is simply more).
_SIGNED = re.compile(r"(?:^|(?<=\s))[\-－]\s*\d+\s*(?:[份个盒斤箱袋]|(?!\d))")
_WORD_SPLIT = re.compile(r"([\s，,;；]+)")
_LEADING_PORTION = re.compile(rf"^(?:{NUM})\s*(?:份|个|盒|碗|杯)")
_DELIVERY_NOTE = re.compile(r"\d{3,}|送|取|门|号楼|栋|单元|室")  # `（送888）`: where, not what
_HAS_COUNT = re.compile(r"\d")
# Notes on the whole order, never on a part of it: `1+2+10+14 已付` is paid, not 14 of them.
_SAID_OF_ORDER = frozenset(
    [
        "已付",
        "已转",
        "付款",
        "定金",  # `5斤装 2 定金20已转`: a deposit on the order, the count before it stays
        "订金",
        "押金",
        "自取",
        "自提",
        "送到",
        "送货",
        "配送",
        "到家",
        "放门口",
        "放在",
        "谢谢",
        "感谢",
        "多谢",
        "跪谢",
    ]
)
_SUB_COUNT = re.compile(r"(?:^|(?<=[\s，,]))(?:\d{1,2}|[一两二三四五])\s*[份个杯碗]?$")
_TRAILING_PORTION = re.compile(r"\d+\s*(?:份|个|盒|碗|杯)$")
_AREA_END = re.compile(r"[-—_]?[A-Za-z]\d{1,2}$")  # `申佳-D1`, `大治J1`: an area after a name
_CODE_AT_END = re.compile(r"(?<![\dxX×*+＋])(\d{1,3})\s*$")
_PLACE_END = re.compile(r"(?:[A-Za-z]\d*区?|区|栋|幢|号楼|\d)$")
_GROUP_END = re.compile(r"[A-Za-z\d一二三四五六七八九十]组$")  # `韩医生B组`: a team
_URL = re.compile(r"^(?:https?://|www\.)\S+$")
_LATIN_NAME_WORD = re.compile(r"^[^\w\s]*[A-Za-z][A-Za-z'’.]+[^\w\s]*$")
SAME_AS_ABOVE = re.compile(r"^(?:同上|同楼上|同前|同\s*上)$")
PLUS_ONE = re.compile(r"^(?:[+＋]\s*1|加\s*1|加一|\+一)$")
_CLOSERS = ("）", ")", "】", "]")
_BRACKET_NOTE = re.compile(r"\s*[（(【\[]([^（）()【】\[\]]*)[）)】\]]\s*$")
_SEP_SPLIT = re.compile(r"(\s*[➕，,、；;+|｜]\s*)")
_BRACKET_THEN = re.compile(r"([）)】\]])(?=[^\s\d）)】\]，,、；;+➕。.x×*])")
_RANGE = re.compile(r"^(\d{1,3})\s*-\s*(\d{1,3})$")
_CODE_TOKEN = re.compile(r"^[A-Za-z]$")
_COUNT_ADD = re.compile(r"^(\d{1,2})\s*加\s*([\u4e00-\u9fff]{1,6})$")
_DECORATION = frozenset({"So", "Sk", "Mn", "Mc", "Me", "Cf", "Po"})
_NAME_WITH_PLACE = re.compile(r"^[\u4e00-\u9fff]{1,4}[-—_][A-Za-z0-9]{1,3}区?$")
_EMOJI_CATEGORIES = frozenset({"So", "Sk", "Mn", "Cf"})
_UNIT_ALT = UNIT_ALT
# `刘芳2箱`, `云谷美猴王YY两份换红薯`: a name with a quantity glued on (Arabic digits, or a
# Chinese numeral before 份: `王半斤` is a name).
_GLUED_QTY = re.compile(
    rf"^(?P<name>[^\d\s+＋xX×*]{{1,12}}?)[-—_]?(?P<qty>(?:\d+(?:\.\d+)?\s*(?:{_UNIT_ALT})|[一两二三四五六七八九十]份))(?P<tail>.*)$"
)
# What _GLUED_QTY needs somewhere: a number and its unit. Most nicknames have neither, and
# this search rules them out faster than the anchored pattern can.
_GLUED_HINT = re.compile(rf"\d\s*(?:{_UNIT_ALT})|[一两二三四五六七八九十]份")
# `梨3斤可乐一箱`: a unit followed by another product that has its own quantity.
_GLUED_GOODS = re.compile(
    rf"^(?P<left>.*?[^\d\s.]\s*(?:{NUM})\s*(?:{_UNIT_ALT}))(?P<right>[^\d\s半装的每].*)$"
)
# `2斤苹果1斤梨`: a quantity, its product, then another quantity with its product.
_GLUED_QTY_FIRST = re.compile(
    rf"^(?P<left>\d+(?:\.\d+)?\s*(?:{_UNIT_ALT})[^\d\s.]+?)(?P<right>\d+(?:\.\d+)?\s*(?:{_UNIT_ALT})[^\d\s].*)$"
)
# `三个肉包一个豆沙包`: the same, counted in Chinese numerals.
_GLUED_CN_FIRST = re.compile(
    r"^(?P<left>[一两二三四五六七八九十]{1,2}\s*[个份盒袋包瓶斤只块杯串]"
    r"[\u4e00-\u9fff]{1,6}?)(?P<right>[一两二三四五六七八九十]{1,2}\s*[个份盒袋包瓶斤只块杯串]"
    r"[\u4e00-\u9fff].*)$"
)
# `苹果2-3斤`: two counts, which one? `苹果1/2箱`: half a box. `约2斤`, `2斤左右`: about.
_QTY_RANGE = re.compile(
    rf"(?<!\d)(\d+(?:\.\d+)?)\s*[-~～到至]\s*(\d+(?:\.\d+)?)\s*(?P<unit>{_UNIT_ALT})$"
)
_QTY_FRACTION = re.compile(rf"(?<![\d/])([1-9])\s*/\s*([1-9])\s*(?P<unit>{_UNIT_ALT})$")
# Two numerals in a row say about how many (`两三斤`, `一两个`): the smaller one, asked about.
_CN_RANGE = re.compile(
    rf"(?<![一二两三四五六七八九十])(一两|两三|二三|三四|四五|五六|六七|七八|八九)\s*(?P<unit>{_UNIT_ALT})$"
)
_ABOUT = re.compile(r"(?:大约|大概|约)(?=\d|[一二两三四五六七八九十半])")
_UNIT_ENDS = tuple(UNITS)
_REMARK_HINT = re.compile(r"[下哈呀啦吧噢哦话谢好行即]")  # what _REMARK_TAIL needs somewhere
_REMARK_TAIL = re.compile(
    rf"^(?P<goods>.*?\d+(?:\.\d+)?\s*(?:{_UNIT_ALT}))"
    r"(?P<tail>[^\d\s+＋、，,]*(?:一下|哈|呀|啦|吧|噢|哦|的话|谢谢|就好|就行|即可)[^\d]*)$"
)
_COUNT_FIRST = re.compile(rf"\s*(?:{NUM})\s*(?:{_UNIT_ALT})")
# A question or a remark about the chain where goods would be: the leader reads it.
_TALK = re.compile(r"接龙|要啥|什么|[吗呢吧][!！~～。]*$|[?？]|可以|能不能|有没有")
_TRAILING_PARTICLE = re.compile(r"(?<=[^\s\d])的?[～~]+$|(?<=[^\s\d])的$")
# Specification digits stay in the item: `550ml*24瓶`, `5kg*2`.
# `550ml*24瓶`, `盆菜10人份`: a size inside the product's name, no count of it.
_SPEC = re.compile(
    r"\d+(?:\.\d+)?\s*(?:ml|ML|mL|l|L|g|G|kg|KG|Kg|克|斤|cm|CM)\s*[*xX×]\s*\d+|\d{1,2}人份"
)
_EACH = re.compile(rf"^(?P<goods>.+?)\s*各\s*(?P<num>{NUM})\s*(?P<unit>{_UNIT_ALT})?$")
_EACH_SPLIT = re.compile(r"[\s、，,和+及]+")
# `十人以上可送`, `5斤起送`: how many it takes, not how many are ordered.
# `5斤以上` alone may be an order for at least that much: only a condition said on is taken.
_THRESHOLD = re.compile(
    rf"(?:{NUM})\s*(?:{_UNIT_ALT})?\s*(?:(?:以上|以下|以内)(?:才|就|可|能|起|成|包|送|免)|起送|起订|起购|起买)"
)
_EACH_AT = re.compile(rf"各\s*(?P<num>{NUM})\s*(?P<unit>{_UNIT_ALT})?(?=[\s，,、+]|$)")
_UP_TO_LAST_COUNT = re.compile(rf".*\d(?:\.\d+)?\s*(?:{_UNIT_ALT})[\s，,、+]*", re.S)
_KIND_JOINS = re.compile(r"[、和及/]")


def _kinds(goods: str) -> int:
    """How many kinds `各` spreads over: `苹果、梨` and `苹果 梨` are two; in `小番茄 红和黄` the
    words joined by 和 are the kinds (red and yellow), the word before names what they are."""
    words = goods.split()
    if len(words) > 1 and _KIND_JOINS.search(words[-1]):
        words = words[-1:]
    return max(2, len([g for w in words for g in _EACH_SPLIT.split(w) if g]))


def _each_inside(rest: str, items: list[Item]) -> str:
    """`红富士4斤 小番茄 红和黄 各一斤 拉面3斤`: `各` amid other goods spreads over the words since
    the last count. That one item is read here; what is left is read as usual."""
    m = _EACH_AT.search(rest)
    if m is None:
        return rest
    left = rest[: m.start()]
    counted = _UP_TO_LAST_COUNT.match(left)
    cut = counted.end() if counted else 0
    goods = left[cut:].strip(" ，,、+")
    if not goods:
        return rest
    n = to_number(m["num"]) or Decimal(1)
    items.append(Item(goods, n * _kinds(goods), m["unit"], True))
    return f"{left[:cut]} {rest[m.end() :]}".strip(" ，,、+")


BIG = Decimal(100)
_DIGITS = re.compile(r"\d+")
_LEAD_DIGITS = re.compile(r"^\d{1,3}")
_TRAIL_DIGITS = re.compile(r"\d{1,3}\s*$")
_CODE_NUMBER = re.compile(r"\d{1,3}")
_CODE_START = re.compile(r"^(\d{1,3})(?!\d)")
_UNIT_SET = frozenset(UNITS)
_TIMES = re.compile(r"[*xX×]")  # what _SPEC needs


class Item(NamedTuple):  # a tuple: cheap to build, like Reading
    """One item as read: `explicit` when a quantity or unit was written for it."""

    text: str | None
    qty: Decimal
    unit: str | None
    explicit: bool
    added: bool = False  # written with 加 (`加一份黑凉粉`): an extra, on top of the order


class Reading(NamedTuple):  # a tuple: built for every entry, cheaper than a frozen dataclass
    """An entry read as if the chain sold several goods."""

    name: str | None
    items: tuple[Item, ...]
    notes: tuple[str, ...]
    flags: frozenset[str]
    rest: str  # the text after the name, notes included, as written
    parsed: tuple[ParsedItem, ...] | None = None  # the items as the chain gives them, if made


class Context(NamedTuple):  # a tuple: every memoised reading hashes it, in C
    """What the chain's head says about its entries: menu numbers, letter codes, goods."""

    codes: frozenset[str] = frozenset()  # menu numbers: `2+4` is box 2 and box 4
    letters: frozenset[str] = frozenset()  # letter codes (`C`, `J`), upper case
    products: tuple[str, ...] = ()  # product names on offer
    fields: frozenset[str] = frozenset()  # words recurring across entries as a note (`uni`)
    layout: tuple[str, ...] = ()  # the 例 line's parts: name | place | goods | other
    addons: frozenset[str] = frozenset()  # extras the head prices or names (`黑凉粉3元`, “沙拉”)
    # the choices a menu line offers in brackets, by its number: `8. 小泡芙（原味/抹茶/焙茶）`
    choices: tuple[tuple[str, frozenset[str]], ...] = ()
    by_money: bool = False  # the head asks how much money's worth (`接龙写下要几块钱的`)
    letter_numbers: frozenset[str] = frozenset()  # menu codes `A1`, `B2`, upper case
    brings: bool = False  # the head asks each entry what they will bring or cook (a potluck)
    dated: bool = False  # the head asks for a day (`写清楚取货日期`): `14号` is a day, no box


def is_emoji_token(tok: str) -> bool:
    """A word made only of emoji and their joiners (`🫧`, `🌸`): part of a nickname."""
    if not tok or tok[0].isalnum():
        return False
    symbol = False
    for ch in tok:  # most nicknames fail at their second character: stop there
        cat = unicodedata.category(ch)
        if cat not in _EMOJI_CATEGORIES:
            return False
        symbol = symbol or cat in ("So", "Sk")
    return symbol


def is_tally(tok: str) -> bool:
    """`💩💩💩💩`, `⭐⭐⭐`: one emoji written again and again, a count kept, no part of a name."""
    marks = tok.replace("\ufe0f", "")
    return len(marks) >= 3 and marks == marks[0] * len(marks) and not marks[0].isalnum()


def _decoration(tok: str) -> bool:
    """`ོ་`, `️`: marks and symbols that are no word (no letter, digit or CJK punctuation)."""
    return all(
        not ch.isalnum()
        and not ch.isascii()
        and not ("\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef")
        and unicodedata.category(ch) in _DECORATION
        for ch in tok
    )


def _take(pattern: re.Pattern[str], text: str, notes: list[str]) -> str:
    found = pattern.findall(text) if pattern.search(text) else []
    if not found:
        return text
    notes.extend(m if isinstance(m, str) else m[0] for m in found)
    return pattern.sub(" ", text)


_new_reading = tuple.__new__
# `不要了` said of the whole line, at its end: withdrawn (never `不要辣`, `不要葱`).
_WITHDRAWN = re.compile(r"(?:^|[\s，,。])(?:不要了|不需要了|不用了|不要啦)[!！。~～]*$")
_LONE_DE = re.compile(r"(?<=\s)的(?=[\s～~]|$)")


# A count taken off an earlier order: the minus, then a count with its unit (`-3份`, `-1斤`).
_LESS_BY = re.compile(
    r"[-－]\s?(?=\d{1,3}\s?(?:"
    + "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True))
    + "))"
)


# `写“生日快乐”`, `写上"Happy Birthday"`: words to write on the goods, quoted.
_WRITE_ON = re.compile(
    r"(?:生日牌|牌子|卡片|蛋糕上)?(?:写上?|写字|字)[:：]?\s*[“\"「『][^”\"」』]{1,30}[”\"」』]"
)
# A bracket first saying the order is placed for someone else: `（代邻居）`, `(帮楼上)`.
_ON_BEHALF = re.compile(r"[（(]\s*(?P<who>(?:代|帮|替)[^（）()]{1,6}?)\s*[）)]\s*(?=\S)")


@lru_cache(maxsize=65536)
def read_entry(body: str, ctx: Context) -> Reading:
    """Read one entry's body (its text without the number). Memoised: copies repeat lines."""
    flags: set[str] = set()
    notes: list[str] = []
    text = body
    if ("（" in text or "(" in text) and _PAID_BRACKET.search(text):
        text = _paid_brackets(text, notes)  # `Riki4（已转）`, `4份（2份少饭）（已转）`
    if text[:1] in "（(" and (whom := _ON_BEHALF.match(text)) is not None:
        notes.append(whom["who"])  # `（代邻居）3-402 鲜肉1盒`: for whom, then who and what
        text = text[whom.end() :].lstrip()
    if "写" in text and (words := _WRITE_ON.search(text)) is not None:
        notes.append(words.group(0))  # `写“生日快乐 爸爸”`: what goes on the cake, not goods
        text = f"{text[: words.start()]} {text[words.end() :]}".strip()
    if "不" in text and (gone := _WITHDRAWN.search(text)) is not None:
        flags.add(FLAG_CANCEL)  # `土豆两斤 不要了`: the writer withdraws it, as with 取消
        text = text[: gone.start()].rstrip()
    # _RARE, asked where it can match: one scan rules out what most lines lack
    if (_RARE_START.search(text) and _RARE.search(text)) or _ELEVEN_DIGITS.search(text):
        if "取消" in text:
            flags.add(FLAG_CANCEL)
            text = text.replace("取消", " ")
        text = _take(PHONE, text, notes)
        if _may_hold_price(text) and ORDER_ID.search(text) is None:
            text = _take(PRICE_NOTE, text, notes)
            if ctx.by_money:  # `5元的`: the amount is the order (the chain reader counts it)
                text = _LONE_DE.sub(" ", text)
        if "\ufe0f" in text:
            text = _VS_SEPARATOR.sub(" ", text)
        if ctx.layout:
            text = _by_layout(text, ctx.layout, notes)
        text = _first_comma_spaced(" ".join(text.split()))  # `张新,1`, `妮，E区`
    elif "  " in text:
        text = " ".join(text.split())
    if ctx.layout[:1] == ("goods",) and text[:1] in _COUNT_STARTS:
        text = _count_last(text)  # `2箱 王丽 5-101` under `格式：数量+姓名+楼号`
    name, rest, name_flags = split_name(text, ctx)
    flags |= name_flags
    if rest[:1] in "-－" and (less := _LESS_BY.match(rest)) is not None:
        flags.add(FLAG_CANCEL)  # `刘展 -3份`: three portions fewer than ordered before
        rest = rest[less.end() :]
    if name and " " in name and name.rstrip("\ufe0f")[-1:] in _CHECK_MARKS:
        head, _, mark = name.rpartition(" ")  # `张阿姨 ✅ 3圈`: done, not part of who
        if head and all(ch in _CHECK_MARKS or ch == "\ufe0f" for ch in mark):
            name = head
            notes.append(mark)
    if ctx.by_money and name and not rest and notes and " " in name:
        head, _, tail = name.rpartition(" ")
        if is_emoji_token(tail):  # `橙子 5元的 🙏`: the amount was taken out before the emoji
            name = head
            notes.append(tail)
    after = _after_name(rest, ctx)
    if not notes and not flags:  # the common entry: its goods' reading, shared
        # Reading's own __new__ is a Python function around tuple's: a frame less; and the
        # tuples joined in one step, where unpacking `after` builds a list first
        return _new_reading(Reading, (name,) + after)  # noqa: RUF005
    flags |= after.flags
    notes.extend(after.notes)
    items = after.items
    if not after.rest and FLAG_UNSPLIT in flags and name:
        _, qty, unit = split_quantity(name)
        items = (Item(None, qty or Decimal(1), unit, True),)
        if _out_of_range(items):
            flags.add(FLAG_QTY_OUT_OF_RANGE)
    notes_read = tuple(n for n in notes if n)
    return Reading(name, items, notes_read, frozenset(flags), after.rest, after.parsed)


class AfterName(NamedTuple):
    """What follows an entry's name, read: a Reading without the name."""

    items: tuple[Item, ...]
    notes: tuple[str, ...]
    flags: frozenset[str]
    rest: str
    parsed: tuple[ParsedItem, ...] | None


_NOTHING_AFTER = AfterName((), (), frozenset(), "", None)


@lru_cache(maxsize=65536)
def _after_name(rest: str, ctx: Context) -> AfterName:
    """The goods and notes after the name. Memoised apart from the entry: residents repeat
    their goods down a chain (`苹果2斤`, `+1`) under names that differ."""
    if not rest:
        return _NOTHING_AFTER
    flags: set[str] = set()
    notes: list[str] = []
    if rest and not rest[-1].isalnum() and ord(rest[-1]) > 0x2000:
        rest = _without_emoji_tail(rest, notes, ctx)  # `消毒液两瓶 🙏`: thanks, not goods
    if rest[:2] in ("- ", "— ", "－ "):
        rest = rest[2:].lstrip()  # `小喵 - 4去冰`: a dash between the name and the order
    if ("-" in rest or "－" in rest) and _SIGNED.search(rest):
        flags.add(FLAG_CHANGE)
    if rest[:1] in "（(" and rest.endswith(_CLOSERS) and _COUNT_FIRST.match(rest, 1):
        rest = rest[1:-1].strip()  # `阿德 （8个，(^🙏^)）`: the whole order in brackets
    if not rest.endswith(_CLOSERS) and ("）" in rest or ")" in rest):
        rest = _notes_after_bracket(rest, notes)  # `4份（2份少饭） 已付`: the bracket ends it
    m = _BRACKET_NOTE.search(rest) if rest.endswith(_CLOSERS) else None
    if m:
        before = rest[: m.start()].split()
        head = rest[: m.start()]
        code_before = bool(
            ctx.codes and re.search(r"\d\s*$", head) and not _DELIVERY_NOTE.search(m.group(1))
        )
        said = is_paid_or_pickup(m.group(1).strip())  # `超市997501（已转）`: paid, after anything
        if before and (said or (not code_before and not _ID_END.search(head))):
            if m.group(1).strip():
                notes.append(m.group(1).strip())
            rest = rest[: m.start()].rstrip()
    if "同" in rest and SAME_AS_ABOVE.match(rest.replace(" ", "")):
        flags.add(FLAG_SAME_AS_ABOVE)
        same = (Item(None, Decimal(1), None, False),)
        return AfterName(same, tuple(filter(None, notes)), frozenset(flags), rest, None)
    if not rest:
        return AfterName((), tuple(filter(None, notes)), frozenset(flags), rest, None)
    item_notes, read, item_flags, parsed = read_items(rest, ctx)
    if not notes and not flags:  # read_items' own answer, shared
        return AfterName(read, item_notes, item_flags, rest, parsed)
    return AfterName(read, (*filter(None, notes), *item_notes), item_flags | flags, rest, parsed)


_PAID_BRACKET = re.compile(r"[（(]\s*([^（）()]{1,8}?)\s*[）)]")


def _paid_brackets(text: str, notes: list[str]) -> str:
    """A bracket saying the order is paid or how it is picked up (`（已转）`, `(自提)`) is a
    note wherever it stands: glued to a name, after an id or after another bracket."""

    def aside(m: re.Match[str]) -> str:
        if not is_paid_or_pickup(m.group(1)):
            return m.group(0)
        notes.append(m.group(1))
        return " "

    return _PAID_BRACKET.sub(aside, text).strip()


_CHECK_MARKS = frozenset("✅☑✔✓√")
_COUNT_STARTS = frozenset("0123456789一二两三四五六七八九十百半")  # what a count may start with


def _count_last(text: str) -> str:
    """Where the head's format puts the count first, the count moved after the name, where the
    rest of the reader looks for it."""
    first, _, others = text.partition(" ")
    if others and (first.isdecimal() or pure_quantity(first) is not None):
        return f"{others} {first}"
    return text


def _notes_after_bracket(rest: str, notes: list[str]) -> str:
    """`4份（2份米饭换红薯，2份少饭） 已付`: words after the last bracket that are all notes
    (paid, where, when) are set aside, so the bracket is read as the order's last word."""
    close = max(rest.rfind("）"), rest.rfind(")"))
    tail = [w for w in (t.strip("，,;；。!！ ") for t in rest[close + 1 :].split()) if w]
    if not tail or not all(map(is_note_token, tail)):
        return rest
    notes.extend(tail)
    return rest[: close + 1]


def _without_emoji_tail(rest: str, notes: list[str], ctx: Context) -> str:
    """Emoji ending an order on their own (`春饼套餐 🙏`) or after its count (`1瓶❤️`) say
    thanks or smile: kept as a note. Glued to words they may be the goods' own (`10冰🧊`), and
    under letter codes they pick a meat (`E 🐮`): there they stay."""
    end = len(rest)
    while end > 0 and unicodedata.category(rest[end - 1]) in _EMOJI_CATEGORIES:
        end -= 1
    if end == len(rest) or end == 0:
        return rest
    words = rest[:end].split()
    code = len(words[-1]) == 1 and words[-1].isascii() and words[-1].isalpha()  # `E 🐮`
    alone = rest[end - 1].isspace() and not (ctx.letters or code)
    if not alone and not has_quantity(words[-1]):
        return rest
    notes.append(rest[end:].strip())
    return rest[:end].rstrip()


def _first_comma_spaced(text: str) -> str:
    """The comma after the first word read as a space: what `_FIRST_COMMA.sub(r"\1 ", …)`
    gives, without the template expanded in Python for every line. A comma inside a bracket
    the word opens (`杨光（有车搭就去，如果没有就算了）`) stays: it ends no name."""
    m = _FIRST_COMMA.match(text)
    if m is None:
        return text
    word = m.group(1)
    opened = word.count("(") + word.count("（") if "(" in word or "（" in word else 0
    if opened and opened > word.count(")") + word.count("）"):
        return text
    return f"{word} {text[m.end() :]}"


def _may_hold_price(text: str) -> bool:
    """PRICE_NOTE needs 元, 块钱 or a yuan sign: most lines have none, and spare it the search."""
    return "元" in text or "¥" in text or "￥" in text or "块钱" in text


def _out_of_range(items: Sequence[Item]) -> bool:
    """Too many, none, negative, or finer than the thousandths stored (`0.0001份`)."""
    return any(it.qty > MAX_QTY or it.qty <= 0 or not is_storable(it.qty) for it in items)


def _by_layout(text: str, layout: tuple[str, ...], notes: list[str]) -> str:
    """`张三，1号，101室，番茄1斤` under `例 姓名手机，楼号，室号，内容`: places are notes."""
    parts = _LAYOUT_SPLIT.split(text)
    if "place" not in layout or len(parts) < len(layout):
        return text
    extra = parts[len(layout) :]
    if extra and any(map(has_quantity, extra)):
        return text
    notes.extend(p.strip() for p in extra)  # `…，番茄1斤，谢谢团长`: a word after the layout
    keep = []
    for role, part in zip(layout, parts[: len(layout)], strict=True):
        if role in ("place", "other"):
            notes.append(part.strip())
        else:
            keep.append(part.strip())
    return " ".join(keep)


def _name_end(body: str, tokens: list[str], n: int) -> int:
    end = 0
    for tok in tokens[:n]:
        for part in tok.split(" "):
            end = body.index(part, end) + len(part)
    return end


@lru_cache(maxsize=65536)
def _is_goods(tok: str, ctx: Context) -> bool:
    """The word starts the goods: a quantity, a menu code, a known product, `+1`, `同上`.
    Memoised: the goods after the names recur down a chain."""
    if ctx.letter_numbers and tok.upper() in ctx.letter_numbers:
        return True  # `A1` under a menu coded A1, A2, B1
    if has_quantity(tok) or PLUS_ONE.match(tok) or SAME_AS_ABOVE.match(tok):
        return True
    clause = _CLAUSE_END.search(tok, 1)
    if clause and has_quantity(tok[: clause.start()]):
        return True  # `消毒药三瓶，谢谢团长`, `消毒药三瓶（已转）`: goods, then a word on them
    if ctx.codes and MENU_NUMBER.match(tok):
        return True
    head = tok[:1].upper()
    if ctx.letters and head in ctx.letters and (len(tok) == 1 or not tok[1:2].isalpha()):
        return True
    if len(tok) >= 2:
        for p in ctx.products:
            if p and (p in tok or tok in p):
                return True
    return False


_NO_FLAGS: frozenset[str] = frozenset()
_CLAUSE_END = re.compile(r"[，,；;。（(]")


def split_name(body: str, ctx: Context) -> tuple[str | None, str, frozenset[str]]:
    """(name as written, the rest, flags) from an entry's body."""
    tokens = body.split()
    if "(" in body or "（" in body:
        tokens = _join_brackets(tokens)
    if not tokens:
        return None, "", _NO_FLAGS
    first = tokens[0]
    lead = first[0]
    if first in _JOINING:  # `接`, `接 2盒`: joining the chain, the poster's own order
        return None, body[len(first) :].strip(), _NO_FLAGS
    if (
        (lead in "+＋加" and PLUS_ONE.match(first))
        or (len(tokens) == 1 and first.isdecimal() and len(first) == 1)  # `5. 1`: one, no name
        or (lead == "同" and SAME_AS_ABOVE.match(first))
        or ((lead in _PURE_START or lead.isdecimal()) and pure_quantity(first) is not None)
        or (lead in "hw" and _URL.match(first))
        or ((body[0] in "超订单编" or "超市" in body) and ORDER_ID.match(body))
    ):
        return None, body, _NO_FLAGS
    if len(tokens) == 1:
        return _single_token(first, ctx)
    if len(tokens) > 2 and first in _PICKUP_FIRST:
        # `自提 张三 苹果2斤`: how they pick up, then who: the word goes with the notes
        name, rest, flags = split_name(body[len(first) :].strip(), ctx)
        return name, f"{rest} {first}".strip(), flags
    n = 1
    address = (lead.isdecimal() or lead in _LATIN_LETTERS) and (
        ADDRESS.match(first) is not None
        or (len(tokens) > 2 and _ROOM.fullmatch(first) and _SHORT_HAN.fullmatch(tokens[1]))
    )  # `606 刘 1`: a door number, then who
    if address and len(tokens) > 2 and _ROOM.fullmatch(tokens[1]) and _BUILDING_END.search(first):
        n = 2  # `7栋 502 张 1`: the building and the room written apart
    if (
        address
        and n < len(tokens)
        # the kinship pattern first: it settles `李姐12` without reading 12 as a quantity
        and (_KIN_NUMBERED.match(tokens[n]) is not None or not _is_goods(tokens[n], ctx))
        and (not is_note_token(tokens[n]) or tokens[n] in _SURNAMES)  # `12-1-2001 温`: who
        and PORTION_SIZE.fullmatch(tokens[n]) is None  # `12#1102 小份`: the size ordered
        and not (tokens[n].isdecimal() and len(tokens[n]) <= 2)  # `1-502 1`: a count, no name
    ):
        n += 1  # `12栋302 刘姐 …`, `3栋502 李姐12`: the building-room and the nickname
        if (
            n + 1 < len(tokens)
            and _PINYIN.fullmatch(tokens[n - 1])
            and _PINYIN.fullmatch(tokens[n])
            and not english_goods(tokens[n])
            and _is_goods(tokens[n + 1], ctx)
        ):
            n += 1  # `12-1-301 Zhang Wei 五常*2`: a name in pinyin, two words
    if (
        n == 1
        and len(tokens) > 2
        and _ROLE_FIRST.fullmatch(first)
        and _SHORT_NAME.fullmatch(tokens[1])
        and not _is_goods(tokens[1], ctx)
        and not is_note_token(tokens[1])
    ):
        n = 2  # `设计部 小罗 A`, `财务 Grace A×2`: the team or role, then who
    if n == 1 and not address:
        glued = _glued_name(first, ctx)
        if glued is not None:
            name, _, flags = glued
            start = body.index(first) + len(name)
            return name, body[start:].strip().lstrip("-—_").strip(), flags
    while n < len(tokens) and (
        (
            not tokens[n][0].isalnum()
            and (is_emoji_token(tokens[n]) or _decoration(tokens[n]))
            and not is_tally(tokens[n])
        )
        or tokens[n] in TITLE_WORDS
    ):
        n += 1
    if (
        n == 1
        and not lead.isalnum()
        and is_emoji_token(first)
        and not _URL.match(tokens[1])
        and len(tokens[1]) <= 8
        and not _CLAUSE.search(tokens[1])  # `💪 老奶洋芋，炒土豆都可以`: words, not a name
        and not _is_goods(tokens[1], ctx)
        and not is_note_token(tokens[1])
    ):
        n = 2  # `🍀 杨茜H区`: an emoji, then the name
    if n == 1 and len(first) == 1 and _ONE_HAN.match(first) and _ONE_HAN.match(tokens[1]):
        n = 2  # `维 维`: a name written with a space between its characters
    if (
        n == 1
        and (lead in _LATIN_LETTERS or not (lead.isalnum() or lead == "_" or lead.isspace()))
        and (_LATIN_NAME_WORD.match(first) or _initials(first, tokens[1]))
    ):  # the pattern needs a Latin letter or a symbol first
        # `Lily wang`, `Christine Hu💦`, `Z r`: an English name runs over several words
        while (
            n < len(tokens)
            and (_LATIN_NAME_WORD.match(tokens[n]) or _LOWER_INITIAL.fullmatch(tokens[n]))
            and not english_goods(tokens[n])  # `Peter apple x2`: the goods, not a surname
            and not (ctx.letters and tokens[n][:1].upper() in ctx.letters and len(tokens[n]) <= 2)
            and tokens[n].casefold() not in ctx.fields
            and not _is_goods(tokens[n], ctx)
            and (not is_note_token(tokens[n]) or _LOWER_INITIAL.fullmatch(tokens[n]))
        ):
            n += 1
        if n < len(tokens) and _NAME_WITH_PLACE.match(tokens[n]):
            n += 1  # `ice 艾小花—F区`: the rest of the name, with the place joined to it
        elif _chinese_name_next(tokens, n, ctx):
            n += 1  # `Amy 王芳 苹果2斤`, `Coco 李 香蕉1把`: the Chinese name, then the goods
        elif (
            ctx.codes
            and n + 1 < len(tokens)
            and _SHORT_HAN.fullmatch(tokens[n])
            and tokens[n + 1][:1].isdecimal()
            and not _is_goods(tokens[n], ctx)
            and not is_note_token(tokens[n])
        ):
            n += 1  # `River 其超 12`: the Chinese name after the English one, then the box
    if n == 1 and " " not in first:
        end = body.index(first) + len(first)
    else:
        end = _name_end(body, tokens, n)
    name, rest = body[:end], body[end:].strip()
    if ctx.codes and name[-1:].isdecimal() and _only_notes(rest):
        # `Riki4`, `Jay11 冰 5号楼`, `Jay11 冰，谢谢`: nothing after the name orders
        return _code_after_name(name, rest, ctx) or (name, rest, _NO_FLAGS)
    if ctx.codes and name[-1:] > "\u2000" and " " in name and not rest:
        head, _, tail = name.rpartition(" ")
        if head[-1:].isdecimal() and is_emoji_token(tail):  # `Riki4 🙏`: box 4, and thanks
            return _code_after_name(head, tail, ctx) or (name, rest, _NO_FLAGS)
    return name, rest, _NO_FLAGS


def _chinese_name_next(tokens: list[str], n: int, ctx: Context) -> bool:
    """After an English name, a word of one to three Chinese characters is the Chinese name
    when goods with their count follow it (`Amy 王芳 苹果2斤`); before a bare count (`Amy 苹果
    2斤`) it is the goods."""
    if n + 1 >= len(tokens):
        return False
    word, after = tokens[n], tokens[n + 1]
    if len(word) == 1 and word in _SURNAMES:
        return True  # `Coco 李 南瓜烧仔鸡`: a surname alone is no dish
    return (
        _SHORT_HAN.fullmatch(word) is not None
        and word not in _NOT_A_NAME
        and not _is_goods(word, ctx)
        and not is_note_token(word)
        and has_quantity(after)
        and pure_quantity(after) is None
        and not after[:1].isdecimal()
    )


# A team or a role written before the name in an office's chain.
_ROLE_FIRST = re.compile(
    r"[\u4e00-\u9fff]{1,6}(?:部|组|科|处|中心)|[一二三四五六七八九\d]{1,2}[（(]\d{1,2}[）)]班|"
    r"财务|行政|前台|人事|实习生|销售|技术|设计|运营|市场|"
    r"采购|客服|研发|产品|测试|法务|保安|保洁|物业"
)
_SHORT_NAME = re.compile(r"[\u4e00-\u9fff]{1,3}|[A-Za-z][A-Za-z'’]{1,15}")
# A name with where they live in brackets, the order glued after it.
_PLACE_BRACKET_THEN = re.compile(
    r"(?P<name>[^（(\s]{1,12}[（(][^（）()]{0,6}(?:栋|幢|号楼|单元|室|区|座|\d)[）)])(?P<rest>\S+)"
)
_PINYIN = re.compile(r"[A-Za-z][a-z]{1,5}")
_JOINING = frozenset({"接", "接龙", "跟", "跟团", "加一", "我也要", "我要", "同"})
# The common surnames that name no goods on their own (李 is written 李子 when it is plums). In
# a sign-up no word is goods: roster.py reads names by a wider list (牛, 金, 梅, 白…).
_SURNAMES = frozenset(
    "王李张刘陈杨赵吴周徐孙朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范石廖贾夏韦付方邹孟熊秦邱尹薛闫段雷侯史陶黎贺顾郝龚邵严覃戴莫孔汤温"
)
# One character that says what to do, not who: `Amy 加 苹果2斤`, `Amy 要 梨1斤`.
_NOT_A_NAME = frozenset([*"要来加买订改再和跟帮送", "混装", "混合", "拼装"])


_WORDS = re.compile(r"[\s，,]+")


def _orders_nothing(word: str) -> bool:
    """A word after a name that orders nothing: a note without a digit, or a place (`5号楼`);
    never `3+7自取`, which orders boxes 3 and 7 before saying how."""
    return (
        not word
        or is_emoji_token(word)
        or (
            is_note_token(word)
            and (_DIGIT.search(word) is None or _BUILDING.match(word) is not None)
        )
    )


_BUILDING = re.compile(r"^(?:\d+\s*(?:号楼|栋|幢|座|单元|期|区)\S{0,4}|[A-Za-z]\d?区?\d{0,2})$")


@lru_cache(maxsize=65536)
def _only_notes(rest: str) -> bool:
    """Nothing after a name ending in a digit orders (`Jay11 冰 5号楼`): the digit may be the
    box. Memoised: the goods after the names recur down a chain."""
    return all(map(_orders_nothing, _WORDS.split(rest)))


def _code_after_name(
    tok: str, rest: str, ctx: Context
) -> tuple[str | None, str, frozenset[str]] | None:
    """`🔆7`, `Jay11 冰`, `Riki4` under a numbered menu: the box number glued to the name.
    Only called when nothing else on the line orders (no other digit, only notes after), so
    the number is the order: read without the nickname, the entry would order nothing. A
    kinship word with a number (`李姐12`) stays a nickname, and is flagged."""
    code = _TRAILING_CODE.match(tok)
    if code is None or code["code"] not in ctx.codes:
        return None
    kin = _KIN_NUMBERED.match(tok) is not None
    name = code["name"].rstrip("（(")  # `Danni（重度社恐版）（10`: a bracket opened, never closed
    flags = frozenset({FLAG_AMBIGUOUS_NAME}) if kin else _NO_FLAGS
    return name or code["name"], f"{code['code']} {rest}".strip(), flags


# What each of split_name's no-name tests needs: PLUS_ONE starts with + or 加, SAME_AS_ABOVE
# with 同, _URL with h or w, a pure quantity with a digit or one of these, ORDER_ID at the
# start with one of its words or with digits before 超市.
_PURE_START = frozenset("xX×*＊乘+＋加半零〇一二两俩三四五六七八九十百千")
_LATIN_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
# A lone lower-case letter after an English name is its initial (`Z r`), not an area: areas
# and blocks are written in capitals (`B区`, `C2`).
_LOWER_INITIAL = re.compile(r"[a-z]")


_TRAILING_CODE = re.compile(r"^(?P<name>\D*[^\d\s+＋#＃.、])(?P<code>[1-9]\d?)$")


# A kinship word with a number (`李姐12`): a nickname, never 12 of something.
_KIN_NUMBERED = re.compile(r"^[\u4e00-\u9fff]{0,3}[姐哥姨叔婶嫂妈爸弟妹爷奶婆公](?:\d+|[A-Za-z]+)$")


def _initials(first: str, second: str) -> bool:
    """`Z r`, `i n`: a letter and a lower-case letter, a name written as its initials."""
    return len(first) == 1 and first.isalpha() and _LOWER_INITIAL.fullmatch(second) is not None


def _join_brackets(tokens: list[str], glue: str = " ") -> list[str]:
    """`Ivy(Feng xiaoling)`: a bracket opened in one word closes in a later one. A bracket
    never closed (`椰（早7晚11版  9`) joins nothing: the words after it stay apart."""
    groups: list[list[str]] = []
    for tok in tokens:
        if groups and _opens_more(glue.join(groups[-1])):
            groups[-1].append(tok)
        else:
            groups.append([tok])
    if groups and len(groups[-1]) > 1 and _opens_more(glue.join(groups[-1])):
        groups[-1:] = [[tok] for tok in groups[-1]]
    return [glue.join(g) for g in groups]


def _opens_more(text: str) -> bool:
    return text.count("(") + text.count("（") > text.count(")") + text.count("）")


# What one of _glued_name's patterns needs: a unit's first character (a quantity glued on,
# `刘芳2箱`; 组 is a unit too) or a customisation's (`梁昌艳H3区少饭`). One class, searched:
# a set test on Chinese text makes a string per character.
_GLUE_HINT = re.compile(
    "["
    + "".join(sorted({re.escape(c) for c in [*(u[0] for u in UNITS), *NOTE_IN_WORD_STARTS]}))
    + "]"
)


def _glued_name(tok: str, ctx: Context) -> tuple[str, str, frozenset[str]] | None:
    """`刘芳2箱`, `云谷美猴王1份飞金针菇已付`, `梁昌艳H3区少饭`: a name with the order glued on.

    A name of more than three characters may itself end in goods (`张三榴莲2个`): flagged
    unless the chain sells one thing (the chain reader drops the flag there)."""
    if ("）" in tok or ")" in tok) and (placed := _PLACE_BRACKET_THEN.match(tok)) is not None:
        return placed["name"], placed["rest"], _NO_FLAGS  # `张三（3栋）2箱`, `Lily（11栋）花生油`
    if _GLUE_HINT.search(tok) is None:  # most names: neither a unit nor a customisation
        return None
    m = _GLUED_QTY.match(tok) if _GLUED_HINT.search(tok, 1) else None
    if m and not _is_goods(m["name"], ctx):
        name = m["name"].rstrip("-—_")
        return name, tok[len(name) :], frozenset({FLAG_AMBIGUOUS_NAME} if len(name) > 3 else ())
    note = NOTE_IN_WORD.search(tok, 2)
    if note and _PLACE_END.search(tok[: note.start()]):
        return tok[: note.start()], tok[note.start() :], frozenset()
    group = _GROUP_END.search(tok, 2) if tok.endswith("组") else None
    if group:  # `韩医生B组`: a group or a team after the name
        return tok[: group.start()], tok[group.start() :], frozenset()
    return None


def _single_token(tok: str, ctx: Context) -> tuple[str | None, str, frozenset[str]]:
    times = (_NAME_TIMES.match(tok) or _ADDRESS_PLUS.match(tok)) if tok[-1:].isdecimal() else None
    if times and (times.re is _NAME_TIMES or ADDRESS.match(times["name"])):
        return times["name"], times["qty"], frozenset()  # `小王+1`, `王姐×2`, `2-1-101+1`
    coded = _code_after_name(tok, "", ctx) if ctx.codes else None
    if coded is not None:
        return coded
    for name in sorted(ctx.products, key=len, reverse=True):
        short = name[-2:] if len(name) > 2 else name
        for probe in (name, short):
            at = tok.find(probe)
            if at > 0:
                head = tok[:at]  # `刘芳2斤苹果`: the quantity before the product is not the name's
                counted = _GLUED_QTY.match(head) if _GLUED_HINT.search(head) else None
                if counted and not counted["tail"]:
                    head = counted["name"].rstrip("-—_")
                return head, tok[len(head) :], frozenset({FLAG_GLUED})
            if at == 0 and has_quantity(tok):
                return None, tok, frozenset()  # `苹果2份` alone: the poster orders for themself
    if ADDRESS.match(tok):
        return tok, "", frozenset()
    glued = _glued_name(tok, ctx)
    if glued is not None:
        return glued[0], glued[1].lstrip("-—_"), glued[2]
    if _DOTTED_NUMBER.search(tok):
        return tok, "", frozenset()  # `小屿·77`: a nickname with its number, not 77 of them
    if has_quantity(tok) and not MENU_NUMBER.match(tok) and not _AREA_END.search(tok):
        return tok, "", frozenset({FLAG_UNSPLIT})
    return tok, "", frozenset()


_CAKE_SIZE = re.compile(r"\d{1,2}\s*寸")
# A colour alone (`蓝`, `藏青`, `粉色`): a number glued after it from 30 up is a size.
_COLOUR_ONLY = re.compile(
    r"[\u4e00-\u9fff]{0,3}色|[红橙黄绿青蓝紫黑白灰粉棕咖]|藏青|卡其|米白|天蓝"
)
_SIZE_NOT_COUNT = Decimal(30)
_WORN_NUMBER = re.compile(r"(?:[3-9]\d|1\d\d)(?:/\d{2,3}[A-Z]?)?码?")  # `120`, `165/88A`, `42码`
_SIZE_FIRST = re.compile(r"\d+(?:\.\d+)?\s*(?:ml|ML|mL|l|L|g|kg|KG)(?![A-Za-z])")
# `再加一个`, `加个`, `另加一份` before a menu code or letter: more of that box.
_MORE_OF_CODE = re.compile(
    r"(?:再|另)?加上?\s*(?:[一1]?\s*(?P<unit>个|份|盒|箱|杯|瓶))?\s*(?=[0-9A-Za-z])"
)
# `3层100抽*24包`, `550ml*24瓶`: a size, then a times sign and a count of what is in the pack.
_SPEC_WORD = re.compile(r"\d+(?:\.\d+)?[^\d\s号*×xX]+\S*?[*×xX]\s*\d+\S*$")
_NUMBERED_GOODS = re.compile(r"\d{1,2}\s*(?:号(?![楼院门])|寸)")


def _plus_splits(left: str, right: str, ctx: Context) -> bool:
    """`+` before a number separates menu codes (`2+4`, `麻薯的1 + 2`); elsewhere it is a
    quantity (`苹果+1`)."""
    nxt = right.lstrip()
    if not (nxt[:1].isdigit() or nxt[:1] in "一二两三四五六七八九十"):
        return True
    if _NUMBERED_GOODS.match(nxt):
        return True  # `1号6寸+2号6寸`: the goods numbered 1, and those numbered 2
    number = _DIGITS.match(nxt)
    if not ctx.codes or number is None or number.group(0) not in ctx.codes:
        return False
    left = left.strip()
    return bool(_LEAD_DIGITS.match(left) or _TRAIL_DIGITS.search(left) or left.endswith(_CLOSERS))


def _split_top(text: str, ctx: Context) -> list[str]:
    """Split at explicit separators (`+ ➕ ， , 、 ； ;`) outside brackets."""
    pieces = _SEP_SPLIT.split(text)
    if len(pieces) == 1:
        return [text.strip()] if text.strip() else []
    parts: list[str] = []
    cur = pieces[0]
    for k in range(1, len(pieces), 2):
        sep, nxt = pieces[k], pieces[k + 1]
        inside = cur.count("（") + cur.count("(") > cur.count("）") + cur.count(")")
        if inside or (sep.strip() == "+" and not _plus_splits(cur, nxt, ctx)):
            cur = f"{cur}{sep}{nxt}"
        else:
            parts.append(cur)
            cur = nxt
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def _split_words(part: str, ctx: Context) -> list[str]:
    """Within one part, spaces split between complete items (`香蕉x2 苹果+1`, `茄盒 肥肠鸡`).

    A word stays with the one before it when it cannot stand alone: a quantity or unit, an
    emoji, a bracket, the product after a letter code (`J 鸡胸球`), the flavour after a menu
    number (`8 抹茶`)."""
    rng = _RANGE.match(part) if "-" in part else None
    if rng:
        return [rng.group(1), rng.group(2)]
    words = part.split()
    if len(words) < 2:
        return words
    if "(" in part or "（" in part:
        words = _join_brackets(words)
    codes = ctx.codes
    segments: list[str] = []
    current = ""
    for w in words:
        if not current:
            current = w
            continue
        # The tests are pure: the cheap ones first.
        if (
            (w[0] in "（(【[" and not (w[0] == "[" and _BRACKET_CODE.match(w)))
            or w in _UNIT_SET
            or (current in _TIMES_WORDS or w in _TIMES_WORDS)  # `三鲜 x 2`
            or current.endswith(_TIMES_TAILS)  # `2号 x 3`: the count after the sign
            or (current[-1] in "xX×" and COUNT_BEFORE_TIMES.fullmatch(current) is not None)  # 2x B1
            or (  # `红心火龙果 5斤装`, not `10斤装 1 5斤装`: another size after a count
                w[-1] == "装" and not current[-1].isdigit() and _PACK_SIZE.fullmatch(w) is not None
            )
            or (  # `维达抽纸 3层100抽*24包`: the goods, then their specification
                w[0].isdecimal()
                and _SPEC_WORD.match(w) is not None
                and not has_quantity(current)
                and not current[-1].isdecimal()
            )
            or (  # `黑 165/88A`, `粉色 120`: a colour, then the size worn
                w[0].isdecimal()
                and _WORN_NUMBER.fullmatch(w) is not None
                and _COLOUR_ONLY.fullmatch(current) is not None
            )
            or (  # `8寸 水果`: the cake's size, then which cake
                current[-1] == "寸"
                and _CAKE_SIZE.fullmatch(current) is not None
                and not has_quantity(w)
                and not w[:1].isdecimal()
            )
            or (  # `5斤装 2`: the size, then how many of it
                current[-1] == "装"
                and w.isdecimal()
                and len(w) <= 2
                and _PACK_SIZE.fullmatch(current) is not None
            )
            or (  # `藏蓝色 XL`: the colour, then the size
                w[-1] in "SMLX码"
                and _COLOUR.fullmatch(current) is not None
                and CLOTHES_SIZE.fullmatch(w) is not None
            )
            or (len(current) == 1 and _CODE_TOKEN.match(current) and not _CODE_TOKEN.match(w))
            or (not w[0].isalnum() and is_emoji_token(w))
            or (pure_quantity(w) is not None and pure_quantity(current) is None)
            or (
                codes
                and not (w in codes and _CODE_NUMBER.fullmatch(w))
                and MENU_NUMBER.fullmatch(current)
                and not has_quantity(w)
                and not (w[-1] == "号" and MENU_NUMBER.fullmatch(w))  # `3号 5号`: two boxes
            )
            or (
                not codes
                and _CODE_NUMBER.fullmatch(w) is not None
                and not has_quantity(current)
                and not current.isdigit()
            )
            or (codes and w.isdecimal() and len(w) <= 2 and _names_product(current, ctx))
        ):
            current = f"{current} {w}"
        else:
            segments.append(current)
            current = w
    if current:
        segments.append(current)
    return segments


def _after_brackets(seg: str) -> list[str]:
    """`春饼套餐（东方明珠）超市147258`: a closing bracket followed by more goods splits; a box
    numbered in square brackets (`[4]巧克力味`, `[3]两盒`) stays with what follows it."""
    closed = ")" in seg or "）" in seg or "】" in seg or "]" in seg
    if not closed or not _BRACKET_THEN.search(seg) or _BRACKET_CODE.fullmatch(seg):
        return [seg]
    out: list[str] = []
    start = 0
    for m in _BRACKET_THEN.finditer(seg):
        out.append(seg[start : m.end(1)])
        start = m.end(1)
    out.append(seg[start:])
    return [p.strip() for p in out if p.strip()]


@lru_cache(maxsize=65536)
def _glued_goods(seg: str) -> tuple[str, ...]:
    """`梨3斤可乐一箱` → `梨3斤`, `可乐一箱`: a unit, then another product with its own quantity.
    Memoised: the same goods recur down a chain. At most GLUED_MAX pieces: each cut scans the
    rest of the word again, and a line of hundreds of glued goods is nobody's order."""
    bare = _BARE_COUNTED.fullmatch(seg) if seg[-1:].isdecimal() else None
    if bare:  # `豆浆1油条2`: each product with its count, no unit
        return tuple(m.group(0) for m in _BARE_PAIR.finditer(seg))
    pieces: list[str] = []
    rest = seg
    while len(pieces) < GLUED_MAX:
        m = _GLUED_GOODS.match(rest)
        if m and _opens_more(m["left"]):
            break  # `黄鱼鲞（500g）×2`: the weight in the brackets is the product's size
        if m and has_quantity(m["right"]) and not _SPEC.search(rest):
            pieces.append(m["left"])
            rest = m["right"]
            continue
        m = (
            _GLUED_QTY_FIRST.match(rest)
            if rest[:1].isdecimal()
            else _GLUED_CN_FIRST.match(rest)
            if rest[:1] in _CN_COUNT_START
            else None
        )
        if m and not _SPEC.search(rest):
            pieces.append(m["left"])
            rest = m["right"]
            continue
        break
    return (*pieces, rest)


GLUED_MAX = 32
_CN_COUNT_START = frozenset("一两二三四五六七八九十")


_BARE_PAIR = re.compile(r"[\u4e00-\u9fff]{2,8}\d{1,2}")
_BARE_COUNTED = re.compile(r"(?:[\u4e00-\u9fff]{2,8}\d{1,2}){2,6}")


def _counted_apart(segment: str) -> tuple[Item, frozenset[str]] | None:
    """`苹果1/2箱`: half a box. `苹果2-3斤`: the smaller count, flagged for the leader to say."""
    half = _QTY_FRACTION.search(segment)
    if half and half.start() > 0:
        qty = Decimal(half.group(1)) / Decimal(half.group(2))
        if is_storable(qty):
            return Item(segment[: half.start()].strip(), qty, half["unit"], True), frozenset()
    rng = _QTY_RANGE.search(segment)
    if rng and rng.start() > 0 and Decimal(rng.group(1)) < Decimal(rng.group(2)):
        item = Item(segment[: rng.start()].strip(), Decimal(rng.group(1)), rng["unit"], True)
        return item, frozenset({FLAG_MANY_COUNTS})
    return None


@lru_cache(maxsize=65536)
def read_item(segment: str, ctx: Context) -> tuple[Item, frozenset[str]]:
    """One item segment read: the product text as written, its quantity and unit."""
    flags: set[str] = set()
    if ctx.letter_numbers and segment.strip().upper() in ctx.letter_numbers:
        return Item(segment.strip(), Decimal(1), None, False), frozenset()  # `A1`, not A×1
    if "约" in segment:
        segment = _ABOUT.sub("", segment)
    if segment.endswith(("的", "～", "~")):
        segment = _TRAILING_PARTICLE.sub("", segment)  # `5块的～`: five yuan's worth
    if segment.endswith(("左右", "上下")) and segment[:-2].rstrip().endswith(_UNIT_ENDS):
        segment = segment[:-2].rstrip()
    if "/" in segment or "-" in segment or "~" in segment or "～" in segment or "到" in segment:
        apart = _counted_apart(segment)
        if apart is not None:
            return apart
    if segment[-1:] in _SIZE_ENDS and (worn := CLOTHES_SIZE.fullmatch(segment)) is not None:
        said = worn["n"] or worn["n2"]  # `黑色3XL×1`, `XL 一套`
        count = to_number(said) if said else None
        item = worn["item"].strip()
        return Item(item, count or Decimal(1), worn["unit"], count is not None), frozenset()
    if "装" in segment and (size := _SIZE_ORDERED.fullmatch(segment)) is not None:
        n = size["n"]  # `3斤装`, `3斤装1`: the box of that size is the item, bought by the piece
        return Item(size["size"], Decimal(n) if n else Decimal(1), None, bool(n)), frozenset()
    if (about := _CN_RANGE.search(segment)) is not None:  # `苹果两三斤`, `一两个`: 2 or 3?
        low = to_number(about.group(1)[0]) or Decimal(1)
        text = segment[: about.start()].strip() or None
        return Item(text, low, about["unit"], True), frozenset({FLAG_MANY_COUNTS})
    words = segment.split()
    if len(words) > 1 and (pq := pure_quantity(words[-1])) is not None:
        # `上海盐汽水600ml*24瓶 4箱`: the last word is the quantity, the rest stays as written.
        return Item(" ".join(words[:-1]), pq[0], pq[1], True), frozenset()
    spec = _SPEC.search(segment) if _TIMES.search(segment) else None
    if spec:
        unit_m = re.match(rf"^\s*(?:{_UNIT_ALT})", segment[spec.end() :])
        item_end = spec.end() + (unit_m.end() if unit_m else 0)
        after = segment[item_end:].strip()
        pq = pure_quantity(after) if after else None
        if pq is not None:
            return Item(segment[:item_end].strip(), pq[0], pq[1], True), frozenset()
        return Item(segment.strip(), Decimal(1), None, False), frozenset()
    many_add = _COUNT_ADD.match(segment) if "加" in segment else None
    if many_add:  # `3加包子`: three of them add a 包子
        return Item(many_add.group(2), Decimal(many_add.group(1)), None, True, True), frozenset()
    if segment[:1] in "+＋" and segment[1:2].isdigit() and has_quantity(segment[1:]):
        segment = segment[1:]  # `+2份炒饭`: two more portions
    counted = _COUNT_LETTER.fullmatch(segment.strip()) if ctx.letters else None
    if counted and counted["code"].upper() in ctx.letters:  # `2A`: two of menu A
        return Item(counted["code"], Decimal(counted["n"]), None, True), frozenset()
    more = _MORE_OF_CODE.match(segment) if segment[:1] in "再另加" else None
    if more and (
        (ctx.codes and segment[more.end() :][:1].isdecimal())
        or (ctx.letters and segment[more.end() :][:1].upper() in ctx.letters)
        or _SIZE_FIRST.match(segment, more.end())
    ):  # `再加一个④`, `加3号一箱`, `再加个E原味`, `再加950ml 1瓶`: more of that box or size
        segment = segment[more.end() :]
    else:
        more = None
    item, qty, unit = split_quantity(segment)
    if more and qty is None:
        qty, unit = Decimal(1), more["unit"]
    if (
        qty is not None
        and qty >= _SIZE_NOT_COUNT
        and unit is None
        and _COLOUR_ONLY.fullmatch(item.strip())
        and segment.strip()[len(item.strip()) :].isdecimal()
    ):  # `蓝130`, `黑42`: a colour and its size, one of them
        item, qty = segment.strip(), None
    added = False
    if qty is None and _ADD_BEFORE_NUMBER.match(segment):  # `加一份黑凉粉`, not `加1`
        extra = split_quantity(_ADD_BEFORE_NUMBER.sub("", segment))
        if extra[1] is not None and extra[0].strip():
            item, qty, unit = extra
            added = True
    tail = (
        _CODE_AT_END.search(segment)
        if ctx.codes and qty is not None and unit is None and segment.rstrip()[-1:].isdecimal()
        else None
    )
    if (
        tail is not None
        and tail.group(1) in ctx.codes
        and not re.search(r"\d", segment[: tail.start()])
        and not _names_product(segment[: tail.start()].strip(), ctx)
    ):
        return Item(segment.strip(), Decimal(1), None, False), frozenset()  # `麻薯的1`
    if (
        qty is None
        and not ctx.codes
        and (lead := _LEADING_COUNT.match(segment))
        and segment[lead.end() : lead.end() + 1] not in _SIZE_WORDS  # `6寸`: a size, not 6 of 寸
    ):
        return Item(segment[lead.end() :].strip(), Decimal(lead.group(1)), None, True), frozenset()
    text = item.strip(" -–—:：,，.。") or None
    if (
        text is not None
        and qty is not None
        and may_be_place(text)
        and PLACE_TOKEN.match(text)
        and text.upper() not in ctx.letter_numbers
    ):
        return Item(None, qty, unit, True), frozenset({_PLACE_MARK})  # `H区1份`: area, portion
    if ctx.codes and text is not None:
        code = _CODE_START.match(text)
        if code and code.group(1) not in ctx.codes and code.group(0) == text:
            flags.add(FLAG_UNKNOWN_CODE)
    elif text is not None and text.isdecimal() and not ctx.codes:
        # `张三 2`, `小鹿 2+4`, `1x2` with no menu numbers read from the head: a number where
        # the goods should be, 2 of what (or box 2 of a menu written in a way not read)?
        flags.add(FLAG_BARE_NUMBER)
    if text is not None and qty is None and _TALK.search(text):
        flags.add(FLAG_LEFTOVER)  # `接龙写一下要啥`, `可以带包子吗`: talk, not goods
    if text is not None and len(text) >= 3 and text.isdecimal():
        flags.add(FLAG_BIG_NUMBER)  # `888`: a door number or a typo, never hundreds of goods
    if qty is not None and qty >= BIG and unit is None:
        flags.add(FLAG_BIG_NUMBER)
    item_read = Item(text, qty if qty is not None else Decimal(1), unit, qty is not None, added)
    return item_read, frozenset(flags)


def _qualified_after(piece: str, ctx: Context) -> tuple[Item, frozenset[str]] | None:
    """`香蕉3斤（青）`: a short word in brackets after the quantity qualifies the product, as
    `香蕉（熟点）3斤` does before it. A number or a place in the brackets is a note, not this."""
    if not piece.endswith(_CLOSERS):
        return None
    m = _BRACKET_NOTE.search(piece)
    if m is None or not 0 < len(m.group(1)) <= 6 or _DELIVERY_NOTE.search(m.group(1)):
        return None
    item, flags = read_item(piece[: m.start()], ctx)
    if item.text is None or not item.explicit or item.unit is None or flags:
        return None
    return Item(item.text + m.group(0).strip(), item.qty, item.unit, True), flags


def _names_product(text: str, ctx: Context) -> bool:
    """The text names (part of) a product on the menu: `砂糖橘` for 砂糖橘."""
    return len(text) >= 2 and any(text in p or p in text for p in ctx.products)


@lru_cache(maxsize=65536)
def read_items(
    rest: str, ctx: Context
) -> tuple[tuple[str, ...], tuple[Item, ...], frozenset[str], tuple[ParsedItem, ...]]:
    """What follows the name: (notes, items, flags, the items as the chain gives them)."""
    notes: list[str] = []
    flags: set[str] = set()
    if ctx.fields:
        rest, found = _strip_fields(rest, ctx.fields)
        notes.extend(found)
    if rest[:1] in "混拼" and (mixed := _MIXED_LABEL.match(rest)) is not None:
        notes.append(mixed.group(1))  # `混装：蛋黄3 鲜肉3`: a mixed bag, then what is in it
        rest = rest[mixed.end() :].lstrip()
    if "加购" in rest or "加購" in rest:
        rest = _ADD_ON_LABEL.sub(" ", rest).strip()  # `加购：鸡蛋1盒`: a label, then the goods
    items: list[Item] = []
    verb = _ORDER_VERB.match(rest) if rest[:1] in _VERB_STARTS else None
    if verb:  # `要2斤苹果`, `改：苹果4斤`: the goods follow
        if verb.group("edit"):
            notes.append(verb.group("edit"))
        rest = rest[verb.end() :].lstrip()
    if ("要" in rest or "来" in rest) and _VERB_INSIDE.search(rest):
        rest = _VERB_INSIDE.sub("", rest)  # `苹果 要2斤`: the goods, then how much is wanted
    if _may_hold_order_id(rest) and ORDER_ID.search(rest):
        for oid in ORDER_ID.finditer(rest):  # `超市995095，加超市995103`: ids, never quantities
            items.append(Item(oid.group(0), Decimal(1), None, False))
        rest = ORDER_ID.sub(" ", rest)
        rest = re.sub(r"(?:^|(?<=[\s，,、+]))加(?=[\s，,、+]|$)", " ", rest).strip(" ，,、+")
    if NOTE_HINT.search(rest):
        rest = _take_notes(rest, notes)
    rest = _drop_note_words(rest, ctx, notes)
    if ctx.codes and "和" in rest:
        rest = _CODE_AND.sub("+", rest)  # `2和4`: box 2 and box 4
    if ctx.codes:
        words = [p for w in rest.split() for p in _after_brackets(w)]
        rest = " ".join(_menu_number_notes(words, ctx, notes))
    if ctx.letters and _LETTER_RUN.search(rest):
        rest = _LETTER_RUN.sub(lambda m: " ".join(_LETTER_COUNT.findall(m.group(0))), rest)
    pluses = _PLUS_ONLY.fullmatch(rest) if rest[:1] in "+＋" else None
    if pluses:  # `+1+1`: one and one more
        total = sum((Decimal(n) for n in re.findall(r"\d+", rest)), Decimal(0))
        items.append(Item(None, total, None, True))
        return _items_read(notes, items, flags)
    each = _EACH.match(rest) if "各" in rest else None
    if each and not _UP_TO_LAST_COUNT.match(each["goods"]):  # else other goods come first
        n = to_number(each["num"]) or Decimal(1)
        items.append(Item(each["goods"].strip(), n * _kinds(each["goods"]), each["unit"], True))
        return _items_read(notes, items, flags)
    if "天" in rest or "每" in rest:
        often = _HOW_OFTEN.search(rest)
        if often and often.start() > 0:  # `250ml 每天2瓶`: the size, how often, how many
            notes.append(often.group(1))
            rest = f"{rest[: often.start()]} {rest[often.end() :]}".strip()
    if "各" in rest:
        rest = _each_inside(rest, items)
    for part in _split_top(rest, ctx):
        for seg in _split_words(part, ctx):
            pieces = [p for b in _after_brackets(seg) for p in _glued_goods(b)]
            if len(pieces) > 1:
                flags.add(FLAG_GLUED)
            for piece in pieces:
                negative = is_negative(piece) if "-" in piece else None
                if negative is not None:
                    items.append(Item(negative[0] or None, negative[1], None, True))
                    continue
                piece = piece.rstrip("。！!") or piece  # `青香蕉3斤。`: the sentence ends
                if piece[:1] in _COUNT_STARTS and _THRESHOLD.match(piece):
                    notes.append(piece)  # `十人以上可送`: a condition, not a count ordered
                    continue
                served = _SERVED_GLUED.search(piece, 2) if piece[-1:] in "冰温糖" else None
                if served and not any(ch.isdigit() for ch in piece[served.start() :]):
                    # `杨枝甘露去冰三分糖`: the cup, then its ice and sugar (`8热` keeps its heat)
                    notes.append(served.group(0))
                    piece = piece[: served.start()]
                when = _EVERY_DAY.match(piece) if piece[:1] in "每天工" else None
                if when and has_quantity(piece[when.end() :]):
                    notes.append(when.group(0))  # `每天包子2个`: how often, then the goods
                    piece = piece[when.end() :]
                verb = _ORDER_VERB.match(piece) if piece[:1] in _VERB_STARTS else None
                if verb and not verb.group("edit"):
                    piece = piece[verb.end() :].lstrip() or piece  # `和jay拼，我要两个`
                edit = _EDIT_INSIDE.match(piece) if "改" in piece or "换成" in piece else None
                if edit:  # `可乐改成2箱`: the goods, changed to a new count
                    flags.add(FLAG_CHANGE)
                    piece = f"{edit['goods']}{edit['count']}"
                remark = (
                    _REMARK_TAIL.match(piece)
                    if len(piece) > 4 and _REMARK_HINT.search(piece)
                    else None
                )
                if remark:  # `米酒1斤浅尝一下`: the goods, then a word about them
                    notes.append(remark["tail"])
                    piece = remark["goods"]
                item, item_flags = _qualified_after(piece, ctx) or read_item(piece, ctx)
                if item.text == "各":
                    flags.add(FLAG_LEFTOVER)  # `小番茄 红和黄 各一斤`: each of which goods?
                if _PLACE_MARK in item_flags:
                    notes.append(piece)
                    item_flags = item_flags - {_PLACE_MARK}
                items.append(item)
                flags |= item_flags
    return _items_read(notes, items, flags)


_CLAUSE = re.compile(r"[，,。！!？?；;]")
_DOTTED_NUMBER = re.compile(r"\D[·・•]\d{1,4}$")
# How an order is picked up or paid, written before the name (`自提 张三 苹果2斤`).
_PICKUP_FIRST = frozenset(
    ["自提", "自取", "配送", "送货", "送上门", "快递", "到店", "已付", "已转"]
)
_ROOM = re.compile(r"\d{3,4}")
_BUILDING_END = re.compile(r"(?:栋|幢|号楼|座|单元|#)$")
_ADDRESS_PLUS = re.compile(r"^(?P<name>.+?)(?P<qty>[+＋]\d{1,3})$")
_SHORT_HAN = re.compile(r"[\u4e00-\u9fff]{1,3}")
# A count glued after a name with a sign: `小王+1`, `王姐×2`; an x after a Latin letter is the
# name's own (`Max2`).
_NAME_TIMES = re.compile(
    r"^(?P<name>.*?[^\s\d+＋×xX*＊])\s*(?P<qty>(?:[+＋×*＊]|(?<![A-Za-z])[xX])\s*\d{1,3})$"
)
_CODE_AND = re.compile(r"(?<=\d)\s*和\s*(?=\d)")
# `a1b1` under a lettered menu: one of A and one of B.
_LETTER_RUN = re.compile(r"(?<![A-Za-z])(?:[A-Za-z]\d{1,2}){2,}(?![A-Za-z\d])")
_LETTER_COUNT = re.compile(r"[A-Za-z]\d{1,2}")
_PLUS_ONLY = re.compile(r"(?:[+＋]\s*\d{1,2}\s*){2,}")
# `三鲜 x 2`: a times sign standing alone joins the goods and the count around it.
_TIMES_WORDS = frozenset({"x", "X", "×", "*", "＊", "乘"})
_SIZE_WORDS = frozenset("寸码")
# A size worn (`L`, `XXL`, `藏蓝2XL`, `L码`), perhaps its colour first, then how many: the item.
WORN_SIZE = r"(?:[2-5]?X{1,3}L|X{0,2}S|M|L)码?"  # `L`, `XXL`, `2XL`, `L码`
CLOTHES_SIZE = re.compile(
    rf"(?P<item>[\u4e00-\u9fff]{{0,4}}\s?{WORN_SIZE})"
    rf"(?:\s*[xX×*]\s*(?P<n>\d{{1,3}})|\s*(?P<n2>{NUM})\s*(?P<unit>{UNIT_ALT}))?"
)
_COLOUR = re.compile(r"[\u4e00-\u9fff]{1,3}色")
_SIZE_ENDS = frozenset("SMLXL码0123456789件套条个一两二三")
# `[1]x2`, `[4]巧克力味`: a box of a menu numbered in square brackets, with its count or flavour.
_BRACKET_CODE = re.compile(r"\[\d{1,2}\](?:[^\[\]]*)")
_PACK_SIZE = re.compile(rf"\d+(?:\.\d+)?\s*(?:{UNIT_ALT})装")  # the size a product is sold in
_SIZE_ORDERED = re.compile(rf"(?P<size>{_PACK_SIZE.pattern})\s*[xX×*]?\s*(?P<n>\d{{1,3}})?")
_TIMES_TAILS = tuple(f" {sign}" for sign in _TIMES_WORDS)
# `2A`: a count before a menu letter.
_COUNT_LETTER = re.compile(r"(?P<n>\d{1,2})\s*(?P<code>[A-Za-z])")
_VERB_INSIDE = re.compile(
    r"(?:(?<=\s)我?|(?<=[\u4e00-\u9fff])[也还])(?:要|来)(?=\d|[一两二三四五六七八九十半])"
)  # `苹果 要2斤`, `柔顺剂也要1瓶`: the goods, then how much is wanted
# `要2斤苹果`, `改：苹果4斤`: a verb before the goods; an edit is kept as a note.
_ORDER_VERB = re.compile(
    r"^(?:我?(?:想要|要|订|预订|预定|购买|买|来)(?=\s*[\d一两二三四五六七八九十半])"
    r"|再(?:要|来)(?=(?:[一两二三四五六七八九十\d]+[个件份盒袋杯瓶斤])?[\u4e00-\u9fffA-Za-z])"
    r"|再加(?=[\u4e00-\u9fff])(?![一两二三四五六七八九十半]\s*[个份斤盒箱袋瓶杯包只]|[份个])"
    r"|(?P<edit>改成|改为|修改为?|更改为?|改(?=\s*[:：\d一两二三四五六七八九十半]))\s*[:：]?)"
)
_VERB_STARTS = frozenset("我想要订预购买来改修更再")
_SERVED_GLUED = re.compile(
    r"(?:(?:少少|少|去|多|正常|加)冰|常温|(?:少|半|无|全|微|[一二三四五六七八九十]分)糖)+$"
)
_EDIT_INSIDE = re.compile(
    r"(?P<goods>[\u4e00-\u9fffA-Za-z]{1,10}?)\s*(?:改成|改为|换成)\s*"
    r"(?P<count>(?:\d|[一两二三四五六七八九十半]).*)"
)
_MIXED_LABEL = re.compile(r"(混装|混合装|拼装)\s*[:：]?\s*(?=\S)")
_ADD_ON_LABEL = re.compile(r"(?:只要)?加[购購]\s*[:：]?")
_EVERY_DAY = re.compile(r"每天|每日|天天|工作日")
_HOW_OFTEN = re.compile(r"\s(每天|每日|天天|隔天|每周)(?=\s*(?:\d|[一两二三四五六七八九十]))")


def _items_read(
    notes: list[str], items: list[Item], flags: set[str]
) -> tuple[tuple[str, ...], tuple[Item, ...], frozenset[str], tuple[ParsedItem, ...]]:
    """read_items' answer as read_entry keeps it: no empty notes, quantities checked."""
    if _out_of_range(items):
        flags.add(FLAG_QTY_OUT_OF_RANGE)
    parsed = tuple([ParsedItem(it.text, it.qty, it.unit) for it in items])
    return tuple([n for n in notes if n]), tuple(items), frozenset(flags), parsed


def _may_hold_order_id(text: str) -> bool:
    """ORDER_ID needs one of these words: most entries have none, and spare it the search."""
    return "超市" in text or "订单" in text or "单号" in text or "编号" in text


def _drop_note_words(rest: str, ctx: Context, notes: list[str]) -> str:
    """Payment, pickup and place words between the goods are notes (`H区`, `现金`, `Uni取`)."""
    parts = _WORD_SPLIT.split(rest)
    if "(" in rest or "（" in rest:  # keep a bracket's words, separators and all, in one part
        merged: list[str] = []
        for part in parts:
            if merged and merged[-1].count("(") + merged[-1].count("（") > merged[-1].count(
                ")"
            ) + merged[-1].count("）"):
                merged[-1] += part
            else:
                merged.append(part)
        parts = merged
    out: list[str] = []
    for k, part in enumerate(parts):
        if k % 2 == 0 and part and is_note_token(part) and not _code_like(part, ctx):
            lead = _LEADING_PORTION.match(part)
            if lead and lead.end() < len(part):  # `一份清炒莲藕换凉拌豆皮`: one portion, a note
                out.append(f" {lead.group(0)} ")
                part = part[lead.end() :]
            notes.append(part)
            out.append(" ")
        else:
            out.append(part)
    return " ".join("".join(out).split()).strip(" ，,;；")


def _take_notes(rest: str, notes: list[str]) -> str:
    """Customisations and pickup words (`不要米饭`, `秋葵换成芋头丝`, `明天下午来拿`) up to the
    next separator are notes; the goods around them stay (`不要米饭，沙拉`)."""
    out: list[str] = []
    pos = 0
    while (m := NOTE_START.search(rest, pos)) is not None:
        end = NOTE_END.search(rest, m.end())
        stop = end.start() if end else len(rest)
        before = rest[pos : m.start()]
        sub = _SUB_COUNT.search(before) if m.group(0) not in _SAID_OF_ORDER else None
        if sub and _HAS_COUNT.search(rest[: pos + sub.start()]):
            # `2份 1份不要辣`, `11份 2少饭`: after the order's count, a count inside a
            # customisation is part of it, not the order
            before, start = before[: sub.start()], sub.start() + pos
        else:
            start = m.start()
        out.append(before)
        span = rest[start:stop]
        qty = _TRAILING_PORTION.search(span, 1)
        if qty:  # `少饭1份`: the portions stay with the goods
            out.append(f" {qty.group(0)} ")
            span = span[: qty.start()]
        notes.append(span.strip())
        pos = stop
    out.append(rest[pos:])
    return " ".join("".join(out).split())


def _menu_number_notes(words: list[str], ctx: Context, notes: list[str]) -> list[str]:
    """With a numbered menu, goods are numbers: a street or a pickup spot written after them
    (`aven`, `825 South Hill St`, a door number `888`) is a note."""
    for k, w in enumerate(words):
        if k == 0:
            continue
        latin = _LATIN_RUN.fullmatch(w) is not None and w.casefold() not in _LATIN_UNITS
        door = w.isdigit() and len(w) >= 3 and w not in ctx.codes
        if latin or door:
            notes.append(" ".join(words[k:]))
            return words[:k]
    return words


def _strip_fields(rest: str, fields: frozenset[str]) -> tuple[str, list[str]]:
    """Words the chain's entries repeat as a note (`uni`, `现金`), also glued (`Uni取`)."""
    pattern = _fields_pattern(fields)
    found = [m.group(0) for m in pattern.finditer(rest)]
    if not found:
        return rest, []
    return " ".join(pattern.sub(" ", rest).split()), found


@lru_cache(maxsize=256)
def _fields_pattern(fields: frozenset[str]) -> re.Pattern[str]:
    words = sorted(fields, key=len, reverse=True)
    alt = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?i)(?<![A-Za-z])(?:{alt})(?![A-Za-z])取?")


def _code_like(word: str, ctx: Context) -> bool:
    """`B2` with letter codes on the menu, `3-7` with menu numbers: goods, not a place."""
    if ctx.letters and word[:1].upper() in ctx.letters and len(word) <= 3:
        return True
    coded = _LETTER_NUMBER.search(word) if ctx.letter_numbers else None
    if coded and coded.group(0).upper() in ctx.letter_numbers:
        return True  # `A1`, `b2`, `A2×2`, `2x B1` under a menu coded A1, B2
    rng = _RANGE.match(word)
    return bool(ctx.codes and rng and rng.group(1) in ctx.codes and rng.group(2) in ctx.codes)


_LETTER_NUMBER = re.compile(r"(?<![A-Za-z])[A-Za-z]\d{1,2}(?!\d)")


def clear_caches() -> None:
    for cached in (
        read_entry,
        _after_name,
        _only_notes,
        read_item,
        read_items,
        _glued_goods,
        _is_goods,
        is_note_token,
    ):
        cached.cache_clear()
    _fields_pattern.cache_clear()
