"""A sign-up's entry as the leader reads a roster: who signs up, how many come, what they
remark, and the organiser's words written in a slot (no one signs up there).

A sign-up counts people, so its doubts are about people: a nickname that runs on into a remark
(`ade 见世面`, `Way  just back on time`), a number inside a sentence (`我们三人都在…`), a slot
that holds a notice (`由于晚上下雨，场地改成…`) or tells the group when to meet.
"""

from __future__ import annotations

import re

from handlers.parsing.entry import is_emoji_token

# The family names a Chinese name after an English one starts with (`Kolor 陈家乐`, `Kyle 程珺`,
# `YXM 姚姚`): the commoner ones, without those that are mostly everyday words (和, 时, 成, 文,
# 安, 明, 有…), so that `ade 见世面`, `SlowDown 有车`, `Suika 生虾` read as a remark.
_FAMILY_NAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔汤温康施牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿焦俞柳祝舒"
    "阮柯纪梅童凌毕季裴霍涂苗盛翁冉骆蓝辛靳柴蒙鲍喻祁蒲滕饶牟艾尤穆卓缪褚娄窦戚岑宫费卜晏"
    "卫瞿桂佟臧闵苟邬卞姬仇栾隋刁荣巫寇桑郎甄丛仲虞敖巩佘邝鞠荆冀郁胥储栗鄢谌奚粟冼蔺阚屠"
)
_COMPOUND_FAMILY_NAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "百里")
# Initials (`KK`, `YXM`) are too short to be the whole nickname: the Chinese word after them is
# the rest of it (`KK 秀帅 洗碗`).
_INITIALS = re.compile(r"^[A-Z]{2,3}$")
_HAN_WORD_FIRST = re.compile(r"^([\u4e00-\u9fff]{2,3})(?:\s+|$)")


def chinese_name_after(latin: str, han: str) -> bool:
    """`Kolor 陈家乐`, `KK 秀帅`: the Chinese word after an English name is the same person's
    name when it starts with a family name or follows initials; `ade 见世面` is a remark."""
    return (
        han[:1] in _FAMILY_NAMES
        or han.startswith(_COMPOUND_FAMILY_NAMES)
        or _INITIALS.match(latin) is not None
    )


def rest_of_initials(name: str, rest: str) -> str | None:
    """`KK 秀帅 2，1`: the Chinese word after initials, when more follows it."""
    if _INITIALS.match(name) is None:
        return None
    m = _HAN_WORD_FIRST.match(rest)
    return m.group(1) if m and m.end() < len(rest) else None


# `Way  just back on time`: an English nickname, then lower-case words that say something.
_ENGLISH_REMARK = re.compile(r"^(?P<name>[A-Za-z][\w'’.]*)\s+(?P<said>[a-z]+(?:\s+[a-z]+)+)$")


def english_remark(name: str) -> tuple[str, str] | None:
    """(who, the remark) when a name read as several English words is one word and a sentence
    in lower case (`Lily wang` stays a name: two words)."""
    m = _ENGLISH_REMARK.match(name)
    return (m["name"], m["said"]) if m else None


# `帮Mia接上！`, `帮老王报个名`: someone signing up another person, who is the one coming.
_FOR_SOMEONE = re.compile(
    r"^(?:帮|替|给)(?P<who>[^\s，,。！!]{1,12}?)(?:接上|接个?龙|报个?名|占个?位|报上)[!！~～。.]*$"
)


def signed_up_for(text: str) -> str | None:
    """The person someone else signs up (`帮Mia接上！` → `Mia`), if the slot says so."""
    m = _FOR_SOMEONE.match(text) if text[:1] in "帮替给" else None
    return m["who"] if m else None


# `💪，16号`: an emoji for a nickname, then a date or a number: what they say, not their name.
_EMOJI_THEN_NUMBER = re.compile(r"^(?P<name>\S+)\s+(?P<said>\d\S*)$")


def emoji_then_number(name: str) -> tuple[str, str] | None:
    """(who, the rest) for a nickname of emoji read with a word starting with a digit."""
    m = _EMOJI_THEN_NUMBER.match(name)
    return (m["name"], m["said"]) if m and is_emoji_token(m["name"]) else None


def who_signs_up(name: str | None, rest: str) -> tuple[str | None, str]:
    """Who signs up, and the rest of the slot: a name read too long gives back its remark."""
    if not name:
        return name, rest
    if not rest:
        name = signed_up_for(name) or name
    said = english_remark(name) or emoji_then_number(name)
    if said is None:
        return name, rest
    who, remark = said
    return who, f"{remark} {rest}".strip()


