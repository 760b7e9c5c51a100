"""A 接龙 message read as a whole, the way the leader reads it (the `groupbuy parse` contract).

1. Cut it into head, entries and footer (segment.py).
2. Read the head: its menu (codes, prices, units of sale) and menu numbers (menu.py).
3. Read every entry as if the chain sold several goods (entry.py), memoised per line.
4. Decide, from the head and the entries as a population, what kind of chain this is (kinds.py)
   and what its entries mean: in a one-product chain every entry is a portion and its other
   words are notes; in a sign-up an entry is a person or a head count; a check-in orders
   nothing.
5. Say how sure each entry is: what had to be guessed is flagged (types.FLAG_WEIGHT) and, below
   types.REVIEW_BELOW, kept for the leader's review instead of counted.

Nothing is dropped: every non-blank line is in the head, an entry's raw, the footer or
`skipped` (empty slots and format lines).

A repost (the previous copy's lines, then new ones) is read on from what was kept of that copy
(repost.py): from its last entry on, with the counts behind steps 4 and 5 carried over, and
read whole where the new lines change a decision. Either way the result is the same.
"""

from __future__ import annotations

import gc
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from itertools import chain, repeat
from operator import attrgetter
from typing import Protocol, Self, TypeVar

from handlers.parsing import entry as entry_reader
from handlers.parsing import quantities, repost, vocab
from handlers.parsing.entry import Context, Item, Reading, read_entry
from handlers.parsing.kinds import HAN_NAME, detect_kind
from handlers.parsing.matching import Product, ProductMatcher
from handlers.parsing.menu import (
    _parse_menu_cached,
    asks_what_each_brings,
    example_layout,
    header_addons,
    menu_numbers,
    parse_menu,
)
from handlers.parsing.quantities import has_quantity, pure_quantity, split_quantity
from handlers.parsing.repost import Above, ChainState, Decisions, Head, Settled
from handlers.parsing.roster import (
    PICK,
    chinese_name_after,
    count_in_sentence,
    is_notice,
    rest_of_initials,
    roster_answer,
    talks_to_group,
    who_signs_up,
    withdraws,
)
from handlers.parsing.segment import (
    MARKER,
    MAX_LINE,
    Line,
    Segments,
    is_menu_line,
    prepare,
    segment,
    segment_tail,
    split_one_line,
    unnumbered,
)
from handlers.parsing.types import (
    FLAG_AMBIGUOUS_NAME,
    FLAG_ARRANGING,
    FLAG_BARE_NUMBER,
    FLAG_BIG_NUMBER,
    FLAG_CANCEL,
    FLAG_CHANGE,
    FLAG_CLOSING,
    FLAG_CONTINUED,
    FLAG_CONTROL_CHARS,
    FLAG_GLUED,
    FLAG_LEFTOVER,
    FLAG_MANY_COUNTS,
    FLAG_NO_NAME,
    FLAG_NOT_ON_MENU,
    FLAG_NOTICE,
    FLAG_QTY_OUT_OF_RANGE,
    FLAG_SAME_AS_ABOVE,
    FLAG_UNKNOWN_CODE,
    FLAG_UNREADABLE,
    FLAG_UNSPLIT,
    FLAG_WITHDRAWING,
    MenuLine,
    ParsedChain,
    ParsedEntry,
    ParsedItem,
)
from handlers.parsing.vocab import PRICE_NOTE, is_note_token

__all__ = [
    "MAX_LINE",
    "as_menu_post",
    "clear_caches",
    "is_menu_line",
    "parse_chain",
    "parse_entry_line",
    "parse_menu",
]

# `… 1. 张三`: a number and a mark after words and a space, within one line. Searched only for
# whether it is there, so it starts at the space (a class the engine scans for) and looks back
# for the word, instead of trying every character as the word.
_INLINE_HINT = re.compile(
    r"[^\S\n](?<=\S[^\S\n])[^\S\n]*(?:[0-9０-９]{1,3}[^\S\n]*(?:、|[\.．](?![0-9０-９])|\.\d{1,4}-)"
    r"|[\u2460-\u2473]|[0-9]{1,2}[)）])"
)
_HEAD_COUNT = re.compile(
    r"(?P<num>\d+|[一二两三四五六七八九十]+)\s*(?P<unit>人|位|口|个人|大人|名)(?!以上|以下|起|内)"
)
# An English name, its words perhaps initials (`Hins W X Luo`), a dash before or after it.
_LATIN_TAIL = re.compile(
    r"^[\s\-_–—·.]*[A-Za-z][A-Za-z'’.]+(?:[\s\-_]+[A-Za-z][A-Za-z'’.]*)*[\s\-_–—·.]*$"
)
_STATUS_IN_NAME = re.compile(
    r"已发送|已完成|已打卡|已确认|已阅|已读|已交|已提交|已签到|已报名|已送|送完|已配送|已派送"
)
# Doubts about goods: nothing to doubt in a sign-up or a check-in, which orders none.
_GOODS_FLAGS = frozenset(
    {
        FLAG_BIG_NUMBER,
        FLAG_BARE_NUMBER,
        FLAG_UNKNOWN_CODE,
        FLAG_CHANGE,
        FLAG_GLUED,
        FLAG_LEFTOVER,
        FLAG_QTY_OUT_OF_RANGE,
        FLAG_UNSPLIT,
        FLAG_AMBIGUOUS_NAME,
    }
)
_ALONE = re.compile(r"^单点")
# A sign-up's remark in brackets after the name: when or how they come, not another name.
# A class, year or team before a person's name in a roster (`20电信3班`, `25数媒`, `20`).
_GROUP_LABEL = re.compile(
    r"^(?:\d{1,4}|\d{2}[\u4e00-\u9fff]{1,6}\d{0,2}[班组队系级届]?|[\u4e00-\u9fff]{1,6}[班组队系])$"
)
# The person after it: a name (an emoji may follow), perhaps with the class glued before.
_PERSON_AFTER_LABEL = re.compile(r"^(?:[\u4e00-\u9fff]{1,6}\d{0,2}班)?[\u4e00-\u9fff]{2,4}\S{0,2}$")
_ROSTER_REMARK = re.compile(
    r"[（(]([^（()）]*(?:全天|上午|下午|中午|晚上|半天|全程|补位|替补|请假|迟到|早退|待定|可能|授权|代报|代接)"
    r"[^（()）]*)[）)]$"
)
_ADD_PREFIX = re.compile(r"^(?:另加|再加|加)")
_TIME_IN_NAME = re.compile(r"\d{1,2}[:：.]\d{2}")
SINGLE_SHARE = 0.5  # below this share of entries naming goods, the chain sells one thing


