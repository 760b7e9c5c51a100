"""A chain message cut into the leader's head, the entries and the footer.

How a leader reads it: the entries are the last numbered list (`1.` `1、` `1)` `①` `１．`).
Numbered lists above it (rules, a numbered menu) are head: a list starts again where the
numbering goes back to 1. A line without a number under an entry continues that entry; after
the last entry, a blank line or a line in the leader's words starts the footer. Empty slots
(`4、`) and format lines (`1. 姓名+楼号`) are kept aside, never entries. WeChat sometimes
sends a whole chain as one line (`#接龙 周五团 1. 张三 2份 2. 李四 1份`): it splits at the numbers.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, count, repeat
from operator import attrgetter, is_, is_not
from typing import NamedTuple

from handlers.parsing.quantities import has_quantity
from handlers.parsing.vocab import HEADER_WORDS, is_template

MAX_LINE = 2000  # characters of one line read for meaning; the raw line is kept whole

MARKER = re.compile(r"[#＃]\s*接龙")
EXAMPLE = re.compile(r"^\s*[（(【\[]?\s*例\s*[:：\s)）】\]]?")
# Sequence marks after NFKC (full-width folded): 1. 1、 1) (1) 1： and circled ①-⑳. `3.12-502`
# is entry 3 of a resident labelled 12-502 (`1.3-1-201` of 3-1-201), while `12.8元` is a price.
# Also `#3 张三`, `第3位 张三` and a 快团团 export's `跟团号3 张三`. Not `3-张三`: `1-美式
# 2-拿铁` is how menus are numbered.
# `3.12-502`, `1.3-1-201`, `2.5栋`: after the number's dot, a building and room, not decimals.
_BUILDING_AFTER_DOT = r"\d{1,4}\s*(?:(?:-\d{1,2})?-\d{3,4}|栋|幢|号楼|单元)"
_SEQ = re.compile(
    r"^\s*(?:[\(（]\s*(\d{1,4})\s*[\)）]|(\d{1,4})\s*(?:[\.:：,，](?!\d)|[、\)）])|"
    rf"(\d{{1,4}})\.(?={_BUILDING_AFTER_DOT}|\d{{1,4}}\s*(?:室|#))|([\u2460-\u2473])|"
    r"[#＃]\s*(\d{1,4})(?=\s)|第\s*(\d{1,4})\s*[位个名]|跟团号\s*(\d{1,4})(?=\s))\s*"
)
_CIRCLED_SEQ = re.compile(r"^\s*([\u2460-\u2473])\s*")
INVISIBLE = re.compile(
    r"[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
)
# One-line chains: `1. ` after a space or at the start, as written (full-width too).
_INLINE_SEQ = re.compile(
    r"(?:^|(?<=\s))(?:([0-9０-９]{1,3})\s*(?:、|[\.．](?![0-9０-９])"
    rf"|\.(?={_BUILDING_AFTER_DOT}))|([\u2460-\u2473])"
    r"|([0-9]{1,2})[)）](?=\s*\S))"  # `1）3-501 王 3支 2）李姐 1支`: only where no other mark is
)  # `3、3-201 赵`, `1.295-909 西瓜`: a building after the mark, not a decimal
_PRICE = re.compile(
    r"(?:[¥￥]\s*\d+(?:\.\d+)?|\d+(?:\.\d+)?\s*(?:元|块钱?|rmb|RMB)|单价\s*\d|\d+(?:\.\d+)?\s*/\s*\S)"
)
_PRICE_HINT = re.compile(r"[¥￥元块rR单/]")
_PER_UNIT = re.compile(r"\d\s*(?:元|块)?\s*/\s*\S|[¥￥]\s*\d|单价")
_CODE_COLON = re.compile(r"^\s*([A-Za-z])\s*[:：]\s*(\S.*)$")
_LATIN_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


class Line(NamedTuple):  # a tuple: built for every line, cheaper than a frozen dataclass
    raw: str
    norm: str  # NFKC, invisible characters removed, for recognition only
    seq: int | None
    body: str  # norm without its sequence mark
    invisible: bool
    blank: bool  # nothing but whitespace
    priced: bool  # the body carries a price
    per_unit: bool  # the price is per unit of sale (`12.8元/3斤`, `¥25`): a menu line


def has_price(text: str) -> bool:
    return _PRICE_HINT.search(text) is not None and _PRICE.search(text) is not None


def is_menu_line(line: str) -> bool:
    """A product offered in a chain head: a price, or a letter code with a colon."""
    text = unicodedata.normalize("NFKC", line)
    return bool(has_price(text) or _CODE_COLON.match(text))


@lru_cache(maxsize=65536)
def prepare(raw: str) -> Line:
    """One line read for recognition; memoised, since every copy of a chain repeats its lines."""
    head = raw[:MAX_LINE]
    # every INVISIBLE character is a control or format character, none printable
    cleaned = head if head.isprintable() else INVISIBLE.sub("", head)
    invisible = cleaned != head
    lead = cleaned[:1]
    if lead.isspace():
        lead = cleaned.lstrip()[:1]
    # NFKC would fold ⑨ into a bare 9: look first
    circled = _CIRCLED_SEQ.match(cleaned) if "\u2460" <= lead <= "\u2473" else None
    seq: int | None = None
    if circled:
        norm = unicodedata.normalize("NFKC", cleaned[circled.end() :])
        seq = ord(circled.group(1)) - 0x2460 + 1
        body = norm.strip()
        blank = not body
    else:
        if _CIRCLED_THEN_DIGIT.search(cleaned):  # `④5斤`, `②3`: box 4 five 斤, never 45斤
            cleaned = _CIRCLED_THEN_DIGIT.sub(r"\1×", cleaned)
            cleaned = _CIRCLED_GLUED.sub(r" \1", cleaned)  # `①1箱②1箱`: two boxes
        norm = unicodedata.normalize("NFKC", cleaned)
        m = _SEQ.match(norm)
        if m:
            # one alternative matched: its group is the last (a circled number is the 4th)
            mark = m.lastindex
            assert mark is not None  # every alternative holds a group
            digits = m.group(mark)
            seq = int(digits) if mark != 4 else ord(digits) - 0x2460 + 1
            body = norm[m.end() :].strip()
            blank = False  # a number is no blank
        else:
            body = norm.strip()
            blank = not body
    # has_price, inline: prepare reads every line of a chain never seen
    priced = _PRICE_HINT.search(body) is not None and _PRICE.search(body) is not None
    per_unit = priced and _PER_UNIT.search(body) is not None
    fields = (raw, norm, seq, body, invisible, blank, priced, per_unit)
    return _new_line(Line, fields)


_CIRCLED_THEN_DIGIT = re.compile(r"([\u2460-\u2473])(?=[0-9０-９])")
_CIRCLED_GLUED = re.compile(r"(?<=[^\s\u2460-\u2473])([\u2460-\u2473])")
# Line's own __new__ is a Python function around this one: a frame less per line read.
_new_line = tuple.__new__


def split_one_line(raw: str) -> list[str] | None:
    """`#接龙 周五团 1. 张三 2份 2. 李四 1份` → head and one piece per entry, or None."""
    found = list(_INLINE_SEQ.finditer(raw))
    if any(m.group(3) for m in found) and not all(m.group(3) for m in found):
        # `1. 张三 套餐 2）`: a bracket closes words; a list numbered 1） 2） marks nothing else
        found = [m for m in found if not m.group(3)]
    if any(m.group(1) for m in found) and any(m.group(2) for m in found):
        # `4. 阿杰 ⑤ 2个`: a box numbered in circles inside an entry numbered `4.`, not entry 5
        found = [m for m in found if m.group(1)]
    elif (
        found
        and (found[0].group(2) or found[0].group(3))
        and found[0].start() > 0
        and not MARKER.match(raw.lstrip())
    ):
        return None  # `张三 ① ②`: boxes in circles on a resident's line, not a one-line chain
    hits = [
        (
            m.start(),
            int(unicodedata.normalize("NFKC", m.group(1)))
            if m.group(1)
            else int(m.group(3))
            if m.group(3)
            else ord(m.group(2)) - 0x2460 + 1,  # `①老刘 肉包4 ②阿香 菜包2`
        )
        for m in found
    ]
    if len(hits) == 1 and hits[0][1] == 1 and hits[0][0] > 0 and MARKER.match(raw.lstrip()):
        # `#接龙 … 今天截止  1. Tiger 猪肉脯面包 x1`: the chain's first entry, on its head's line
        return [raw[: hits[0][0]].strip(), raw[hits[0][0] :].strip()]
    if len(hits) < 2:
        return None
    best: list[int] = []
    for k, (_, value) in enumerate(hits):
        run = [k]
        want = value + 1
        for j in range(k + 1, len(hits)):
            if hits[j][1] == want:
                run.append(j)
                want += 1
        if len(run) >= len(best):  # a tie goes to the later list: the head's rules come first
            best = run
    first_pos, first_value = hits[best[0]]
    if len(best) < 2 or not (first_value == 1 or first_pos == 0):
        return None
    if hits[0][0] == 0 and best[0] != 0:
        return None  # `2. 颜泱 1. 写文档 2. 肝工作`: an entry with its own numbered list
    cuts = _earlier_lists(hits, best[0]) + [hits[k][0] for k in best]
    cuts += _later_lists(hits, best[-1])
    pieces = [raw[: cuts[0]].strip()] if raw[: cuts[0]].strip() else []
    pieces += [raw[a:b].strip() for a, b in zip(cuts, [*cuts[1:], len(raw)], strict=True)]
    return pieces


def _earlier_lists(hits: list[tuple[int, int]], first: int) -> list[int]:
    """`#接龙 1. 肉松小贝 16.9 2. 布丁 22.9 1. 张三 1+2 …`: a numbered menu or rules before the
    entries are cut into their lines too, so that the head's menu is read line by line."""
    cuts: list[int] = []
    run: list[int] = []
    want = 0
    for pos, value in hits[:first]:
        if value == 1:
            cuts += run if len(run) >= 2 else []
            run, want = [pos], 2
        elif run and value == want:
            run.append(pos)
            want += 1
    return cuts + (run if len(run) >= 2 else [])