# Words of someone organising, not of a name: talking to everyone (`大家`, `各位`), the event's
# arrangements (`场地`, `集合`, `报名`), a reason or the state of things (`由于`, `目前`,
# `已有`), a clock time (`7点半`, `10:30`, `下午两点`), laughter.
_ORGANISING = re.compile(
    r"大家|各位|你们|咱们|欢迎|期待|接龙|报名|集合|场地|时间|地点|目前|已有|由于|因为|通知|提醒|"
    r"改成|改到|\d{1,2}\s*[:：]\s*\d{2}|\d{1,2}\s*点|"
    r"(?:早上|上午|中午|下午|晚上|今晚|明天|今天)[一二两三四五六七八九十]{1,3}点|^哈{2,}"
)
_FIRST_CLAUSE = re.compile(r"[^\s，,。！!？?；;：:]+")
NOTICE_MIN_CHARS = 8  # `时间管理大师` is a nickname; a notice says more


def is_notice(body: str) -> bool:
    """The slot holds the organiser's words, not a person: its first clause, where a name
    would be, already organises (`由于晚上下雨，场地改成…`, `期待大家的报名，…`,
    `哈哈哈，居然被Q了。那就7点半…`, `目前是两辆车刚好10人 …`)."""
    if len(body) < NOTICE_MIN_CHARS:
        return False
    first = _FIRST_CLAUSE.match(body)
    return first is not None and _ORGANISING.search(first.group(0)) is not None


# A remark telling the group when or where to meet (`6点在a2门口集合`, `10:30到B1即可`,
# `5点40开始组队吧`) or speaking to all of them (`咱们…大家一起分享`): is the writer coming,
# or organising? The leader knows.
_CLOCK = r"(?:\d{1,2}\s*[:：]\s*\d{2}|\d{1,2}\s*点)"
_MEETING = re.compile(
    rf"{_CLOCK}[^，,。！!？?]{{0,12}}(?:集合|到|开始|出发)|(?:咱们|大家).*(?:大家|一起)"
)


def talks_to_group(rest: str) -> bool:
    """A named entry whose words arrange the meeting for everyone rather than sign up."""
    return bool(rest) and _MEETING.search(rest) is not None


# Words of someone not coming after all (`不好意思呀，下午改去玩水啦`, `下次来玩`) without a
# `取消`: out, or still in? The leader knows.
_WITHDRAWING = re.compile(
    r"不好意思|抱歉|下次(?:再|来|一定|玩)|改天|来不了|去不了|不来了|不去了|参加不了|鸽了|去不成|来不成"
    r"|请假|缺席"
)


def withdraws(text: str) -> bool:
    """The slot says sorry or 'next time' instead of signing up (a `取消` says it plainly)."""
    return _WITHDRAWING.search(text) is not None


# What may stand beside a head count and still be only the count (`一家3口`, `带家属3人`).
COUNT_CONTEXT_CHARS = 8
_CLAUSE_MARK = re.compile(r"[，,。！!？?；;]")


def count_in_sentence(rest: str, start: int, end: int) -> bool:
    """A number of people inside a sentence (`我们三人都在小酒馆…`, `报名的五位伙伴，…`,
    `凉一点的话再带一人一起`) talks about people; it is no head count of this entry."""
    around = rest[:start] + rest[end:]
    words = sum(1 for ch in around if ch.isalnum())
    return words > COUNT_CONTEXT_CHARS or _CLAUSE_MARK.search(around) is not None


# A head asking people to pick among options (`投票选择你感兴趣的主题`, `二选一`, `主题一`): the
# number after a name is the option picked, not how many come.
_PICKING = re.compile(
    r"投票|[二两三]选一|选一[个本场次项]|选择.{0,10}(?:主题|方案|选项|场次|路线|时间)|"
    r"(?:主题|方案|选项)[一二三四五1-5]"
)
PICK = "#"  # the answer a roster's entries give after their names: an option's number


# `1️⃣ 布艺刺绣手袋 —— 6月15日`: events numbered in keycaps, each on its day: people pick one.
_DATED_OPTION = re.compile(
    r"^\s*[1-9]\ufe0f?\u20e3.*?(?:\d{1,2}月\d{1,2}[日号]|周[一二三四五六日天]|星期[一二三四五六日天])",
    re.MULTILINE,
)


def roster_answer(header: str) -> str | None:
    """PICK when the head asks each person to pick an option, or numbers events by their days
    (`1️⃣ 手袋 —— 6月15日`, `2️⃣ 香囊 —— 6月19日`); else None."""
    if _PICKING.search(header):
        return PICK
    if "\u20e3" in header and len(_DATED_OPTION.findall(header)) >= 2:
        return PICK
    return None