def parse_chain(text: str, *, known_products: Sequence[str] = ()) -> ParsedChain:
    """Read one message. `known_products` (the round's goods) help when a copy lost its head.

    The cycle collector is paused while it reads: a 500-line chain makes some ten thousand
    small objects, none in a cycle, and collections triggered by them (which walk the line
    caches too) took a quarter of the time."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse_chain(text, tuple(known_products))
    finally:
        if collecting:
            gc.enable()


def _parse_chain(text: str, known: tuple[str, ...]) -> ParsedChain:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = repost.recall(text, known)
    if kept is not None:
        parsed = _parse_on(text, kept)
        if parsed is not None:
            return parsed
    return _parse_whole(text, known, kept)


def _parse_whole(text: str, known: tuple[str, ...], kept: ChainState | None) -> ParsedChain:
    """Read the message from its first line; keep what its next copy can read on from."""
    split = False
    if _INLINE_HINT.search(text) is None:  # one scan: most chains have no one-line part
        raw_lines = text.split("\n")
    else:
        raw_lines = []
        for raw in text.split("\n"):
            pieces = split_one_line(raw) if _INLINE_HINT.search(raw) else None
            split = split or bool(pieces)
            raw_lines.extend(pieces or [raw])
    lines = list(map(prepare, raw_lines))  # map: no Python frame per line, memoised or not
    first_marked = _first_marked(lines)
    has_marker = first_marked is not None
    _number_glued_slots(lines)
    seg = segment(lines, has_marker=has_marker)
    header = "\n".join(raw_lines[i] for i in seg.header).strip("\n")
    menu = parse_menu(header)
    head = Head(header, tuple(menu), _context(header, menu, known), known)
    got = _read(head, repost.nothing_above(), raw_lines, lines, seg)
    assert got is not None  # nothing is expected of a whole message
    entries, decisions, above = got
    if seg.resume is not None and not split:  # a one-line chain's pieces are not its lines
        at = seg.resume.at
        marker_above = first_marked is not None and first_marked < at
        prefix = "\n".join(raw_lines[:at]) + "\n"
        state = ChainState(prefix, head, seg.resume, marker_above, above, decisions)
        repost.remember(state, replaces=kept)
    return _chain(head, entries, has_marker, decisions.kind, raw_lines, seg, [])


def _parse_on(text: str, kept: ChainState) -> ParsedChain | None:
    """A later copy of a kept chain, read from its last entry on; None where the lines it
    adds change what lies above them (the segmentation or a chain-wide decision)."""
    tail = text[len(kept.prefix) :]
    if _INLINE_HINT.search(tail) is not None:
        return None
    raw_lines = tail.split("\n")
    lines = list(map(prepare, raw_lines))
    _number_glued_slots(lines, kept.resume.prev_seq)
    seg = segment_tail(lines, kept.resume)
    if seg is None or not seg.entries:
        return None
    got = _read(kept.head, kept.above, raw_lines, lines, seg, kept.decisions)
    if got is None:
        return None
    entries, decisions, above = got
    first_marked = None if kept.has_marker else _first_marked(lines)
    has_marker = kept.has_marker or first_marked is not None
    if seg.resume is not None:
        at = seg.resume.at - kept.resume.at  # in the tail
        marker_above = kept.has_marker or (first_marked is not None and first_marked < at)
        prefix = kept.prefix + "\n".join(raw_lines[:at]) + "\n" if at else kept.prefix
        state = ChainState(prefix, kept.head, seg.resume, marker_above, above, decisions)
        repost.remember(state, replaces=kept)
    skipped = kept.above.skipped
    return _chain(kept.head, entries, has_marker, decisions.kind, raw_lines, seg, skipped)


def _first_marked(lines: list[Line]) -> int | None:
    """The first line carrying the chain marker, or None: one search over all lines, whose
    answer also says whether the lines above any resume line carry it. A NUL (which prepare
    removes) between lines keeps a match within one line."""
    joined = "\x00".join(map(_NORM, lines))
    if "接龙" not in joined:
        return None
    found = MARKER.search(joined)
    return None if found is None else joined.count("\x00", 0, found.start())


def _chain(
    head: Head,
    entries: list[ParsedEntry],
    has_marker: bool,
    kind: str,
    raw_lines: list[str],
    seg: Segments,
    skipped_above: list[str],
) -> ParsedChain:
    """The ParsedChain; `seg` covers `raw_lines`, `skipped_above` the skipped lines above."""
    return ParsedChain(
        header=head.header,
        entries=entries,
        menu=list(head.menu),
        has_marker=has_marker,
        kind=kind,
        footer="\n".join(raw_lines[i] for i in seg.footer).strip("\n"),
        skipped=[*(s.strip() for s in skipped_above), *(raw_lines[i].strip() for i in seg.skipped)],
    )


def _read(
    head: Head,
    above: Above,
    raw_lines: list[str],
    lines: list[Line],
    seg: Segments,
    expect: Decisions | None = None,
) -> tuple[list[ParsedEntry], Decisions, Above] | None:
    """Read the entries of `seg` after those `above` (none for a whole message) and decide,
    from all of them as a population, what the chain is and what its entries mean; then
    settle the new ones. With `expect` (a copy read on from a kept reading), None as soon as
    a decision differs from it. The Above returned covers every entry but the last: where
    the next copy reads on from."""
    ctx = head.ctx
    idxs = seg.entries
    bodies = [lines[idx[0]].body if len(idx) == 1 else _body(lines, idx) for idx in idxs]
    read = list(map(read_entry, bodies, repeat(ctx, len(bodies))))
    field_counts, fields_above = _counted(above.fields, read)
    fields = field_counts.fields(ctx)
    if field_counts.placed:  # the next copy finds the place words looked up for its names
        fields_above.places(ctx)
    if expect is not None and fields != expect.fields:
        return None
    if fields:  # read again, with the words the entries repeat as notes
        ctx = ctx._replace(fields=fields)
        read = list(map(read_entry, bodies, repeat(ctx, len(bodies))))
    # The format line (`1. 门店+型号`) says what the chain collects, as the head does.
    skipped = [raw_lines[i] for i in seg.skipped]
    kinds = kinds_above = None
    if not head.has_menu:  # else the menu says it is an order, whatever the entries say
        assert above.kinds is not None
        kinds, kinds_above = _counted(above.kinds, read)
    head_and_format = "\n".join([head.header, *above.skipped, *skipped])
    kind = detect_kind(head_and_format, kinds, has_menu=head.has_menu)
    named_above = above.named + _named(read[:-1], ctx.codes)
    named = named_above + _named(read[-1:], ctx.codes)
    others_above = above.others + _others(read[:-1], ctx)
    others = others_above + _others(read[-1:], ctx)
    mode = _mode(kind, head.menu, ctx, named, field_counts.n, others)
    labels_above = None
    labels: frozenset[str] = frozenset()
    if mode == "multi":
        label_counts = above.labels if above.labels is not None else _label_counts([head.header])
        labels_above = label_counts + _label_counts(bodies[:-1])
        labels = _labels(labels_above + _label_counts(bodies[-1:]))
    answer = None  # what entries answer after their names: a roll call's word, an option
    if kinds is not None and mode == "text":
        answer = kinds.roll_call_answer()
    elif mode == "roster":
        answer = roster_answer(head.header)
    decisions = Decisions(fields, kind, mode, labels, answer)
    if expect is not None and decisions != expect:
        return None
    on_menu = _OnMenu(head.menu, head.known, ctx, head.header) if mode == "multi" else None
    memo: dict[tuple[str, int, int], _Goods] = {}
    settled = _settled_for((mode, ctx, labels, head.menu, head.known, answer))
    done: list[_Settled] = []
    for r, idx, body in zip(read, idxs, bodies, strict=True):
        # the body too: `19张恺腾无` is an entry after `18. …` and a line of text elsewhere
        key = (
            (body, raw_lines[idx[0]])
            if len(idx) == 1
            else (lines[idx[0]].body, *(raw_lines[i] for i in idx))
        )
        entry = settled.get(key)
        if entry is None:
            entry = settled[key] = _settle(r, lines, idx, mode, ctx, on_menu, labels, memo, answer)
        done.append(entry)
    entries = _fresh(above.settled)
    for k, goods in above.copied.items():
        entries[k].items = list(goods)
    new = _fresh(done)
    copied = dict(above.copied)
    last_goods = above.last_goods
    if mode in ("multi", "single"):
        last_goods = _copy_same_as_above(new[:-1], last_goods, copied, len(entries))
        _copy_same_as_above(new[-1:], last_goods, {}, 0)
    entries += new
    at = idxs[-1][0] if idxs else len(lines)
    kept = Above(
        above.settled + done[:-1],
        fields_above,
        kinds_above,
        named_above,
        others_above,
        labels_above,
        copied,
        last_goods,
        above.skipped + [raw_lines[i] for i in seg.skipped if i < at],
    )
    return entries, decisions, kept


class _Counts(Protocol):
    def add(self, read: list[Reading]) -> None: ...
    def copy(self) -> Self: ...


C = TypeVar("C", bound=_Counts)


def _counted(above: C, read: list[Reading]) -> tuple[C, C]:
    """The counts over the entries above and `read`, and over all but the last of them."""
    but_last = above.copy()
    but_last.add(read[:-1])
    counts = but_last.copy()
    counts.add(read[-1:])
    return counts, but_last


def _fresh(done: list[_Settled]) -> list[ParsedEntry]:
    """A ParsedEntry of its own per settled entry, with its own lists: the chain engine marks
    entries (accepted, claimed). Its slots are filled directly: the dataclass's __init__
    costs twice as much, and a repost of 2,000 entries makes all of them again."""
    out = []
    for seq, name, items, note, raw, flags in done:
        e = _NEW_ENTRY(ParsedEntry)
        e.seq = seq
        e.name = name
        e.items = list(items)
        e.note = note
        e.raw = raw
        e.flags = list(flags)
        out.append(e)
    return out


_NEW_ENTRY = ParsedEntry.__new__


def _copy_same_as_above(
    entries: list[ParsedEntry],
    above: tuple[ParsedItem, ...],
    copied: dict[int, tuple[ParsedItem, ...]],
    first: int,
) -> tuple[ParsedItem, ...]:
    """`李四 同上`: the goods of the entry above, as the chain engine will count them; the flag
    stays, so the leader still sees what was copied. Records in `copied` what was copied,
    by the entry's place in the chain (`first` for entries[0]); returns the goods a `同上`
    below would copy. The goods are made a tuple where one is copied, not for every entry."""
    if FLAG_SAME_AS_ABOVE not in chain.from_iterable(map(_FLAGS, entries)):  # one look, in C
        return next((tuple(e.items) for e in reversed(entries) if e.items), above)
    source: ParsedEntry | None = None  # the entry whose goods are `above`, not yet made one
    for k, e in enumerate(entries, first):
        if FLAG_SAME_AS_ABOVE in e.flags and (source is not None or above):
            if source is not None:
                above, source = tuple(source.items), None
            e.items = list(above)
            copied[k] = above
        elif e.items:
            source = e
    return above if source is None else tuple(source.items)


# Entries already settled, per chain setting (mode, context, shop labels, menu): a repost
# repeats its lines under the same head, and then costs only the lines it adds.
_Settled = Settled
_SETTLED: dict[tuple[object, ...], dict[tuple[str, ...], _Settled]] = {}
_SETTLED_CHAINS = 64  # chain settings kept
_SETTLED_LINES = 2000  # entries kept per setting (a longer chain starts it again)


def _settled_for(setting: tuple[object, ...]) -> dict[tuple[str, ...], _Settled]:
    settled = _SETTLED.pop(setting, None)
    if settled is None or len(settled) > _SETTLED_LINES:
        settled = {}
    while len(_SETTLED) >= _SETTLED_CHAINS:
        del _SETTLED[next(iter(_SETTLED))]  # the setting used longest ago
    _SETTLED[setting] = settled  # now the newest
    return settled


def as_menu_post(parsed: ParsedChain) -> ParsedChain | None:
    """The leader's opening post read as a head only, when every numbered line in it is a
    product and its price and nothing else (`1. 原味吐司 18元`, `2. 全麦欧包 ¥22`): the menu,
    not two orders. Only the chain engine knows the poster opens the round; a resident's
    `1. 张三 25元` has the same shape. None when some line orders or says more."""
    if not parsed.entries or parsed.kind != "order":
        return None
    for e in parsed.entries:
        goods = e.items[0] if len(e.items) == 1 else None
        if (
            goods is None
            or (goods.item, goods.qty, goods.unit) != (None, Decimal(1), None)
            or e.flags
            or not e.note
            or PRICE_NOTE.fullmatch(e.note.strip()) is None
            or "\n" in e.raw
        ):
            return None
    header = "\n".join([parsed.header, *(e.raw for e in parsed.entries)]).strip("\n")
    return ParsedChain(
        header=header,
        entries=[],
        menu=parse_menu(header),
        has_marker=parsed.has_marker,
        kind=parsed.kind,
        footer=parsed.footer,
        skipped=list(parsed.skipped),
    )


def parse_entry_line(
    line: str, known_products: Sequence[str] = (), codes: Sequence[str] = ()
) -> ParsedEntry:
    """One chain line on its own (a leader's 代接, a resident's 改): read against the round,
    its products and their menu codes (`2+4` is box 2 and box 4 where the menu numbers them)."""
    ln = prepare(line)
    numbers = frozenset(str(int(c)) for c in codes if c.isdigit())
    letters = frozenset(c.upper() for c in codes if c.isalpha() and len(c) == 1)
    ctx = Context(numbers, letters, tuple(known_products))
    reading = read_entry(ln.body, ctx)
    mode = "single" if len(known_products) == 1 else "multi"
    on_menu = _OnMenu((), tuple(known_products), ctx) if mode == "multi" else None
    seq, name, items, note, raw, flags = _settle(reading, [ln], [0], mode, ctx, on_menu)
    return ParsedEntry(seq, name, list(items), note, raw, list(flags))


def clear_caches() -> None:
    """Forget every memoised line, item and quantity: the next parse is cold (the bench)."""
    for cached in (
        prepare,
        _parse_menu_cached,
        menu_numbers,
        _matcher,
        _context_cached,
        example_layout,
        header_addons,
        asks_what_each_brings,
        _offers,
        _addons_pattern,
        _folded,
    ):
        cached.cache_clear()
    entry_reader.clear_caches()
    quantities.clear_caches()
    vocab.clear_caches()
    _SETTLED.clear()
    repost.forget()


_PLACEHOLDER = re.compile(r"[\s.·．。，,、…\-—_~～]*")


# `19张恺腾无` after `18. 苏家乐无`: the next number glued to a name, no mark between. Not a
# building, a count, a date or a time (`6栋`, `6个`, `6月`, `6点`).
_GLUED_SLOT = re.compile(
    r"^(\d{1,3})(?=[^\d\sA-Za-z栋幢号楼单元室层斤两个份箱盒包袋瓶罐把条只元块毛角月日年周时分点"
    r"成折寸米克升:：.．\-/、,，()（）+×*%])"
)


def _number_glued_slots(lines: list[Line], last: int | None = None) -> None:
    """Give a line its slot number when it starts with the number that follows the last entry
    (`last`, above these lines) and a name glued to it; a list written half with marks and
    half without is one list."""
    rows = unnumbered(lines)  # the unnumbered lines only: most of a chain is numbered
    if not rows:
        return
    seqs = list(map(_SEQ_OF, lines))
    looked = 0  # the numbered lines above this one are accounted for in `last`
    for i in rows:
        ln = lines[i]
        if not ln.body[:1].isdigit():
            continue
        last = next((s for s in reversed(seqs[looked:i]) if s is not None), last)
        looked = i
        if last is None:
            continue
        m = _GLUED_SLOT.match(ln.body)
        if m and int(m.group(1)) == last + 1:
            last += 1
            lines[i] = ln._replace(seq=last, body=ln.body[m.end() :].strip())


def _body(lines: list[Line], idx: list[int]) -> str:
    """An entry's text over its lines. `1. .` then the report on the next lines: the dot only
    holds the slot, the entry starts under it."""
    if len(idx) == 1:
        return lines[idx[0]].body
    first = lines[idx[0]].body
    rest = [lines[j].body for j in idx[1:]]
    return " ".join(rest if _PLACEHOLDER.fullmatch(first) else [first, *rest])


def _context(header: str, menu: list[MenuLine], known: tuple[str, ...]) -> Context:
    return _context_cached(header, tuple(menu), known)


@lru_cache(maxsize=1024)
def _context_cached(header: str, menu: tuple[MenuLine, ...], known: tuple[str, ...]) -> Context:
    codes = set(menu_numbers(header))
    letters: set[str] = set()
    lettered: set[str] = set()  # `A1`, `B2`: a letter and a number name one product
    for m in menu:
        if m.code and m.code.isdigit():
            codes.add(str(int(m.code)))
        elif m.code and len(m.code) > 1:
            lettered.add(m.code.upper())
        elif m.code:
            letters.add(m.code.upper())
    inline = _inline_letters(header) if not letters and not codes else {}
    letters.update(inline)
    products = tuple(dict.fromkeys([*known, *(m.name for m in menu), *inline.values()]))
    brings = asks_what_each_brings(header)  # a potluck: the dishes it names are cooked, not sold
    dated = not codes and _ASKS_DAY.search(header) is not None
    return Context(
        frozenset(codes),
        frozenset(letters),
        products,
        layout=example_layout(header),
        addons=frozenset() if brings else header_addons(header) | {m.name for m in menu},
        choices=_choices(menu),
        by_money=_BY_MONEY.search(header) is not None,
        letter_numbers=frozenset(lettered),
        brings=brings,
        dated=dated,
    )


# A head asking each entry for a day: `写清楚尺寸和取货日期`, `几号取`.
_ASKS_DAY = re.compile(r"(?:取货|提货|送货|配送)?(?:日期|几号|哪天)")
# Goods sold by weight and bought by the money's worth: `接龙写下要几块钱的`, `写金额`.
_BY_MONEY = re.compile(r"(?:几|多少)(?:块|元)钱?的|要多少钱|写(?:上|下)?金额|按金额")
_MONEY_NOTE = re.compile(r"(?P<qty>\d+(?:\.\d+)?)\s*(?P<unit>元|块钱)的?")
_MONEY_WORDS = vocab.MONEY_UNITS | {f"{unit}的" for unit in vocab.MONEY_UNITS}


_INLINE_LETTER = re.compile(
    r"(?:^|(?<=[\s：:，,、;；]))([A-Za-z])\s*[.、:：]?\s*([\u4e00-\u9fff]{2,8})(?=[\s，,、;；]|$)"
)


def _inline_letters(header: str) -> dict[str, str]:
    """`主菜二选一：A 可乐鸡翅 B 土豆牛腩`: dishes lettered A, B… on one line of the head, or
    one a line (`A 宫保鸡丁饭` / `B 番茄牛腩饭`, priced together below them)."""
    lines = header.split("\n")
    for line in lines:
        found = _INLINE_LETTER.findall(line)
        letters = [c.upper() for c, _ in found]
        if len(found) >= 2 and letters == [chr(ord("A") + k) for k in range(len(found))]:
            return {c.upper(): name for c, name in found}
    one_a_line = [m for line in lines if (m := _LETTER_LINE.fullmatch(line.strip()))]
    letters = [m["code"].upper() for m in one_a_line]
    if len(one_a_line) >= 2 and letters == [chr(ord("A") + k) for k in range(len(one_a_line))]:
        return {m["code"].upper(): m["dish"] for m in one_a_line}
    return {}


_LETTER_LINE = re.compile(r"(?P<code>[A-Za-z])\s*[.、:：)）]?\s*(?P<dish>[\u4e00-\u9fff]{2,10})")


_CHOICES = re.compile(r"[（(]([^（）()]+[/／、|｜][^（）()]+)[）)]")
_CHOICE_SPLIT = re.compile(r"\s*[/／、|｜]\s*")


def _choices(menu: tuple[MenuLine, ...]) -> tuple[tuple[str, frozenset[str]], ...]:
    """`8. 牛油酥皮小泡芙一盒四个（原味/抹茶/黑芝麻/巧克力/焙茶）`: what box 8 lets one pick."""
    found = []
    for m in menu:
        picks = _CHOICES.search(m.raw) if m.code and m.code.isdigit() else None
        if picks:
            words = frozenset(w for w in _CHOICE_SPLIT.split(picks.group(1)) if w)
            found.append((str(int(m.code or 0)), words))
    return tuple(found)


def _picks_of(code: str, words: str, ctx: Context) -> bool:
    """`8 抹茶黑芝麻巧克力抹茶`: the words after box 8 are only choices its menu line offers,
    written one after another: which flavours go in the box, a note on it, not more goods."""
    offered = next((w for c, w in ctx.choices if c == code), None)
    if not offered or not words:
        return False
    ends = {0}  # how far the words are read as choices, one after another
    for at in range(len(words)):
        if at in ends:
            ends.update(at + len(w) for w in offered if words.startswith(w, at))
    return len(words) in ends


class _OnMenu:
    """Whether an item names something on the chain's menu, asked once per item text in a
    parse. The matcher is built on the first item a menu number does not settle; a chain
    without products has no matcher, and then nothing is off its menu."""

    __slots__ = (
        "_built",
        "_codes",
        "_header",
        "_known",
        "_lettered",
        "_letters",
        "_matcher",
        "_menu",
        "seen",
    )

    def __init__(
        self, menu: tuple[MenuLine, ...], known: tuple[str, ...], ctx: Context, header: str = ""
    ) -> None:
        self._menu = menu
        self._header = _offers(header) if header else ""
        self._known = known
        self._codes = ctx.codes
        self._lettered = ctx.letter_numbers
        self._letters = ctx.letters
        self._matcher: ProductMatcher | None = None
        self._built = False
        self.seen: dict[str, bool] = {}  # a caller may look here first

    def __call__(self, text: str) -> bool:
        hit = self.seen.get(text)
        if hit is None:
            hit = self.seen[text] = self._check(text)
        return hit

    def _check(self, text: str) -> bool:
        if text.upper() in self._lettered or text.upper() in self._letters:
            return True  # `b2` of a menu coded B2, `A` of one lettered A, B
        code = _CODE_START.match(text) or _CODE_OF.search(text)
        if code and code.group(1) in self._codes:
            return True  # `2芋泥`, `麻薯的1`: a box of the menu, named
        if not self._built:
            self._matcher = _matcher(self._menu, self._known)
            self._built = True
        if self._matcher is None or self._matcher.match(text) is not None:
            return True
        served = _SERVED.sub("", text)  # `热牛奶`, `冰美式`: the drink, served hot or iced
        if served and served != text and self._matcher.match(served) is not None:
            return True
        return _in_header(text, self._header)


# What the head names but its menu lines do not hold as products: a flavour (`口味：原味 / 可可`),
# a size (`L/XL/XXL`, `1段/2段`), a colour, or the product in a line the menu reader did not take
# (`🍉 8424西瓜 第二个半价`). `_SIZE_OR_COLOUR` is what is cut from an entry's goods to find it.
_SIZE_OR_COLOUR = re.compile(
    r"^[\u4e00-\u9fff]{1,2}色|(?:\d{2,3}\s*码|[2-5]?X{0,3}[SML]码?|\d\s*段|\d{1,2}\s*寸|"
    r"[大中小]份|[\d/]+[A-Z]?)$"
)
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_SIZE_WORD = re.compile(r"码(?=\s|$)")
_SIZES_LISTED = re.compile(r"颜色|尺码|码数|色[:：]")
_COLOUR_SIZE = re.compile(
    r"(?P<colour>[\u4e00-\u9fff]{1,2}?)色?(?:\d{2,3}(?:/\d{2,3}[A-Z]?)?|[2-5]?X{0,3}[SML])?码?"
)
_CN_SIZE = re.compile(r"([一二两三四五六七八九])(寸|段|码|号)")
# A line of the head that offers goods: a price, a price per unit, or a list of options.
_OFFER_LINE = re.compile(
    r"[¥￥$]\s*\d|\d\s*(?:元|块)|/\s*(?:个|斤|盒|包|箱|份|袋|瓶|罐|只|件|双|套|桶|提|小时|次|位|人)"
    r"|口味|规格|尺码|颜色|款式|品名|种类|型号|[：:][^，。！]*[/／|｜]|[|｜]|\d\.\d{1,2}\s*$"
)


@lru_cache(maxsize=256)
def _offers(header: str) -> str:
    """The lines of the head that offer goods, and its first line (the chain's title), joined:
    where an entry's goods may be named though the menu reader took no product from them."""
    lines = unicodedata.normalize("NFKC", header).split("\n")
    return "\n".join(
        line for k, line in enumerate(lines) if k == 0 or _OFFER_LINE.search(line) is not None
    )


def _in_header(text: str, header: str) -> bool:
    """The goods as written (a colour or a size aside) are named in the head: `西瓜` under
    `8424西瓜 第二个半价`, `原味` under `口味：原味 / 可可`, `抽纸` under `维达抽纸 | 3层…`."""
    if not header:
        return False
    text = text.strip()
    if len(text) >= 2 and text in header:
        return True
    worn = _COLOUR_SIZE.fullmatch(text.replace(" ", "")) if _SIZES_LISTED.search(header) else None
    if worn and worn["colour"] in header:
        return True  # `蓝130`, `粉色 120` under `颜色：粉、蓝、灰 尺码：100-150`
    if _CN_SIZE.search(text):  # `六寸`, `三段` where the head writes 6寸, 3段
        text = _CN_SIZE.sub(lambda m: f"{quantities.to_number(m[1])}{m[2]}", text)
    if len(text) > 2 and text[-1] == "的":
        text = text[:-1]  # `蛋黄的`: the one with 蛋黄
    core = _SIZE_OR_COLOUR.sub("", text).strip()
    core = _SIZE_OR_COLOUR.sub("", core).strip() if core else core
    if not core:  # `130码`, `S`, `白色 M码`: a size or a colour the head lists
        size = _SIZE_WORD.sub("", text).strip()
        return bool(size) and all(part in header for part in size.split())
    if len(core) >= 2 and core in header:
        return True
    runs = _HAN_RUN.findall(core)
    named = sum(len(r) for r in runs if r in header)
    return bool(runs) and 2 * named >= sum(len(r) for r in runs) and named >= 2


_CODE_START = re.compile(r"^\[?(\d{1,3})(?!\d)")  # `2芋泥`, `[4]巧克力味`
_SERVED = re.compile(r"^(?:热|冷|冰|温|常温|去冰|少冰)|(?:热|冷|冰|温|常温|去冰|少冰)$")
_CODE_OF = re.compile(r"的(\d{1,3})$")


@lru_cache(maxsize=256)
def _matcher(menu: tuple[MenuLine, ...], known: tuple[str, ...]) -> ProductMatcher | None:
    products = [Product.from_menu(m) for m in menu]
    names = {p.name for p in products}
    products += [Product(key=k, name=k) for k in known if k not in names]
    return ProductMatcher(products) if products else None


_NORM = attrgetter("norm")
_SEQ_OF = attrgetter("seq")
_ITEMS = attrgetter("items")
_FLAGS = attrgetter("flags")


def _named(read: list[Reading], codes: frozenset[str]) -> int:
    """Entries naming some goods. Entries share their items (read once per text): look once.
    `张三 1` names no goods unless 1 is a menu number: else it counts portions."""
    items = list(map(_ITEMS, read))
    shared = dict(zip(map(id, items), items, strict=True))  # counted by identity, in C
    return sum(
        times
        for key, times in Counter(map(id, items)).items()
        if any(
            it.text is not None and (not it.text.isdecimal() or it.text in codes)
            for it in shared[key]
        )
    )


def _mode(
    kind: str, menu: tuple[MenuLine, ...], ctx: Context, named: int, n: int, others: int
) -> str:
    """multi | single | roster | text: what an entry's words mean in this chain, `named` of
    its `n` entries naming goods, `others` ordering goods a one-product head does not offer.

    single: every entry orders portions of one thing (a meal, a fruit) and its other words are
    notes, or add-ons the head prices or names. That is so when the menu offers one product, or
    when most entries name no goods at all (a set lunch whose head lists its dishes)."""
    if kind == "signup":
        return "roster"
    if kind != "order":
        return "text"
    few_goods = bool(n) and named < SINGLE_SHARE * n
    if ctx.brings:
        return "single"  # `KC 腌菜土豆、土豆泥` in a potluck: the dish they cook, and one place
    if ctx.letter_numbers:
        return "multi"  # `A1 珍珠奶茶 12`, `B2 多肉葡萄 18`: boxes, each its own product
    if ctx.codes or ctx.letters:
        # `今日菜单 1.红烧肉 2.炒青菜` over `1. 张三 2份`: the numbered dishes are one set meal
        # when no price sets them apart and the entries name none of them.
        return "single" if few_goods and len(menu) <= 1 and not ctx.letters else "multi"
    if len(menu) == 1 or (not menu and len(ctx.products) == 1):
        # `可帮带嘉口生煎，0.9/个` over `10个生煎，5个煎饺`: entries ordering other goods by
        # count (two at least, a quarter of them) show the head priced only one of several.
        return "multi" if others >= 2 and 4 * others >= n else "single"
    return "single" if few_goods else "multi"


def _others(read: list[Reading], ctx: Context) -> int:
    """Entries ordering, by a unit, goods other than a one-product head's (`5个煎饺` under
    `生煎 0.9/个`); counted over entries, so a repost adds its own."""
    if len(ctx.products) != 1:
        return 0
    main = ctx.products[0]
    return sum(
        1
        for r in read
        if any(
            it.text is not None
            and it.explicit
            and it.unit is not None
            and not _names(it.text, main)
            and not _not_goods(it.text)
            and _addon(it.text, ctx) is None
            for it in r.items
        )
    )


def _settle(
    r: Reading,
    lines: list[Line],
    idx: list[int],
    mode: str,
    ctx: Context,
    on_menu: _OnMenu | None,
    labels: frozenset[str] = frozenset(),
    memo: dict[tuple[str, int, int], _Goods] | None = None,
    answer: str | None = None,
) -> _Settled:
    first = lines[idx[0]]
    flags = set(r.flags)
    notes = list(r.notes)
    name = r.name
    if first.invisible:
        flags.add(FLAG_CONTROL_CHARS)
    one_line = len(idx) == 1
    if not one_line:
        flags.add(FLAG_CONTINUED)
    if mode != "multi":  # a chain of several goods takes its names as read
        if name is not None and r.rest and _english_name(r.rest):
            name = _whole_name(first.body, name, r.rest)  # `曾昊 Anson`, `林俊杰 - Jackie`
        elif (
            mode in ("roster", "text")
            and name
            and sum(map(str.isalpha, name)) > 1  # `X. 有氧`: an initial, then the day's log
            and _LATIN_TAIL.match(name)
            and HAN_NAME.match(r.rest)
            and chinese_name_after(name, r.rest)  # `ade 见世面`: a remark after the nickname
        ):
            name = _whole_name(first.body, name, r.rest)  # `Kolor 陈家乐`: the Chinese name after
        elif (mode == "roster" or ctx.brings) and name and (han := rest_of_initials(name, r.rest)):
            name = _whole_name(first.body, name, han)  # `KK 秀帅 洗碗`: initials, then the name
            kept = tuple(it for it in r.items if it.text != han)
            r = r._replace(rest=r.rest[len(han) :].strip(), items=kept)
        elif mode == "roster" and name and r.rest and _GROUP_LABEL.match(name):
            person = _PERSON_AFTER_LABEL.match(r.rest)
            if person and name.isdecimal() and "班" not in person.group(0):
                person = None  # `77 围观群众`: a nickname of digits, then a remark
            if person:  # `20电信3班 吴嘉伟`, `25数媒 张心怡`: the class or team, then who
                name = _whole_name(first.body, name, person.group(0))
                r = r._replace(rest=r.rest[person.end() :].strip())
    items: Sequence[ParsedItem]
    closing = (
        _closing(name, r.rest)
        if mode != "text" and _CLOSE_HINT.search(r.rest or name or "") is not None
        else None
    )  # the hint first: most entries hold none of the closing words
    if closing is not None:
        items = []  # `—— 截单！ ——`, `Tiger= 结束啦`: the list closed in a slot, no order
        flags -= _GOODS_FLAGS
        flags.add(FLAG_CLOSING)
        name, said = closing
        notes.insert(0, said)
    elif mode == "multi" or (mode == "single" and FLAG_SAME_AS_ABOVE in flags):  # goods as read
        key = (r.rest, id(r.items), id(r.parsed))
        goods = memo.get(key) if memo is not None else None
        if goods is None:
            goods = _goods(r, ctx, on_menu, labels)
            if memo is not None:  # `read` holds every Reading while the chain is settled
                memo[key] = goods
        items = goods[0]
        if goods[1]:
            flags |= goods[1]
        notes.extend(goods[2])
    elif mode == "roster" and is_notice(first.body):
        items = []  # `由于晚上下雨，场地改成…`: the organiser's words in a slot, no one signs up
        flags -= _GOODS_FLAGS
        flags.add(FLAG_NOTICE)
        name = None
        notes.insert(0, first.body)
    elif mode == "roster":
        # `帮Mia接上！` signs up Mia; `Way  just back on time`: the nickname, then a remark
        name, rest = who_signs_up(name, r.rest)
        if rest != r.rest:
            r = r._replace(rest=rest)
        along = _TAKES_ALONG.search(name) if name and not r.rest and "带" in name else None
        if name and along and along.start() > 0:  # `大羽带两个人`, `李姐带孙子`: who, and who along
            r = r._replace(rest=along.group(0))
            name = name[: along.start()].rstrip()
        items = [_head_count(r.rest, notes, picked=answer == PICK)]
        flags -= _GOODS_FLAGS
        if talks_to_group(r.rest):  # `6点在a2门口集合了`: coming, or organising?
            flags.add(FLAG_ARRANGING)
        if FLAG_CANCEL not in flags and withdraws(first.body):  # `不好意思，改去玩水啦`: out?
            flags.add(FLAG_WITHDRAWING)
        plus = _PLUS_COMPANIONS.match(name) if name and not r.rest else None
        if name and plus is None and r.rest[:1] in ("+", "＋"):
            plus = _PLUS_COMPANIONS.match(f"{name}{r.rest}")
        if plus:  # `赵六+2`: two more with them (3 in all), or two places in all?
            name = plus["name"]
            notes.insert(0, plus.group(0)[len(name) :].strip())
            flags.add(FLAG_MANY_COUNTS)
        when = _ROSTER_REMARK.search(name) if name and name[-1:] in ")）" else None
        if name and when and when.start() > 0:  # `老王（全天）`: when, not who
            notes.insert(0, when.group(1))
            name = name[: when.start()].rstrip()
    elif mode == "text":
        items = []
        flags -= _GOODS_FLAGS | {FLAG_CONTINUED}
        word = first.body.split(maxsplit=1)[0] if name and first.body else ""
        glued = word[len(name) :] if name and word.startswith(name) else ""
        if name and r.rest and glued[:1].isdecimal() and glued.isalnum():
            # `Clara-运3听3`: a check-in orders nothing, so nothing glued to a name is a count
            r = r._replace(rest=r.rest[len(word) - len(name) :].strip())
            name = word
        if r.rest:
            notes.insert(0, r.rest)
        status = _STATUS_IN_NAME.search(name or "", 2) or _TIME_IN_NAME.search(name or "", 2)
        if name and status:  # `张紫钰已发送退订未发送`, `吃可爱长大的🐑5:00-5:30洗漱`
            notes.insert(0, name[status.start() :])
            name = name[: status.start()].rstrip()
        name = _text_name(name, r.rest, notes)
        if name and answer and name.endswith(answer) and len(name) > len(answer) + 1:
            notes.insert(0, answer)  # `王墨宸无`: the roll call's answer glued to the name
            name = name[: -len(answer)].rstrip()
    else:  # a one-product chain
        flags -= {FLAG_GLUED, FLAG_AMBIGUOUS_NAME}  # one product: nothing glued to mistake
        if ctx.brings:  # `老奶洋芋，炒土豆都可以`: what they may cook is no order to doubt
            flags -= {FLAG_LEFTOVER, FLAG_CHANGE}
        items = _one_product(r, notes, flags, ctx)
    if name is None and items and FLAG_SAME_AS_ABOVE not in flags:
        flags.add(FLAG_NO_NAME)
    if (
        name is None
        and not items
        and FLAG_CANCEL not in flags
        and closing is None
        and FLAG_NOTICE not in flags
    ):
        flags.add(FLAG_UNREADABLE)
    elif (
        mode == "multi"
        and not items
        and notes
        and FLAG_CANCEL not in flags
        and closing is None
        and not any(_SAID.search(n) for n in notes)  # `…帮忙免单噢`: talk, rightly no goods
    ):
        flags.add(FLAG_LEFTOVER)  # `赵工 小份 微辣 已付`: words, and no goods read from them
    raw = first.raw.strip() if one_line else "\n".join(lines[i].raw for i in idx).strip()
    note = ("；".join(dict.fromkeys(n for n in notes if n)) or None) if notes else None
    # The reading saw NFKC text; give back what was typed. A line NFKC left as it was typed
    # (ASCII, or `王五 两份苹果`) has nothing to give back: no character of it folds.
    if not first.raw.isascii() and (not one_line or first.norm != first.raw):
        if name and name not in raw:
            name = _as_written(name, raw)
        for given in items:
            if given.item and (given.item not in raw or _circled(given.item, raw)):
                items = [_item_as_written(p, raw) for p in items]
                break
        if note and note not in raw:
            note = _as_written(note, raw)
    return first.seq, name, tuple(items), note, raw, tuple(sorted(flags)) if flags else ()


_BRACKET_LABEL = re.compile(r"(?<=[\u4e00-\u9fff])[（(]([\u4e00-\u9fff]{2,6})[）)]")
_OWNER = re.compile(r"[\u4e00-\u9fff]{1,6}家?的(?:菜|饭)")
_LATIN_WORD = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’\-]{2,}")


