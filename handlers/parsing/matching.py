"""Written item text → one of the round's products.

Residents write products the way they say them: the menu code (`1号`, `C`, `h三鲜`), a
shortened name (`苹果` for 烟台苹果), an emoji (`烤🐔`), or a typo from the pinyin keyboard
(`平果`). The matcher tries the readings from the most to the least certain and stops at the
first one that has evidence:

implicit (nothing written, one product) → exact name → alias → menu code → containment →
fuzzy (rapidfuzz) → pinyin homophone.

A step that finds two products equally good ends the search with None: the chain engine flags
the line for the leader, which is cheaper than a wrong parcel. No rule depends on the order of
the products, so the same text on the same menu always gives the same answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process

from handlers.parsing.types import MenuLine

How = Literal["exact", "alias", "code", "contains", "fuzzy", "pinyin", "implicit"]

# Fuzzy: rapidfuzz's Indel ratio, 2·common/(len a + len b), on the folded text, 0..100. Not
# WRatio: its partial score would bring back what the contains rule refuses (牛油果 holds the
# name 牛 and scores 90), and its token scores mean nothing in Chinese, which has no spaces.
# At 85 the ratio takes one missing or extra character in a name of 3 or more (烟台大苹果 →
# 烟台苹果 88.9, 五常稻花香米 → 五常稻花香大米 92.3) but not one replaced character in a name of
# up to 6 (红心火龙果 vs 白心火龙果 80, 麦香鸡腿堡 vs 麦辣鸡腿堡 80): in Chinese a replaced
# character usually is another product, and the typo that replaces one, the keyboard's
# homophone, is the pinyin rule's job.
FUZZY_MIN: Final = 85.0
# The winner must beat the best other product by this much. One more character in common is
# worth 2/(len a + len b): 12 to 25 points for texts and names of 4 to 8 characters, so the
# winner has to be at least one character closer than the runner-up; nearer is a coin flip.
FUZZY_MARGIN: Final = 10.0
# Pinyin needs two syllables: one syllable is shared by dozens of characters (梨 栗 李 …).
PINYIN_MIN_SYLLABLES: Final = 2

SCORE_SURE: Final = 100.0  # implicit, exact, alias, code
SCORE_CONTAINS: Final = 90.0
SCORE_PINYIN: Final = 85.0

CACHE_SIZE: Final = 4096  # distinct texts remembered per round; the oldest is forgotten first

# Numbered circles NFKC leaves alone (it already turns ①-⑳ into digits).
_CIRCLED: Final = {
    chr(base + i): str(i + 1) for base in (0x2776, 0x2780, 0x278A) for i in range(10)
}
# Food emoji as residents write them in orders (`烤🐔`, `C🐔🐮`, `L🦐`) are read as the word,
# so `烤🐔` finds 烤鸡. Other emoji are decoration and are dropped.
_EMOJI_WORDS: Final = {
    "🐮": "牛", "🐄": "牛", "🐂": "牛", "🥩": "肉",
    "🐔": "鸡", "🐓": "鸡", "🍗": "鸡腿",
    "🐷": "猪", "🐖": "猪", "🐑": "羊", "🐏": "羊",
    "🦐": "虾", "🍤": "虾", "🐟": "鱼", "🦀": "蟹", "🥚": "蛋",
    "🍚": "饭", "🍝": "意面", "🍜": "面", "🍞": "面包", "🥗": "沙拉",
    "🍎": "苹果", "🍏": "苹果", "🍌": "香蕉", "🍇": "葡萄", "🍓": "草莓", "🍉": "西瓜",
    "🍊": "橙", "🍋": "柠檬", "🍑": "桃", "🍍": "菠萝", "🥭": "芒果", "🍒": "樱桃",
    "🥝": "猕猴桃", "🍐": "梨", "🥑": "牛油果", "🌽": "玉米", "🥔": "土豆", "🍅": "番茄",
    "🥕": "胡萝卜", "🥦": "西兰花", "🍄": "蘑菇", "🥛": "牛奶",
}  # fmt: skip
_CN_DIGITS: Final = {
    "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
# Measure words: a number before one is a quantity (`2斤`, `600ml`), not a menu code.
_UNITS: Final = (
    "个|斤|份|箱|盒|袋|把|串|瓶|包|罐|只|条|块|克|千克|公斤|听|提|桶|支|根|颗|粒|杯|碗|kg|g|ml|l"
)
# A menu code written before the item: `1号`, `一号`, a bare `12`, or one letter `C`/`h`.
_LEADING_CODE: Final = re.compile(
    r"\s*(?:"
    r"(?P<hao>\d{1,3}|[一二两三四五六七八九十]{1,3})\s*号"
    rf"|(?P<bare>\d{{1,3}})(?!\d|[.,]\d|\s*(?:{_UNITS})(?![a-z]))"
    r"|(?P<letter>[a-z])(?![a-z])"
    r")",
    re.IGNORECASE,
)


def _nfkc(text: str) -> str:
    """Full-width and circled digits and letters as plain ones (`１号`, `①`, `❶`, `Ｃ`)."""
    return "".join(_CIRCLED.get(ch, ch) for ch in unicodedata.normalize("NFKC", text))


def _fold(text: str) -> str:
    """The comparison form: NFKC, casefold, food emoji as words, letters/digits/CJK only.

    An emoji whose word is already written adds nothing (`沙拉🥗` is 沙拉, `🍌🍌` is 香蕉).
    """
    text = _nfkc(text)
    out: list[str] = []
    words: set[str] = set()
    for ch in text.casefold():
        word = _EMOJI_WORDS.get(ch)
        if word is not None:
            if word not in text and word not in words:
                words.add(word)
                out.append(word)
        elif ch.isalnum():
            out.append(ch)
    return "".join(out)


def _syllables(folded: str) -> str:
    """Toneless pinyin as `|ping|guo|`, so that `in` tests whole-syllable containment."""
    return "|" + "|".join(lazy_pinyin(folded)) + "|"


def _code_key(code: str) -> str:
    """How codes compare: `01` is `1`, `c` is `C`."""
    folded = _fold(code)
    return str(int(folded)) if folded.isdigit() else folded


def _cn_number(text: str) -> int | None:
    """一 to 九十九 as an int (`十二号`, `两号`); None when it is not a plain number."""
    if "十" not in text:
        return _CN_DIGITS.get(text) if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    t = 1 if not tens else _CN_DIGITS.get(tens)
    o = 0 if not ones else _CN_DIGITS.get(ones)
    if t is None or o is None or len(tens) > 1 or len(ones) > 1:
        return None
    return t * 10 + o


def _is_cjk(text: str) -> bool:
    return all("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


@dataclass(frozen=True, slots=True)
class Product:
    """A product on offer in a round; `key` is what orders store, stable within the round."""

    key: str
    name: str
    code: str | None = None
    aliases: tuple[str, ...] = ()
    price: Decimal | None = None
    sale_unit: str | None = None

    @classmethod
    def from_menu(cls, line: MenuLine) -> Product:
        """The product a chain head's menu line offers, keyed by its code when it has one."""
        return cls(
            key=line.code or line.name,
            name=line.name,
            code=line.code,
            price=line.price,
            sale_unit=line.sale_unit,
        )


