"""A 接龙 message → header, menu and entries (the `groupbuy parse` contract).

Where the entries are: the trailing run of numbered lines (`1.` `1、` `1)` `①` `１．`), with
unnumbered order lines among or after them. Numbered lists earlier in a message (a leader's
instructions, a numbered menu with prices) are header. An empty or template first slot
(`1.`, `1. 姓名/项目简介/Issue#`) is a placeholder, like WeChat's `例` line, not an entry.

How a line splits: the first word is the name (with an emoji-only word after it, or the word
after a building/room number); the rest is items, separated by `+ ➕ ， 、 ；` or by spaces
between complete items; quantities come off each item (quantities.py); customisations and
pickup notes (`不要酱…`, `（放门口）`) go to `note`. A line that yields nothing is kept raw and
flagged, never dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from handlers.parsing import quantities
from handlers.parsing.quantities import (
    MENU_NUMBER,
    UNITS,
    has_quantity,
    is_negative,
    pure_quantity,
    split_quantity,
)
from handlers.parsing.types import (
    FLAG_CANCEL,
    FLAG_CONTROL_CHARS,
    FLAG_NO_NAME,
    FLAG_QTY_OUT_OF_RANGE,
    FLAG_SAME_AS_ABOVE,
    FLAG_UNREADABLE,
    FLAG_UNSPLIT,
    MAX_QTY,
    MenuLine,
    ParsedChain,
    ParsedEntry,
    ParsedItem,
)

MAX_LINE = 2000  # characters of one line read for meaning; the raw line is kept whole

_MARKER = re.compile(r"[#＃]\s*接龙")
_EXAMPLE = re.compile(r"^\s*例\s*[:：]?")
# Sequence marks after NFKC (full-width folded): 1. 1、 1) (1) 1： and circled ①-⑳.
_SEQ = re.compile(
    r"^\s*(?:[\(（]\s*(\d{1,4})\s*[\)）]|(\d{1,4})\s*[\.、\)）:：,，](?!\d)|([\u2460-\u2473]))\s*"
)
_CIRCLED_SEQ = re.compile(r"^\s*([\u2460-\u2473])\s*")
_INVISIBLE = re.compile(
    r"[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
)
_PRICE = re.compile(
    r"(?:[¥￥]\s*\d+(?:\.\d+)?|\d+(?:\.\d+)?\s*(?:元|块钱?|rmb|RMB)|单价\s*\d|\d+(?:\.\d+)?\s*/\s*\S)"
)
# Every _PRICE alternative needs one of these characters: a cheap scan rules most lines out
# before the costly one (each _PRICE alternative may start at any digit).
_PRICE_HINT = re.compile(r"[¥￥元块rR单/]")
_CODE_COLON = re.compile(r"^\s*([A-Za-z])\s*[:：]\s*(\S.*)$")
_MENU_CODE = re.compile(
    r"^\s*(?:(\d{1,3})\s*号|(\d{1,3})\s*[\.、\)）:：]|([A-Za-z])\s*[:：.、]|([\u2460-\u2473]))\s*"
)
_PRICE_UNIT = re.compile(
    r"(?:[¥￥]\s*(?P<p1>\d+(?:\.\d+)?)|(?P<p2>\d+(?:\.\d+)?)\s*(?:元|块钱?|rmb|RMB)?)"
    r"\s*(?:/|每|一)\s*(?P<unit>\d*(?:\.\d+)?\s*[^\s/，,、。;；()（）\d]{1,3})"
    r"|单价\s*(?P<p3>\d+(?:\.\d+)?)|(?P<p4>\d+(?:\.\d+)?)\s*(?:元|块钱?)"
    r"|[¥￥]\s*(?P<p5>\d+(?:\.\d+)?)"
)
_HEADER_WORDS = re.compile(r"截单|截止|自提|提货|取货|配送|时间|地址|团购|接龙|请大家|付款|群")
_SAME_AS_ABOVE = re.compile(r"^(?:同上|同楼上|同前|同\s*上)$")
_PLUS_ONE = re.compile(r"^(?:[+＋]\s*1|加\s*1|加一|\+一)$")
_CANCEL = re.compile(r"取消")
_ADDRESS = re.compile(
    r"^(?:\d+\s*(?:栋|幢|号楼|座|单元|期|区|楼)\s*\d*\s*(?:单元)?\s*\d*\s*(?:室|号)?|"
    r"\d+(?:-\d+){1,3}|[A-Za-z]\s*座?\s*\d{2,5}|\d{3,4}\s*室)$"
)
_NOTE_START = re.compile(
    r"(?:^|(?<=\s))(?:不要|不加|少|多放|多加|免|去冰|少冰|微辣|备注|自取|自提|送到|送货|放门口|放在|明天|周[一二三四五六日天])"
)
# Characters the patterns above and below must see, for cheap scans that rule most text out.
_NOTE_HINT = re.compile(r"[不少多免去微备自送放明周]")
_SEP_HINT = re.compile(r"[➕，,、；;+]")
_CLOSERS = ("）", ")", "】", "]")
_BRACKET_NOTE = re.compile(r"\s*[（(【\[]([^（）()【】\[\]]*)[）)】\]]\s*$")
_EXPLICIT_SEP = re.compile(r"\s*(?:[➕，,、；;]|\+(?!\s*[\d一二两三四五六七八九十]))\s*")
_RANGE = re.compile(r"^(\d{1,3})\s*-\s*(\d{1,3})$")
_LATIN_TAIL = re.compile(r"^[\s\-_–—·.]*[A-Za-z][A-Za-z'’.]+(?:[\s\-_]+[A-Za-z][A-Za-z'’.]+)*$")
_CODE_TOKEN = re.compile(r"^[A-Za-z]$")
_CODE_GLUED = re.compile(r"^[A-Za-z](?=[^A-Za-z0-9\s])")
_TEMPLATE_WORDS = frozenset(
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
    ]
)
_TEMPLATE_SPLIT = re.compile(r"[\s/+、\-|｜,，]+")


class _Line(NamedTuple):  # a tuple: built for every line, cheaper than a frozen dataclass
    raw: str
    norm: str  # NFKC, invisible characters removed, for recognition only
    seq: int | None
    body: str  # norm without its sequence mark
    invisible: bool
    blank: bool  # nothing but whitespace
    menu: bool  # the body carries a price: a menu line, not an order

    @classmethod
    def of(cls, raw: str, norm: str, seq: int | None, body: str, invisible: bool) -> _Line:
        return cls(raw, norm, seq, body, invisible, not norm.strip(), _has_price(body))


@lru_cache(maxsize=65536)
def _prepare(raw: str) -> _Line:
    """One line read for recognition; memoised, since every copy of a chain repeats its lines."""
    head = raw[:MAX_LINE]
    cleaned = _INVISIBLE.sub("", head)
    circled = _CIRCLED_SEQ.match(cleaned)  # NFKC would fold ⑨ into a bare 9: look first
    if circled:
        norm = unicodedata.normalize("NFKC", cleaned[circled.end() :])
        circled_seq = ord(circled.group(1)) - 0x2460 + 1
        return _Line.of(raw, norm, circled_seq, norm.strip(), cleaned != head)
    norm = unicodedata.normalize("NFKC", cleaned)
    m = _SEQ.match(norm)
    seq: int | None = None
    body = norm.strip()
    if m:
        digits = m.group(1) or m.group(2)
        seq = int(digits) if digits else ord(m.group(3)) - 0x2460 + 1
        body = norm[m.end() :].strip()
    return _Line.of(raw, norm, seq, body, cleaned != head)


_EMOJI_CATEGORIES = frozenset({"So", "Sk", "Mn", "Cf"})


def _is_emoji_token(tok: str) -> bool:
    """A word made only of emoji and their joiners (`🫧`, `🌸`): part of a nickname."""
    # Most words start with a letter or ideograph: answer those without the per-character loop.
    if not tok or tok[0].isalnum():
        return False
    return all(unicodedata.category(ch) in _EMOJI_CATEGORIES for ch in tok)


def is_menu_line(line: str) -> bool:
    """A product offered in a chain head: a price, or a letter code with a colon."""
    text = unicodedata.normalize("NFKC", line)
    return bool(_has_price(text) or _CODE_COLON.match(text))


def _has_price(text: str) -> bool:
    return _PRICE_HINT.search(text) is not None and _PRICE.search(text) is not None


def _order_like(body: str) -> bool:
    """An unnumbered line that reads as an order: `张三 苹果2斤`, `李四 +1`."""
    if (
        not body
        or len(body) > 60
        or _EXAMPLE.match(body)
        or _HEADER_WORDS.search(body)
        or is_menu_line(body)
    ):
        return False
    tokens = body.split()
    return len(tokens) >= 2 and any(has_quantity(t) or _PLUS_ONE.match(t) for t in tokens[1:])


def _is_placeholder(body: str) -> bool:
    if not body:
        return True
    parts = [p.strip("#").casefold() for p in _TEMPLATE_SPLIT.split(body) if p.strip("#")]
    return bool(parts) and all(p in _TEMPLATE_WORDS for p in parts)


def _entry_block(lines: list[_Line]) -> tuple[int, int] | None:
    """[start, end) of the entry lines, or None when the message has no numbered entries."""
    last = next(
        (
            i
            for i in range(len(lines) - 1, -1, -1)
            if lines[i].seq is not None and not _menu(lines[i])
        ),
        None,
    )
    if last is None:
        return None
    start = last
    next_seq = lines[last].seq
    i = last - 1
    while i >= 0:
        ln = lines[i]
        if ln.blank:
            i -= 1
            continue
        if ln.seq is not None:
            if _menu(ln) and next_seq is not None and ln.seq >= next_seq:
                break  # a numbered menu above the entries: numbering restarts there
            start, next_seq = i, ln.seq
        elif _order_like(ln.body):
            start = i
        else:
            break
        i -= 1
    end = last + 1
    while end < len(lines) and (lines[end].blank or _order_like(lines[end].body)):
        end += 1
    return start, end


def _menu(ln: _Line) -> bool:
    return ln.menu  # worked out once per distinct line, in _prepare


def parse_chain(text: str, *, known_products: Sequence[str] = ()) -> ParsedChain:
    """Read one message. `known_products` (names from the round's menu) help split glued lines."""
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = [_prepare(r) for r in raw_lines]
    has_marker = any(_MARKER.search(ln.norm) for ln in lines)
    block = _entry_block(lines)
    entry_idx: list[int] = []
    if block is not None:
        start, end = block
        entry_idx = [i for i in range(start, end) if not lines[i].blank]
        first = entry_idx[0] if entry_idx else None
        if (
            first is not None
            and lines[first].seq is not None
            and _is_placeholder(lines[first].body)
        ):
            entry_idx = entry_idx[1:]
    elif has_marker:
        # An unnumbered chain: order-looking lines after the first line are entries.
        entry_idx = [
            i
            for i, ln in enumerate(lines)
            if i > 0 and not _MARKER.search(ln.norm) and _order_like(ln.body)
        ]
    chosen = set(entry_idx)
    header = "\n".join(raw_lines[i] for i in range(len(lines)) if i not in chosen).strip("\n")
    menu = parse_menu(header)
    names = [*known_products, *(m.name for m in menu)]
    known_key = tuple(names)
    entries = _settle_roster([_parse_entry_cached(lines[i], known_key) for i in entry_idx])
    return ParsedChain(header=header, entries=entries, menu=menu, has_marker=has_marker)


def clear_caches() -> None:
    """Forget every memoised line, item and quantity: the next parse is cold (the bench)."""
    for cached in (_prepare, _parse_entry_cached, _read_items, _item, _parse_menu_cached):
        cached.cache_clear()
    quantities.clear_caches()


def parse_entry_line(line: str, known_products: Sequence[str] = ()) -> ParsedEntry:
    """One chain line on its own (the engine's single-line path and the tests)."""
    return _settle_roster([_parse_entry(_prepare(line), list(known_products))])[0]


def _settle_roster(entries: list[ParsedEntry]) -> list[ParsedEntry]:
    """A bare name is one place in a roster chain, and nothing ordered in an order chain.

    Returns new objects where it changes one: parsed entries are shared by the line cache.
    """
    roster = not any(it.item is not None for e in entries for it in e.items) and not any(
        FLAG_SAME_AS_ABOVE in e.flags for e in entries
    )
    if not roster:
        return entries
    return [
        replace(e, items=[ParsedItem(None)])
        if not e.items and not e.flags and e.name is not None
        else e
        for e in entries
    ]


@lru_cache(maxsize=65536)
def _parse_entry_cached(line: _Line, known: tuple[str, ...]) -> ParsedEntry:
    """Each copy of a chain repeats every earlier line: read each distinct line once.

    Callers must not mutate the result (the engine only reads parsed entries).
    """
    return _parse_entry(line, known)


def _split_name(body: str, known: Sequence[str]) -> tuple[str | None, str, bool]:
    """(name as written, the rest, unsplit?) from a line body."""
    tokens = body.split()
    if not tokens:
        return None, "", False
    if len(tokens) == 1:
        tok = tokens[0]
        if _PLUS_ONE.match(tok) or _SAME_AS_ABOVE.match(tok):
            return None, tok, False
        for name in sorted(known, key=len, reverse=True):
            short = name[-2:] if len(name) > 2 else name
            for probe in (name, short):
                at = tok.find(probe)
                if at > 0:
                    return tok[:at], tok[at:], False
                if at == 0 and has_quantity(tok):
                    return None, tok, False  # `苹果2份` alone: the poster orders for themself
        if has_quantity(tok) and not MENU_NUMBER.match(tok):
            return tok, "", True
        return tok, "", False
    n = 1
    if _ADDRESS.match(tokens[0]) and len(tokens) >= 2:
        n = 2
    while n < len(tokens) and _is_emoji_token(tokens[n]):
        n += 1
    rest_tokens = tokens[n:]
    rest = " ".join(rest_tokens)
    if rest and _LATIN_TAIL.match(rest) and not any(_CODE_TOKEN.match(t) for t in rest_tokens):
        return body, "", False  # `曾昊 Anson`, `林俊杰 - Jackie`: an English name, not an item
    # The name as written: the original text up to the end of its last token.
    end = 0
    for tok in tokens[:n]:
        end = body.index(tok, end) + len(tok)
    return body[:end], rest, False


def _split_items(rest: str) -> list[str]:
    """Item segments: explicit separators always split; spaces split between complete items."""
    segments: list[str] = []
    for part in _EXPLICIT_SEP.split(rest) if _SEP_HINT.search(rest) else [rest]:
        part = part.strip()
        if not part:
            continue
        rng = _RANGE.match(part)
        if rng:
            segments.extend([rng.group(1), rng.group(2)])
            continue
        words = part.split()
        current = ""
        for w in words:
            if not current:
                current = w
            elif (
                _CODE_TOKEN.match(current)
                or _is_emoji_token(w)
                or pure_quantity(w) is not None
                or w in UNITS
                or (
                    not (has_quantity(current) or MENU_NUMBER.fullmatch(current))
                    and not _CODE_TOKEN.match(w)
                )
            ):
                current = f"{current} {w}"
            else:
                segments.append(current)
                current = w
        if current:
            segments.append(current)
    return segments


@lru_cache(maxsize=65536)
def _item(segment: str) -> ParsedItem:
    """One item segment read; memoised (the result is frozen): `苹果2份` recurs in a chain."""
    words = segment.split()
    if len(words) > 1 and (pq := pure_quantity(words[-1])) is not None:
        # `上海盐汽水600ml*24瓶 4箱`: the last word is the quantity, the rest stays as written.
        return ParsedItem(" ".join(words[:-1]), pq[0], pq[1])
    item, qty, unit = split_quantity(segment)
    text = item.strip(" -–—:：,，.。") or None
    return ParsedItem(text, qty if qty is not None else Decimal(1), unit)


def _parse_entry(line: _Line, known: Sequence[str]) -> ParsedEntry:
    flags: list[str] = []
    if line.invisible:
        flags.append(FLAG_CONTROL_CHARS)
    body = line.body
    note: str | None = None
    if _CANCEL.search(body):
        flags.append(FLAG_CANCEL)
        body = _CANCEL.sub(" ", body).strip()
    m = _BRACKET_NOTE.search(body) if body.rstrip().endswith(_CLOSERS) else None
    if m and not MENU_NUMBER.fullmatch(
        body[: m.start()].split()[-1] if body[: m.start()].split() else ""
    ):
        note = m.group(1).strip() or None
        body = body[: m.start()].rstrip()

    name, rest, unsplit = _split_name(body, known)
    if unsplit:
        flags.append(FLAG_UNSPLIT)
    items: list[ParsedItem] = []
    if _SAME_AS_ABOVE.match(rest.replace(" ", "")):
        flags.append(FLAG_SAME_AS_ABOVE)
        items = [ParsedItem(None)]
    elif rest:
        extra, read, out_of_range = _read_items(rest)
        if extra is not None:
            note = f"{extra}；{note}" if note else extra
        items = list(read)
        if out_of_range:
            flags.append(FLAG_QTY_OUT_OF_RANGE)
    elif unsplit and name:
        _, qty, unit = split_quantity(name)
        items = [ParsedItem(None, qty or Decimal(1), unit)]
        if _out_of_range(items):
            flags.append(FLAG_QTY_OUT_OF_RANGE)

    if name is None and items and FLAG_SAME_AS_ABOVE not in flags:
        flags.append(FLAG_NO_NAME)
    if name is None and not items and FLAG_CANCEL not in flags:
        flags.append(FLAG_UNREADABLE)
    return ParsedEntry(
        seq=line.seq,
        name=name,
        items=items,
        note=note,
        raw=line.raw.strip(),
        flags=sorted(set(flags)),
    )


@lru_cache(maxsize=65536)
def _read_items(rest: str) -> tuple[str | None, tuple[ParsedItem, ...], bool]:
    """What follows the name: (a trailing note, the items, any quantity out of range).

    Memoised on the text: many lines order the same thing (`苹果2份`, `+1`) under different
    names, and the answer is immutable."""
    note: str | None = None
    nm = _NOTE_START.search(rest) if _NOTE_HINT.search(rest) else None
    if nm:
        note = rest[nm.start() :].strip()
        rest = rest[: nm.start()].strip()
    items: list[ParsedItem] = []
    for seg in _split_items(rest):
        negative = is_negative(seg)
        if negative is not None:
            items.append(ParsedItem(negative[0] or None, negative[1], None))
        else:
            items.append(_item(seg))
    return note, tuple(items), _out_of_range(items)


def _out_of_range(items: Sequence[ParsedItem]) -> bool:
    return any(it.qty > MAX_QTY or it.qty <= 0 for it in items)


def parse_menu(header: str) -> list[MenuLine]:
    """Products offered in a chain head, with code, price and unit of sale when written."""
    return list(_parse_menu_cached(header))


@lru_cache(maxsize=1024)
def _parse_menu_cached(header: str) -> tuple[MenuLine, ...]:
    """Every copy of a chain repeats its head: read each distinct head once (frozen lines)."""
    menu: list[MenuLine] = []
    for raw in header.split("\n"):
        text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", raw)).strip()
        if not text or _MARKER.search(text) or _EXAMPLE.match(text):
            continue
        cm = _CODE_COLON.match(text)
        price_m = _PRICE_UNIT.search(text)
        if cm is None and price_m is None:
            continue
        if price_m is None and cm is not None:
            menu.append(MenuLine(cm.group(1).upper(), cm.group(2).strip(), None, None, raw.strip()))
            continue
        assert price_m is not None
        if _HEADER_WORDS.search(text[: price_m.start()]) and not _MENU_CODE.match(text):
            continue  # `运费5元` or `截单时间…` lines are not products
        code_m = _MENU_CODE.match(text)
        code = None
        name_start = 0
        if code_m:
            g = code_m.group(1) or code_m.group(2) or code_m.group(3)
            code = g.upper() if g else str(ord(code_m.group(4)) - 0x2460 + 1)
            name_start = code_m.end()
        price_txt = next(
            price_m.group(k) for k in ("p1", "p2", "p3", "p4", "p5") if price_m.group(k)
        )
        unit = price_m.group("unit")
        name = text[name_start : price_m.start()].strip(" :：-—,，")
        if not name:
            name = text[price_m.end() :].strip(" :：-—,，") or text
        menu.append(
            MenuLine(
                code=code,
                name=name,
                price=Decimal(price_txt),
                sale_unit=unit.strip() if unit else None,
                raw=raw.strip(),
            )
        )
    return tuple(menu)