_CODE_SPACE_WORDS = re.compile(r"(\d{1,3}|[A-Za-z])\s+[\u4e00-\u9fffA-Za-z]")


def _code_then_words(text: str | None, ctx: Context) -> bool:
    """`8 抹茶黑芝麻`, `C 加饭`: a menu code, a space, then words that are not a product."""
    m = _CODE_SPACE_WORDS.match(text) if text else None
    if text is None or m is None:
        return False
    code = m.group(1)
    if code.isdigit():
        return code in ctx.codes
    words = text[m.end() - 1 :]  # `J 鸡胸球` names the dish after its letter, as menus do
    return code.upper() in ctx.letters and not any(
        words in p or p in words for p in ctx.products if p
    )


def _label_counts(texts: list[str]) -> Counter[str]:
    """Each bracket after a dish (`春饼套餐（东方明珠）`) in the texts, counted."""
    seen: Counter[str] = Counter()
    joined = "\n".join(texts)
    if "(" not in joined and "（" not in joined:  # most chains: one look at all the texts
        return seen
    for text in texts:
        if "(" in text or "（" in text:
            seen.update(_BRACKET_LABEL.findall(text))
    return seen


def _labels(seen: Counter[str]) -> frozenset[str]:
    """Where the goods come from, as the chain writes it: a bracket after a dish that the
    chain repeats (`春饼套餐（东方明珠）`, `京酱肉丝（东方）`), counted over the head and the
    entries. Written alone after the goods (`… 东方明珠 uni 现金`) such a word names the
    shop, not a dish."""
    return frozenset(
        w
        for w in seen
        if sum(c for v, c in seen.items() if v.startswith(w) or w.startswith(v)) >= 2
    )