def _later_lists(hits: list[tuple[int, int]], last: int) -> list[int]:
    """`1.凉拌牛肉 … 5.冬瓜汤 例 桃子 1份 1. 桃子 8份 2. lily 1份`: a list numbered again from 1
    after the longest one (a dish list in the head, then the entries) is cut too, each line
    its own: which list holds the entries is then told as for a chain of many lines."""
    cuts: list[int] = []
    want = 1
    for pos, value in hits[last + 1 :]:
        if value == want or (value == 1 and want > 2):
            cuts.append(pos)
            want = value + 1
    return cuts


@dataclass(slots=True)
class Segments:
    """Which lines are head, entries (first line, then its continuation lines) and footer."""

    lines: list[Line]
    header: list[int] = field(default_factory=list)
    entries: list[list[int]] = field(default_factory=list)
    footer: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    resume: Resume | None = None  # where a later copy's segmentation may go on from


_SEQ_OF = attrgetter("seq")
_BODY_OF = attrgetter("body")
_PER_UNIT_OF = attrgetter("per_unit")
# _CODE_COLON at the start of a body, after the NUL before it: `^\s*` has nothing to take
# before a letter, and `(\S.*)$` asks for something other than a space in the same body.
_CODED_BODY = re.compile(r"\x00[A-Za-z]\s*[:：]\s*[^\s\x00]")