@dataclass(frozen=True, slots=True)
class Match:
    """Which product a text means, which rule said so, and how sure (0..100) that rule is."""

    product: Product
    how: How
    score: float


@dataclass(frozen=True, slots=True)
class _Label:
    """One way of naming a product (its name or an alias) in one comparison form."""

    form: str  # folded text, or `|syl|la|ble|`
    size: int  # characters, or syllables
    product: int  # index into the matcher's products


class _Ambiguous:
    """A rule found several products equally good: stop and let the leader decide."""


_AMBIGUOUS: Final = _Ambiguous()
# What one rule concludes: a match, a tie (stop), or no evidence (ask the next rule).
_Step = Match | _Ambiguous | None


class ProductMatcher:
    """Maps written item text to one of a round's products; built once per round.

    Everything about the products is prepared here, so `match` on a text seen before is one
    dict lookup, and on a new text a few dict lookups and substring scans, at most one
    rapidfuzz pass and one pinyin conversion.
    """

    def __init__(self, products: Sequence[Product], *, cache_size: int = CACHE_SIZE) -> None:
        self._products = tuple(products)
        self._cache_size = cache_size
        self._cache: dict[str | None, Match | None] = {}
        self._names: dict[str, list[int]] = {}
        self._aliases: dict[str, list[int]] = {}
        self._codes: dict[str, list[int]] = {}
        chars: dict[tuple[str, int], None] = {}  # ordered set of (label, product)
        for i, p in enumerate(self._products):
            for table, labels in ((self._names, (p.name,)), (self._aliases, p.aliases)):
                for label in labels:
                    folded = _fold(label)
                    if folded:
                        _add(table, folded, i)
                        chars[(folded, i)] = None
            if p.code and _code_key(p.code):
                _add(self._codes, _code_key(p.code), i)
        self._chars = [_Label(f, len(f), i) for f, i in chars]
        self._pairs: dict[str, set[int]] = {}  # two Chinese characters → products naming them
        for known in self._chars:
            for pair in _cjk_pairs(known.form):
                self._pairs.setdefault(pair, set()).add(known.product)
        self._choices = [label.form for label in self._chars]
        self._heard: list[_Label] | None = None  # the labels' sounds, made when first asked

    @property
    def _sounds(self) -> list[_Label]:
        """One sound per label, in the same order, so `_sounds[k]` is how `_chars[k]` sounds.
        Made on the first text that needs the pinyin rule: pinyin is the slow part of building
        a matcher, and most texts are settled by name, alias or code first."""
        if self._heard is None:
            self._heard = [_sound_of(label) for label in self._chars]
        return self._heard

    @property
    def products(self) -> tuple[Product, ...]:
        return self._products

    def match(self, item: str | None) -> Match | None:
        """The product `item` means, or None when it names none, or several equally well."""
        if item in self._cache:
            return self._cache[item]
        result = self._match(item)
        if self._cache_size > 0:
            if len(self._cache) >= self._cache_size:
                del self._cache[next(iter(self._cache))]
            self._cache[item] = result
        return result

    def _match(self, item: str | None) -> Match | None:
        folded = _fold(item or "")
        if not folded:
            if len(self._products) == 1:
                return Match(self._products[0], "implicit", SCORE_SURE)
            return None
        step = self._exact(folded)
        if step is None and item is not None:
            step, words = self._code(item, folded)
            if step is None and words != folded:  # a code the menu lacks: go by the words
                if not words:  # `9号`, `12`: a number that is no menu code names nothing
                    return None
                folded = words
                step = self._exact(folded)
        if step is None:
            step = self._contains(folded)
        if step is None:
            step = self._fuzzy(folded)
        if step is None:
            step = self._pinyin(folded)
        return step if isinstance(step, Match) else None

    def _exact(self, folded: str) -> _Step:
        hits, how = self._exact_hits(folded)
        return self._decide(hits, how, SCORE_SURE)

    def _exact_hits(self, folded: str) -> tuple[list[int], How]:
        if folded in self._names:
            return self._names[folded], "exact"
        return self._aliases.get(folded, []), "alias"

    def _named(self, folded: str) -> list[int]:
        """The products some words name by exact name, alias or containment (no guessing)."""
        hits, _ = self._exact_hits(folded)
        return hits or self._contains_hits(folded)[0]

    def _mentioned(self, folded: str, named: list[int]) -> set[int]:
        """Products the words name, or share two characters in a row with (`大葡萄`, 葡萄).

        When the words after a bare number mention only other products, the number may be a
        quantity (`2大葡萄`); words that mention nothing are a note (`1咸蛋黄`: a flavour).
        """
        mentioned = set(named)
        for pair in _cjk_pairs(folded):
            mentioned |= self._pairs.get(pair, set())
        return mentioned

    def _code(self, item: str, folded: str) -> tuple[_Step, str]:
        """A menu code at the start of the item, and the folded words left to match by name.

        `C 牛肋条`, `C🐔🐮`, `h三鲜`, `3号（大串）`: a letter or a number with 号 that is a
        menu code wins over whatever follows (`D 烤牛` is D even though D is 鸡腿). A bare
        number may be a quantity run into the name, so when the words after it name only
        other products the line is ambiguous. After a code the menu lacks, the words alone
        decide (`5号 苹果` is still the apple; `9号` alone is nothing).
        """
        text = _nfkc(item)
        m = _LEADING_CODE.match(text)
        if m is None:
            return None, folded
        words = _fold(text[m.end() :])
        letter, hao, bare = m.group("letter"), m.group("hao"), m.group("bare")
        if letter is not None:
            pair = letter.casefold() + words[:1]
            if words and any(pair in label.form for label in self._chars):
                return None, folded  # `T恤`: the letter starts a word of a product's name
            key = letter.casefold()
        elif hao is not None:
            number = int(hao) if hao.isdigit() else _cn_number(hao)
            if number is None:
                return None, folded
            key = str(number)
        else:
            key = str(int(bare))
        coded = self._codes.get(key)
        if not coded:
            return None, words
        named = self._named(words) if words else []
        if len(coded) > 1:  # two menu lines share a code: only the words can tell them apart
            both = [i for i in coded if i in named]
            if len(both) != 1:
                return _AMBIGUOUS, words
            return Match(self._products[both[0]], "code", SCORE_SURE), words
        if bare is not None and words:
            mentioned = self._mentioned(words, named)
            if mentioned and coded[0] not in mentioned:
                return _AMBIGUOUS, words
        return Match(self._products[coded[0]], "code", SCORE_SURE), words

    def _contains(self, folded: str) -> _Step:
        hits, by_ear = self._contains_hits(folded)
        if len(hits) == 1 and hits[0] in by_ear:
            return Match(self._products[hits[0]], "pinyin", SCORE_PINYIN)
        return self._decide(hits, "contains", SCORE_CONTAINS)

    def _contains_hits(self, folded: str) -> tuple[list[int], set[int]]:
        """`苹果` is in 烟台苹果; `三鲜饭` holds 三鲜. Also says which hits came by ear only.

        One Chinese character may stand for a name (`梨` for 库尔勒香梨), but a one-character
        name found inside longer words must be at least half of them: `烤牛` is 牛, `牛油果`
        is not. A name found inside longer words is weaker than a longer name the words sound
        exactly like: `西三鲜` holds 三鲜 but is 喜三鲜 typed by ear.
        """
        short_ok = len(folded) >= 2 or _is_cjk(folded)
        hits = [
            label
            for label in self._chars
            if (short_ok and folded in label.form)
            or (label.form in folded and (label.size >= 2 or 2 * label.size >= len(folded)))
        ]
        by_ear: set[int] = set()
        if any(label.size < len(folded) and label.form in folded for label in hits):
            sound = _syllables(folded)
            heard = [self._chars[k] for k, s in enumerate(self._sounds) if s.form == sound]
            by_ear = {h.product for h in heard} - {h.product for h in hits}
            hits += heard
        return _contained(folded, hits), by_ear

    def _fuzzy(self, folded: str) -> _Step:
        """A typo that keeps most characters: one rapidfuzz pass over every name and alias."""
        scored = process.extract(
            folded,
            self._choices,
            scorer=fuzz.ratio,
            limit=None,
            score_cutoff=FUZZY_MIN - FUZZY_MARGIN,  # anything lower cannot spoil the margin
        )
        best: dict[int, float] = {}
        for _, score, idx in scored:
            i = self._chars[idx].product
            best[i] = max(score, best.get(i, 0.0))
        if not best:
            return None
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        top, top_score = ranked[0]
        if top_score < FUZZY_MIN:
            return None
        if len(ranked) > 1 and top_score - ranked[1][1] < FUZZY_MARGIN:
            return _AMBIGUOUS
        return Match(self._products[top], "fuzzy", round(float(top_score), 1))

    def _pinyin(self, folded: str) -> _Step:
        """Homophone typos from the pinyin keyboard: `平果` sounds like 苹果, `香焦` like 香蕉."""
        sound = _syllables(folded)
        if sound.count("|") - 1 < PINYIN_MIN_SYLLABLES:
            return None
        same = sorted({label.product for label in self._sounds if label.form == sound})
        if same:  # sounds exactly like a whole name: 平果 is 苹果 even if 烟台苹果 is on offer
            return self._decide(same, "pinyin", SCORE_PINYIN)
        hits = [
            label
            for label in self._sounds
            if sound in label.form or (label.size >= PINYIN_MIN_SYLLABLES and label.form in sound)
        ]
        return self._decide(_contained(sound, hits), "pinyin", SCORE_PINYIN)

    def _decide(self, hits: Sequence[int], how: How, score: float) -> _Step:
        """No hit: no evidence, ask the next rule. One: the match. Several: a tie."""
        if not hits:
            return None
        if len(hits) > 1:
            return _AMBIGUOUS
        return Match(self._products[hits[0]], how, score)


def _cjk_pairs(text: str) -> set[str]:
    return {text[k : k + 2] for k in range(len(text) - 1) if _is_cjk(text[k : k + 2])}


def _sound_of(label: _Label) -> _Label:
    """The label as it sounds, for the pinyin rule."""
    sound = _syllables(label.form)
    return _Label(sound, sound.count("|") - 1, label.product)


def _contained(form: str, hits: list[_Label]) -> list[int]:
    """The products of the hit labels, less those named only inside a more specific label.

    `喜三鲜加辣` holds both 三鲜 and 喜三鲜 and means 喜三鲜: a label found inside the text
    that is itself part of another hit label drops out. Labels that contain the text never
    drop: `苹果` in both 烟台苹果 and 烟台苹果礼盒 is a real tie.
    """
    kept = {
        a.product
        for a in hits
        if not (
            a.form != form
            and a.form in form
            and any(b.size > a.size and a.form in b.form for b in hits)
        )
    }
    return sorted(kept)


def _add(table: dict[str, list[int]], key: str, index: int) -> None:
    bucket = table.setdefault(key, [])
    if index not in bucket:
        bucket.append(index)