def _drop_source(
    items: list[ParsedItem], rest: str, labels: frozenset[str], ctx: Context, notes: list[str]
) -> list[ParsedItem]:
    """The last word after several goods, when it says where they come from or go to: a shop
    the chain names in brackets (`东方明珠`), whose dishes (`莲花的菜`), or, where the entries
    end in Latin pickup and payment words (`uni`, `paypal`), a place in that slot
    (`möhringen`). A note, not one more dish."""
    last = max(items, key=lambda it: rest.rfind(it.item) if it.item else -1)
    text = last.item
    if not text or last.qty != 1 or last.unit is not None:
        return items
    if (
        text in labels
        or _OWNER.fullmatch(text)
        or (
            ctx.fields
            and _LATIN_WORD.fullmatch(text)
            and text.casefold() not in {p.casefold() for p in ctx.products}
        )
    ):
        notes.append(text)
        return [it for it in items if it is not last]
    return items


_Goods = tuple[tuple[ParsedItem, ...], frozenset[str], tuple[str, ...]]


def _goods(r: Reading, ctx: Context, on_menu: _OnMenu | None, labels: frozenset[str]) -> _Goods:
    """What an entry orders in a chain of several goods, and the doubts about it. Entries
    repeat their goods (`1份晚餐`, `苹果2斤`): read once per chain for each text."""
    flags: set[str] = set()
    notes: list[str] = []
    if r.parsed is not None:
        items = list(r.parsed)
    else:
        items = [ParsedItem(it.text, it.qty, it.unit) for it in r.items]
    if (ctx.codes or len(ctx.products) > 1) and any(
        it.text is None and it.unit is not None for it in r.items
    ):
        flags.add(FLAG_BARE_NUMBER)  # `周周 3个` with several goods on offer: 3 of what?
    if len(items) >= 2 and (labels or ctx.fields or "的" in r.rest):
        items = _drop_source(items, r.rest, labels, ctx, notes)
    if (
        len(items) >= 2
        and items[0].item is None
        and items[0].unit is not None
        and items[1].item
        and items[1].qty == 1
        and items[1].unit is None
        and not has_quantity(items[1].item)
    ):  # `2盒 蛋黄莲蓉`: the count, then what of
        items = [ParsedItem(items[1].item, items[0].qty, items[0].unit), *items[2:]]
    if any(it.item and _count_inside(it) for it in items):
        flags.add(FLAG_MANY_COUNTS)  # `抹茶3个 一盒`, `巅峰12罐 K9`: which count is the order?
    elif len(items) >= 2 and any(it.item is None and it.unit is not None for it in items):
        flags.add(FLAG_MANY_COUNTS)  # `1盒：3个蛋黄莲蓉3个豆沙`, `2斤 一盒`: a count of what?
    if "再" in r.rest and _MORE_AGAIN.search(r.rest) and len(_A_COUNT.findall(r.rest)) >= 2:
        flags.add(FLAG_MANY_COUNTS)  # `西红柿3斤 再加1斤`: four in all, or one more to add?
    if r.notes and any(_WANTS_COUNT.search(n) for n in r.notes):
        flags.add(FLAG_MANY_COUNTS)  # `XXL 要两套换着穿`: a count said in the words after
    if (ctx.codes or ctx.letters) and any(
        it.item and " " in it.item and _code_then_words(it.item, ctx) for it in items
    ):
        picked = [_picked(it, ctx, notes) for it in items]
        if picked == items:
            flags.add(FLAG_LEFTOVER)  # `8 抹茶 加急`: box 8's flavours, or a note?
        items = picked
    days = [it for it in items if _DAY.fullmatch(it.item or "")] if ctx.dated else []
    if days and len(items) >= 2:  # `14号` where the head asks for a day: the day, no box
        notes.extend(it.item or "" for it in days)
        items = [it for it in items if it not in days]
    if len(items) >= 2 and _LEAD_TALK.fullmatch(items[0].item or "") and _for_whom(items[0], 0):
        notes.append(items[0].item or "")  # `和jay拼，我要两个`, `有多，来4个`: why, then what
        items = items[1:]
    if len(items) >= 2 and any(_for_whom(it) for it in items):
        notes.extend(it.item or "" for it in items if _for_whom(it))  # `12 + 亲友 2热`: whose
        items = [it for it in items if not _for_whom(it)]
    if on_menu is not None:
        said = [it for it in items if _said(it) and not on_menu(it.item or "")]
        if said:  # `九里 征集一个朋友来帮忙免单噢`: talk where the goods go, not a dish
            notes.extend(it.item or "" for it in said)
            items = [it for it in items if it not in said]
        for it in r.items:
            if it.text is not None and not on_menu(it.text) and it.text not in notes:
                flags.add(FLAG_NOT_ON_MENU)
    return tuple(items), frozenset(flags), tuple(notes)