def numbered(lines: list[Line]) -> list[int]:
    """The numbered lines' indices, found in C: a long chain numbers every entry."""
    return list(compress(count(), map(is_not, map(_SEQ_OF, lines), repeat(None))))


def unnumbered(lines: list[Line]) -> list[int]:
    """The other lines' indices, found in C."""
    return list(compress(count(), map(is_, map(_SEQ_OF, lines), repeat(None))))


def _runs(lines: list[Line]) -> list[list[int]]:
    """Numbered lines grouped into lists: a list starts again where the numbering goes to 1.
    Only the lines numbered 1 are looked at one by one: a chain has few lists."""
    at = numbered(lines)
    seqs = list(map(_SEQ_OF, map(lines.__getitem__, at)))
    starts = [k for k in compress(count(), map((1).__eq__, seqs)) if k and seqs[k - 1] != 1]
    return [at[a:b] for a, b in zip([0, *starts], [*starts, len(at)], strict=True) if a < b]


class RunCounts(NamedTuple):
    """A numbered list's lines, those priced per unit or lettered, those in the leader's words."""

    lines: int
    menu: int
    rules: int

    def __add__(self, other: object) -> RunCounts:
        assert isinstance(other, RunCounts)
        return RunCounts(*(a + b for a, b in zip(self, other, strict=True)))

    def __sub__(self, other: RunCounts) -> RunCounts:
        return RunCounts(*(a - b for a, b in zip(self, other, strict=True)))

    def head_list(self) -> bool:
        """A numbered menu with prices, or numbered rules: the leader's head, not entries. Most
        of the list (more than half) priced per unit or lettered, or most of it in the
        leader's words."""
        return 2 * self.menu > self.lines or 2 * self.rules > self.lines