# A count left inside the goods' text where the reading took another: a times sign and a
# number at its end (`皇家2kg×2`), or a count with its unit when the item has a unit of its own
# (`抹茶3个` read as one 盒, `巅峰12罐` as 12 罐). A size times a count (`600ml*24瓶`) is the
# product's own, and so is a pack size when no other unit is read (`维达抽纸24包 x2`).
_MORE_AGAIN = re.compile(r"再(?:加|来|要)")
_A_COUNT = re.compile(
    r"(?:\d+(?:\.\d+)?|[一两二三四五六七八九十半])\s*[斤个份盒箱袋包瓶只块杯串把条罐提]"
)
_WANTS_COUNT = re.compile(
    r"(?:要|来|订|买|加)\s*(?:\d{1,3}|[一两二三四五六七八九十])\s*"
    r"(?:套|个|件|份|盒|箱|斤|袋|包|瓶|只|双|条)"
)
_TIMES_AT_END = re.compile(r"[*xX×]\s*\d{1,3}$")
_COUNT_AT_END = re.compile(r"(?<![A-Za-z*xX×\d])\d{1,3}\s*(?P<unit>罐|个|盒|袋|包|箱|份|瓶|只|杯)$")
_PIECES = frozenset("个只杯份")


def _count_inside(it: ParsedItem) -> bool:
    """`巅峰12罐` read as 12 罐 (the count twice?), `抹茶3个` as one 盒 (three in the box, or
    three boxes?); `五常10斤` in one 袋 and `500ML12罐` in two 箱 are the product's size."""
    text = it.item or ""
    if not text[-1:].isdecimal() and it.unit is None:
        return False  # most goods: no count at their end
    if _TIMES_AT_END.search(text) is not None:
        return True
    inside = _COUNT_AT_END.search(text) if it.unit is not None else None
    return inside is not None and (inside["unit"] == it.unit or inside["unit"] in _PIECES)


_DAY = re.compile(r"(?:[1-9]|[12]\d|3[01])\s*[号日](?:[上下]午|晚上)?[取提到]?")
# A sentence, not a dish: it ends in a particle, asks, or trails off (`～`).
_SAID = re.compile(
    r"[噢哦吧啊呀啦嘛呢吗喔]$|[～~？?]|要啥|什么|一下$|就行$|就好$|即可$|一点$|不送|别送|"
    r"^(?:少|多|别|不要)放|[提拿取]了$|^\d{1,2}\s*点(?:半|左右|前|后|以后|之前)"
)


# Who the next goods are for, written between them: `12 + 亲友 2热`, `2斤，给婆婆1斤`.
_FOR_WHOM = re.compile(
    r"(?:帮|给|替)?(?:我家)?(?:亲友|朋友|家人|同事|邻居|老公|老婆|爸妈|我妈|我爸|婆婆|公公|闺蜜|"
    r"室友|家属|孩子|宝宝)(?:的|带|订|要)?"
)


# A clause before the goods saying how, not what: sharing with someone, or if any are spare.
_LEAD_TALK = re.compile(
    r"(?:和|跟|与).{1,10}(?:拼|一起)(?:单|一个|一份)?|(?:如果|要是)?有多(?:的话)?"
)


def _for_whom(it: ParsedItem, pattern: re.Pattern[str] | int = 1) -> bool:
    """No count, and (with `pattern` 1) the words say who the goods are for; 0: any words."""
    if it.qty != 1 or it.unit is not None:
        return False
    return pattern == 0 or _FOR_WHOM.fullmatch(it.item or "") is not None


def _said(it: ParsedItem) -> bool:
    """Words with no count and no digit that talk: under a menu they order nothing."""
    text = it.item
    return (
        text is not None
        and it.qty == 1
        and it.unit is None
        and len(text) >= 4
        and _SAID.search(text) is not None
        and not any(ch.isdigit() for ch in text)
    )


def _picked(it: ParsedItem, ctx: Context, notes: list[str]) -> ParsedItem:
    """`8 抹茶黑芝麻巧克力抹茶` → box 8, its flavours a note, when its menu line offers them."""
    code, _, words = (it.item or "").partition(" ")
    if not ctx.choices or not _picks_of(code, words.strip(), ctx):
        return it
    notes.append(words.strip())
    return ParsedItem(code, it.qty, it.unit)


def _item_as_written(it: ParsedItem, raw: str) -> ParsedItem:
    if not it.item:
        return it
    circled = _circled(it.item, raw)
    if circled:  # `②×2`: box ② as typed, not the 2 that NFKC made of it
        return ParsedItem(circled, it.qty, it.unit)
    if it.item in raw:
        return it
    return ParsedItem(_as_written(it.item, raw), it.qty, it.unit)


def _circled(item: str, raw: str) -> str | None:
    """The circled number (`②`) the line holds for a menu number read as `2`, if any."""
    if not item.isdigit() or not 1 <= int(item) <= 20:
        return None
    mark = chr(0x2460 + int(item) - 1)
    return mark if mark in raw else None


_TRAILING_BRACKET = re.compile(r"[(\[][^()\[\]]*[)\]]$")


class _Folding(dict[int, str]):
    """Each character's NFKC form, for str.translate; learnt as characters are met. No
    character's form is empty, so a text folds to as many characters only where each one
    folds to one."""

    def __missing__(self, code: int) -> str:
        folded = unicodedata.normalize("NFKC", chr(code))
        if len(self) < _FOLDED_KEPT:
            self[code] = folded
        return folded


_FOLDED_KEPT = 20000  # characters remembered: a chain's alphabet is far smaller


_FOLDED = _Folding()


@lru_cache(maxsize=4096)
def _folded(raw: str) -> str:
    """A raw line folded character by character; an entry's name, note and items ask alike."""
    return raw.translate(_FOLDED)