def _run_counts(lines: list[Line], run: list[int]) -> RunCounts:
    # One search per line holding a word, over all the bodies at once: a NUL keeps a match
    # within one line, and most entries hold no such word.
    run_lines = list(map(lines.__getitem__, run))
    bodies = "\x00".join(map(_BODY_OF, run_lines))
    # The menu lines: priced per unit (taken in C), or a letter code and a colon (`A: 牛肉`),
    # found by one search from each NUL (one more opens the first body).
    menu: set[int] = set()
    for k in compress(count(), map(_PER_UNIT_OF, run_lines)):
        if not _ordered_at_price(run_lines[k].body):
            menu.add(k)
    joined = "\x00" + bodies
    k = at = 0
    for coded in _CODED_BODY.finditer(joined):
        k += joined.count("\x00", at, coded.start())  # the body's place in the run
        at = coded.start()
        menu.add(k)
    rules = 0
    at = 0
    while (m := HEADER_WORDS.search(bodies, at)) is not None:
        start = bodies.rfind("\x00", 0, m.start()) + 1
        end = bodies.find("\x00", m.end())
        line = bodies[start:end] if end >= 0 else bodies[start:]
        rules += not (_quantity_from(bodies[start : m.start()], 1) or _quantity_from(line, 2))
        if end < 0:
            break
        at = end + 1
    return RunCounts(len(run), len(menu), rules)


def _without_leading_menu(lines: list[Line], run: list[int]) -> list[int]:
    """`1. 苹果 5元/斤` `2. 梨 4元/斤` `3. 张三 苹果2斤`: residents numbering on from the
    leader's priced menu. The menu lines at the list's start are the head's, not two orders;
    the last line is kept, so a menu alone is still judged a head list as a whole."""
    start = 0
    while start < len(run) - 1:
        ln = lines[run[start]]
        if not (ln.per_unit and not _ordered_at_price(ln.body)):
            break
        start += 1
    return run[start:] if start else run


def _ordered_at_price(body: str) -> bool:
    """`张三 苹果5元/斤 2斤`: a resident who copied the price, then ordered a quantity; a menu
    line (`苹果 5元/斤`) names goods and a price only."""
    words = body.split()
    return len(words) >= 3 and any(has_quantity(w) for w in words[1:] if _PRICE.search(w) is None)


def _quantity_from(text: str, first: int) -> bool:
    """A quantity among the words of `text` from the `first` on. A line with the leader's word
    is still an order with goods counted after the name (`张三 苹果2斤 自提`: from word 1 of
    what comes before the word) or after a pickup word and the name (`自提 张三 苹果2斤`: from
    word 2 of the line); a rule has none there (`每人限购2份`, `截单时间：12月3日 晚上8点`)."""
    return any(map(has_quantity, _WORDS_APART.split(text.strip())[first:]))


# `苹果2斤（已付款）`: the words, the bracket's parts too.
_WORDS_APART = re.compile(r"[\s（）()【】\[\]，,、;；]+")


def _footerish(ln: Line) -> bool:
    return bool(
        HEADER_WORDS.search(ln.body)
        or marked(ln.norm)
        or is_example(ln.body)
        or _RULER.fullmatch(ln.norm.strip())  # `------------`: the list ends above the rule
    )


_RULER = re.compile(r"[-—–=_~～·•*＊#]{4,}")


def marked(text: str) -> bool:
    return "接龙" in text and MARKER.search(text) is not None


def is_example(body: str) -> bool:
    return "例" in body and EXAMPLE.match(body) is not None


def order_like(body: str) -> bool:
    """An unnumbered line that reads as an order: `张三 苹果2斤`, `李四 +1`."""
    if not body or len(body) > 60 or EXAMPLE.match(body) or HEADER_WORDS.search(body):
        return False
    if is_menu_line(body):
        return False
    tokens = body.split()
    return len(tokens) >= 2 and any(
        has_quantity(t) or t in ("+1", "＋1", "加1", "加一") for t in tokens[1:]
    )


@dataclass(frozen=True, slots=True)
class Resume:
    """Where the segmentation of a later copy of the chain can go on from: the first line of
    the last entry (`at`). Nothing above it changes while the lines from it on continue the
    same numbered list, which is what a repost adds."""

    at: int
    run_start: int  # the entries' list starts here
    above: RunCounts  # that list's lines above `at`
    prev_seq: int | None  # the number of the last numbered line above `at`