def _as_written(text: str, raw: str) -> str:
    """The characters the resident typed for `text`, which was read from NFKC (`（` not `(`,
    `…` not `...`). Found by folding `raw` one character at a time and mapping back."""
    if text in raw:
        return text
    folded_raw = _folded(raw)
    if len(folded_raw) == len(raw):  # no character folds into several (`…` into `...`)
        at = folded_raw.find(text)
        if at >= 0:
            return raw[at : at + len(text)]
    else:
        owners: list[int] = []
        folded: list[str] = []
        for i, ch in enumerate(raw):
            f = unicodedata.normalize("NFKC", ch)
            folded.append(f)
            owners.extend([i] * len(f))
        at = "".join(folded).find(text)
        if at >= 0:
            return raw[owners[at] : owners[at + len(text) - 1] + 1]
    # `香蕉(青)` from `香蕉3斤（青）`: a qualifier moved next to the product, typed apart
    tail = _TRAILING_BRACKET.search(text)
    if tail and tail.start() > 0:
        return _as_written(text[: tail.start()], raw) + _as_written(tail.group(0), raw)
    return text


def _english_name(text: str) -> bool:
    """`Anson`, `winter`, `Hins W X Luo`, `- Jackie`: an English name, one word or each word
    capitalised; `dm` or `just back on time` is a remark in English."""
    if _LATIN_TAIL.match(text) is None:
        return False
    words = _LATIN_WORDS.findall(text)
    if len(words) == 1:
        return len(words[0]) > 2
    return all(w[:1].isupper() for w in words)


_LATIN_WORDS = re.compile(r"[A-Za-z][A-Za-z'’.]*")


def _whole_name(body: str, name: str, rest: str) -> str:
    """`曾昊 Anson`, `林俊杰 - Jackie`: an English name after a Chinese one is the same person."""
    start = body.find(name)
    end = body.find(rest, start + len(name)) + len(rest) if start >= 0 else -1
    return body[start:end] if start >= 0 and end > start else f"{name} {rest}"


_ENGLISH_THEN_LOG = re.compile(r"([A-Z][A-Za-z]+)\s+(?=[0-9])")


def _text_name(name: str | None, rest: str, notes: list[str]) -> str | None:
    """A check-in's name: `琴子 Miyo  6.35 …` is one person with two names before the log;
    `西瓜（虽然但是还是记一下` opens a remark the name does not include."""
    if not name:
        return name
    ages = _AGES.match(rest) if rest[:1].isdecimal() else None
    if ages and notes and notes[0] == rest:  # `厦门郑重家好好 10 岁`: the age is the label's
        name = f"{name} {ages.group(0)}"
        notes[0] = rest[ages.end() :].lstrip("，, ")
        rest = notes[0]
    sibling = _SIBLING.match(rest) if name.endswith("岁") else None
    if sibling and notes and notes[0] == rest:  # `厦门丁岚家小雨10岁，嘟嘟5岁`: two children
        name = f"{name}，{sibling.group(0)}"
        notes[0] = rest[sibling.end() :].lstrip("，, ")
        rest = notes[0]
    english = _ENGLISH_THEN_LOG.match(rest)
    if english and notes and notes[0] == rest:
        name = f"{name} {english.group(1)}"
        notes[0] = rest[english.end() :].strip()
    for opener, closer in (("（", "）"), ("(", ")")):
        at = name.find(opener)
        if at > 0 and closer not in name[at:] and not _EMOTICON_END.search(name):
            notes.insert(0, name[at:].strip())
            name = name[:at].rstrip()
    return name


_EMOTICON_END = re.compile(r"[(（][;；:：]$")  # `joanne(;`: a face typed after the nickname
_SIBLING = re.compile(r"[^\s，,。\d]{1,6}\d+(?:\.\d+)?\s*岁")
_AGES = re.compile(r"\d+(?:\.\d+)?\s*岁(?:[^\s，,。\d]{1,6}\s*\d+(?:\.\d+)?\s*岁)*")


def _closing(name: str | None, rest: str) -> tuple[str | None, str] | None:
    """(who, what was said) when an entry only closes the list: `—— 截单！ ——`, `Tiger= 结束啦`,
    `接龙截止！没有啦`. Any digit means an order may be in it: not a closing then. Asked only
    of entries holding a closing word (_CLOSE_HINT): most hold none."""
    said = rest or name or ""
    closed = _CLOSED.match(said)
    if closed is None or any(ch.isdigit() for ch in f"{name}{rest}"):
        return None
    after = said[closed.end() :]
    words_go_on = after[:1] and "\u4e00" <= after[0] <= "\u9fff" and after[0] not in "啦了咯喽没"
    if words_go_on and (len(after) > 4 or " " in after):
        return None  # `结束前付款 苹果`: the words go on, an order may be in them
    if not rest or name is None or not any(ch.isalnum() for ch in name):
        return None, f"{name or ''} {rest}".strip()
    return name.rstrip("=＝:：-—~～ "), rest


_CLOSE_HINT = re.compile(r"[截结停满]")  # what every closing word holds (_CLOSED)
_CLOSED = re.compile(
    r"^[\s\-—–~～=＝!！.。]*(?:接龙)?(?:已?截个?单|已?截止|已?截车|结束(?:啦|了)?|停止接龙|满员|人满)"
)


def _head_count(rest: str, notes: list[str], *, picked: bool = False) -> ParsedItem:
    """A sign-up line is one place, or as many as its head count (`4人`, `一家3口`, `2大1小`,
    `+1 朋友`, or a number alone: `李四 3`, unless the head asks each person to pick an
    option)."""
    if not rest:
        return ParsedItem(None)
    family = family_count(rest)
    if family is not None:  # `2大1小`, `大人2 小孩2`: the grown-ups and the children
        notes.insert(0, rest)
        return ParsedItem(None, family[0], None)
    along = _TAKES_ALONG.search(rest) if "带" in rest or "和" in rest or "跟" in rest else None
    first = _with_companions(along["num"]) if along and along.start() == 0 else None
    if first is not None:  # `带两个人`: two more, three places; `带孙子`: one more
        notes.insert(0, rest)
        return first
    grown = _GROWN_ONLY.fullmatch(rest) if rest[-1] in "大人" else None
    if grown:  # `2大`: two grown-ups
        n = quantities.to_number(grown["num"])
        if n is not None and 0 < n <= 100:
            notes.insert(0, rest)
            return ParsedItem(None, n, None)
    m = _HEAD_COUNT.search(rest)
    if m and count_in_sentence(rest, m.start(), m.end()):
        m = None  # `我们三人都在小酒馆…`: people talked about, not a head count
    if m:
        n = quantities.to_number(m["num"])
        if n is not None and 0 < n <= 100:
            couple = m["unit"] == "口" and rest[m.end() : m.end() + 1] == "子"
            left = f"{rest[: m.start()]} {rest[m.end() + couple :]}".split()
            said = " ".join(w for w in left if not any(w in note for note in notes)).strip(" ，,")
            if said:
                notes.insert(0, said)  # `3人 带可乐鸡翅`: the dish they bring, kept
            unit = None if couple else "人" if m["unit"] == "个人" else m["unit"]  # `两个人`
            return ParsedItem(None, n, unit)  # `两口子`: a couple, no unit
    notes.insert(0, rest)
    later = _with_companions(along["num"]) if along else None
    if later is not None:  # `66 6栋 和老伴一起`: and the one who comes along
        return later
    friends = _BRINGS_ALONG.match(rest)
    with_friends = _with_companions(friends["num"]) if friends else None
    if with_friends is not None:  # `+1 朋友`: one friend along, two places
        return with_friends
    if rest.isdecimal() and 0 < int(rest) <= 10 and not picked:
        notes.pop(0)
        return ParsedItem(None, Decimal(rest), None)
    return ParsedItem(None)


def _with_companions(number: str | None) -> ParsedItem | None:
    """Someone and those they bring: `number` more (one when the words name a person, not a
    count), at most 20."""
    more = quantities.to_number(number) if number else Decimal(1)
    return ParsedItem(None, more + 1, None) if more is not None and 0 < more <= 20 else None


_CN_DIGIT = r"\d+|[一二两三四五六七八九十]"
_FAMILY = re.compile(
    rf"(?P<big>{_CN_DIGIT})\s*个?\s*(?:大人|大|成人)\s*[+＋,，、]?\s*"
    rf"(?P<small>{_CN_DIGIT})\s*个?\s*(?:小孩|小朋友|孩子|儿童|小)"
    rf"|(?:大人|成人)\s*(?P<big2>{_CN_DIGIT})\s*[+＋,，、]?\s*"
    rf"(?:小孩|小朋友|孩子|儿童)\s*(?P<small2>{_CN_DIGIT})"
    rf"|(?:大人|成人)\s*(?P<big3>{_CN_DIGIT})(?![\d.])"
)
# `带两个人`, `带孙子`: the people someone brings along, the whole of what follows the name.
_TAKES_ALONG = re.compile(
    rf"(?:带上?|和|跟)\s*(?:我家?|自家)?(?:(?P<num>{_CN_DIGIT})\s*个?\s*(?:人|朋友|孩子|小孩|娃)"
    r"|(?:孙子|孙女|儿子|女儿|孩子|小孩|娃|宝宝|老婆|老公|老伴|媳妇|家属|朋友|闺蜜|同事|同学|"
    r"老妈|老爸))(?:一起|一块)?$"
)
_GROWN_ONLY = re.compile(rf"(?P<num>{_CN_DIGIT})\s*个?\s*(?:大人|大)")
# `+1 朋友`, `+2家属`: someone and the companions they bring.
_BRINGS_ALONG = re.compile(
    rf"^[+＋]\s*(?P<num>{_CN_DIGIT})\s*[个位名]?\s*"
    r"(?:朋友|家属|同事|同学|孩子|小孩|家人|亲友|老婆|老公|媳妇|闺蜜|室友)"
)


def family_count(text: str) -> tuple[Decimal, str] | None:
    """`2大1小`, `大人2 小孩2`, `两大一小`, `大人2`: the grown-ups and the children as one head
    count, and the words left around it."""
    m = _FAMILY.search(text)
    if m is None:
        return None
    grown = quantities.to_number(m["big"] or m["big2"] or m["big3"])
    young = quantities.to_number(m["small"] or m["small2"] or "0")
    if grown is None or young is None or not 0 < grown + young <= 100:
        return None
    return grown + young, f"{text[: m.start()]} {text[m.end() :]}".strip()


_PLUS_COMPANIONS = re.compile(rf"^(?P<name>.*?[^\s+＋])\s*[+＋]\s*(?:{_CN_DIGIT})$")


def _one_product(r: Reading, notes: list[str], flags: set[str], ctx: Context) -> list[ParsedItem]:
    """In a one-product chain every entry is portions of it; other words are notes, except the
    extras the head offers (`加一份黑凉粉`, `沙拉`) and dishes ordered on their own (`单点炒河粉`).
    Several counts for the main thing, or an extra left inside a note, are flagged."""
    counts: list[tuple[Decimal, str | None]] = []
    kept: list[ParsedItem] = []
    alone = False
    counted_addon = False
    main = ctx.products[0] if len(ctx.products) == 1 else None
    family = family_count(r.rest) if "大" in r.rest else None
    if family is not None:  # `王 2大1小` at a dinner priced per head: three places
        if family[1]:
            notes.append(family[1])
        return [ParsedItem(None, family[0], None)]
    for it in r.items:
        if it.text is None or (main is not None and _names(it.text, main)):
            if it.explicit:
                counts.append((it.qty, it.unit))
            continue
        if ctx.by_money and it.explicit and it.unit is None and it.text in _MONEY_WORDS:
            counts.append((it.qty, it.text.rstrip("的")))  # `5快～`: five yuan's worth, typed fast
            continue
        if entry_reader.CLOTHES_SIZE.fullmatch(it.text):
            kept.append(ParsedItem(it.text, it.qty, it.unit))  # `李姐 L`: the size is the order
            alone = True
            continue
        single = _ALONE.match(it.text)
        if single and it.text[single.end() :]:  # `单点一份炒河粉`: that dish, not the meal
            dish = split_quantity(it.text[single.end() :])
            kept.append(ParsedItem(dish[0], dish[1] or it.qty, dish[2] or it.unit))
            alone = True
            continue
        addon = _addon(it.text, ctx)
        if addon is not None:
            if it.explicit and not it.added and not _ADD_PREFIX.match(it.text):
                if it.qty == 1 and it.unit in _PORTION_UNITS:
                    # `1份沙拉`: one meal with salad, or one salad: one of each either way
                    counts.append((it.qty, it.unit))
                    kept.append(ParsedItem(addon, Decimal(1), None))
                    continue
                counted_addon = True  # `2份沙拉`: two meals with salad, or two salads?
            kept.append(ParsedItem(addon, it.qty, it.unit))
            continue
        portions = (
            pure_quantity(it.text) if it.text[:1].isdecimal() and not it.text.isdigit() else None
        )
        if portions is not None:  # `1袋+1`: a count where the goods would be, then another
            counts.append(portions)
            if it.explicit:
                counts.append((it.qty, it.unit))
            continue
        if it.text.isdigit() and not it.explicit:
            counts.append((Decimal(it.text), None))  # `张三 2`: two portions
            if Decimal(it.text) >= entry_reader.BIG:
                flags.add(FLAG_BIG_NUMBER)
            continue
        if it.explicit and _not_goods(it.text):
            counts.append((it.qty, it.unit))  # `E1份`, `H区2份`: an area, then the portions
            notes.append(it.text)
            continue
        if it.added:  # `加一个卤蛋`: an extra the head does not offer
            kept.append(ParsedItem(it.text, it.qty, it.unit))
            flags.add(FLAG_LEFTOVER)
            continue
        if it.explicit and it.unit is not None:
            counts.append((it.qty, it.unit))  # `云谷8份`, `3份炒河粉`: portions, then a note
            notes.append(it.text)
            continue
        if not it.explicit and it.text in vocab.SIDE_DISHES:
            kept.append(ParsedItem(it.text, it.qty, None))  # `云谷 沙拉`: the meal, and a salad
            continue
        if it.text[:1].isdecimal() and _A_COUNT.match(it.text):
            flags.add(FLAG_MANY_COUNTS)  # `2斤x2`: a count kept whole as a word, how many?
        notes.append(it.text if not it.explicit else _as_said(it, r.rest))
    if ctx.by_money and not counts:
        _money_in_notes(notes, counts)
    flags -= {FLAG_UNKNOWN_CODE, FLAG_BARE_NUMBER}
    if not r.items and FLAG_BIG_NUMBER in flags:
        flags.discard(FLAG_BIG_NUMBER)
    if len(counts) > 1 or (counted_addon and not counts):
        flags.add(FLAG_MANY_COUNTS)
    said = [n for n in notes if not vocab.is_paid_or_pickup(n)] if ctx.addons and notes else []
    if said and _names_addon(said, ctx.addons):  # `已交材料费` is paid, not one more of it
        counted = _addons_in_notes(said, ctx)
        if counted is None:
            flags.add(FLAG_LEFTOVER)  # an extra the head offers, left inside a note: how many?
        else:
            kept.extend(counted)
    if alone and not counts:
        return kept
    qty, unit = counts[0] if counts else (Decimal(1), None)
    return [ParsedItem(None, qty, unit), *_merged(kept)]


_PORTION_UNITS = frozenset({None, "份"})


def _as_said(it: Item, rest: str) -> str:
    """A counted word kept as a note, in the order it was written (`9岁`, not `岁9`)."""
    before = f"{it.qty}{it.unit or ''}{it.text}"
    return before if before in rest else f"{it.text}{it.qty}{it.unit or ''}"


def _money_in_notes(notes: list[str], counts: list[tuple[Decimal, str | None]]) -> None:
    """`橙子 5元的` where the head asks how much money's worth: the amount read as a price
    note is what the entry orders."""
    for k, note in enumerate(notes):
        money = _MONEY_NOTE.fullmatch(note.strip())
        if money:
            counts.append((Decimal(money["qty"]), money["unit"]))
            del notes[k]
            notes[:] = [n for n in notes if n != "的"]  # `5元的`: the 的 left by the price
            return


def _names_addon(notes: list[str], addons: frozenset[str]) -> bool:
    """Some note holds an extra the head offers: one search over the notes."""
    pattern = _addons_pattern(addons)
    if pattern is None:
        return any(a in n for n in notes for a in addons)
    return pattern.search("\x00".join(notes)) is not None


@lru_cache(maxsize=256)
def _addons_pattern(addons: frozenset[str]) -> re.Pattern[str] | None:
    """The extras as one alternation; None where an extra holds the NUL that joins notes."""
    if any("\x00" in a for a in addons):
        return None
    return re.compile("|".join(re.escape(a) for a in sorted(addons, key=len, reverse=True)))


_COUNT_BEFORE = re.compile(r"(\d{1,2}|[一两二三四五六七八九十])?\s*(?:加|\+|➕)?\s*$")
_NOT_WANTED = re.compile(r"(?:换成?|不要|不加|不|免|没有?|去掉?|少)\s*$")
_CUSTOM_WORD = re.compile(r"[\u4e00-\u9fff]{1,8}")


def _addons_in_notes(notes: list[str], ctx: Context) -> list[ParsedItem] | None:
    """`7份（1饭盒 3开胃萝卜 3黑凉粉）`, `2份（1饭盒加黑凉粉）`: the extras the head prices,
    counted where a note names them, each with the number written just before it (1 if
    none). None when one is swapped or refused (`换成黑凉粉`, `不要小菜`): that is for the
    leader to read."""
    found: list[ParsedItem] = []
    offered = sorted(
        (a for a in ctx.addons if _CUSTOM_WORD.fullmatch(a) and len(a) >= 2), key=len, reverse=True
    )
    for note in notes:
        taken: list[tuple[int, int]] = []
        for addon in offered:
            at = note.find(addon)
            while at >= 0:
                end = at + len(addon)
                if not any(a < end and at < b for a, b in taken):
                    before = note[:at]
                    if _NOT_WANTED.search(before) or note[end : end + 1] == "换":
                        return None
                    count = _COUNT_BEFORE.search(before)
                    number = count.group(1) if count else None
                    qty = quantities.to_number(number) if number else Decimal(1)
                    if qty is None:
                        return None
                    found.append(ParsedItem(addon, qty, None))
                    taken.append((at, end))
                at = note.find(addon, end)
    return found or None


def _merged(items: list[ParsedItem]) -> list[ParsedItem]:
    """`3加包子 4加包子`: one line of 包子×7."""
    out: dict[tuple[str | None, str | None], ParsedItem] = {}
    for it in items:
        key = (it.item, it.unit)
        had = out.get(key)
        out[key] = it if had is None else ParsedItem(it.item, had.qty + it.qty, it.unit)
    return list(out.values())


def _addon(text: str, ctx: Context) -> str | None:
    """The extra a word orders (`加小菜` → 小菜), when the head offers it."""
    added = _ADD_PREFIX.match(text)  # anchored: at most one, at the start
    bare = text[added.end() :] if added else text
    if not ctx.addons or not bare:
        return None
    if bare in ctx.addons or any(
        (a in bare and len(bare) - len(a) <= 1) or (bare in a and len(a) - len(bare) <= 1)
        for a in ctx.addons
    ):
        return bare
    return None


def _names(text: str, product: str) -> bool:
    """The words name the product; a number never does (`2` inside `一箱2串约4斤`)."""
    return (text in product and not text.isdecimal()) or product in text


def _not_goods(text: str) -> bool:
    """A letter, a place or a Latin word: in a one-product chain, a note."""
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z'’. ]*", text)) or is_note_token(text)