def segment(lines: list[Line], *, has_marker: bool) -> Segments:
    seg = Segments(lines)
    runs = _runs(lines)
    while len(runs) > 1 and _numbered_again(lines, runs[-2], runs[-1]):
        runs[-2:] = [runs[-2] + runs[-1]]  # `3. 王五 3斤` then `1. 赵六 1斤`: one list
    if runs:
        runs[-1] = _without_leading_menu(lines, runs[-1])
    counts = _run_counts(lines, runs[-1]) if runs else None
    if counts is not None and (counts.head_list() or _example_below(lines, runs[-1][-1])):
        # the last list is the leader's menu or rules, or a list the example line (`例 姓名/
        # 项目简称`) comes after: what to hand in, not who has. No numbered entries yet.
        runs = []
    if not runs:
        if has_marker:  # an unnumbered chain: order-looking lines after the first line
            for i, ln in enumerate(lines):
                if i > 0 and not marked(ln.norm) and order_like(ln.body):
                    seg.entries.append([i])
                else:
                    seg.header.append(i)
        else:
            seg.header = list(range(len(lines)))
        return seg
    run = runs[-1]
    seg.header = list(range(run[0]))
    _walk(seg, run[0], run[-1])
    if seg.entries and counts is not None:
        seg.resume = _resume(seg, run, counts, Resume(0, run[0], RunCounts(0, 0, 0), None))
    return seg


def _example_below(lines: list[Line], last: int) -> bool:
    """The head's example line (`例 张三 苹果2斤`) under the list: entries follow the example."""
    return any(is_example(ln.body) for ln in lines[last + 1 :] if "例" in ln.body)


def _numbered_again(lines: list[Line], above: list[int], below: list[int]) -> bool:
    """A list that starts again at 1 right under entries (no blank line, nothing between but
    their continuation lines) continues them: someone numbered their line 1 by mistake, or
    pasted two copies one under the other. A numbered menu or rules above entries are kept
    apart: their lines are not orders (`芋泥麻薯`, `截单时间：8点`), or a blank line parts them."""
    if any(lines[i].blank for i in range(above[-1] + 1, below[0])):
        return False
    orders = sum(1 for i in above if _orderish(lines[i].body))
    return 2 * orders >= len(above) and orders >= 1


def _orderish(body: str) -> bool:
    """`张三 2斤`, `李四 苹果+1`: a name, then goods with a quantity written with its unit."""
    words = body.split()
    return len(words) >= 2 and any(
        has_quantity(w) and not w.isdecimal() and _PRICE.search(w) is None for w in words[1:]
    )


def segment_tail(lines: list[Line], resume: Resume) -> Segments | None:
    """The lines from `resume.at` on (`lines[0]` is that line) of a later copy, segmented as
    segment() would segment the whole copy; None where they change what lies above: a new
    list starts, the list turns out to be the head's, or the line lost its number."""
    if not lines or lines[0].seq is None:
        return None
    prev = resume.prev_seq
    run: list[int] = []
    for i, ln in enumerate(lines):
        if ln.seq is None:
            continue
        if prev is None or (ln.seq == 1 and prev != 1):  # a list starts here
            if i > 0 or resume.run_start != resume.at:
                return None
        elif i == 0 and resume.run_start == resume.at:
            return None  # the line joins the list above it
        run.append(i)
        prev = ln.seq
    counts = resume.above + _run_counts(lines, run)
    if counts.head_list() or _example_below(lines, run[-1]):
        return None
    seg = Segments(lines)
    _walk(seg, 0, run[-1])
    if seg.entries:
        seg.resume = _resume(seg, run, counts, resume)
    return seg


def _resume(seg: Segments, run: list[int], counts: RunCounts, start: Resume) -> Resume:
    """Where the next copy goes on from: the last entry's first line. `seg` covers the lines
    from `start.at` on, `run` is its part of the entries' list, `counts` the whole list's."""
    at = seg.entries[-1][0]
    lines = seg.lines
    prev = next((lines[i].seq for i in range(at - 1, -1, -1) if lines[i].seq is not None), None)
    below = _run_counts(lines, run[bisect_left(run, at) :])  # run is in order
    return Resume(
        start.at + at,
        start.run_start,
        counts - below,
        start.prev_seq if prev is None else prev,
    )


def _walk(seg: Segments, start: int, last: int) -> None:
    """Entries, empty slots and format lines, then the footer, from the list's first line
    (`start`) on; `last` is the list's last line."""
    lines = seg.lines
    current: list[int] | None = None
    in_footer = False
    gap = False  # a blank line since the last entry line
    for i in range(start, len(lines)):
        ln = lines[i]
        if in_footer:
            seg.footer.append(i)
            continue
        if ln.blank:
            gap = True
            continue
        if ln.seq is not None:
            if ("例" in ln.body and EXAMPLE.match(ln.body)) or is_template(ln.body):
                seg.skipped.append(i)
                current = None
            else:
                current = [i]
                seg.entries.append(current)
            gap = False
            continue
        if i > last and (gap or _footerish(ln) or current is None):
            in_footer = True
            seg.footer.append(i)
            continue
        if is_example(ln.body):
            seg.skipped.append(i)
        elif current is not None:
            current.append(i)  # a line under an entry continues it
        else:
            seg.skipped.append(i)
        gap = False
