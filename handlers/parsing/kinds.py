"""What kind of chain a message is: people ordering goods, signing up, checking in, reporting.

Only order chains make orders; the bot opens no round for the others. The head's words decide
first (a menu means goods; 打卡 means a check-in), then the entries as a population: most
entries naming goods or quantities make an order chain, bare names a sign-up.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from handlers.parsing.entry import Reading, is_tally
from handlers.parsing.menu import asks_what_each_brings

_CHECKIN = re.compile(r"打卡|签到|第\s*\d+\s*天|日报|健康码|体温|每日一|晨读|早起")
_REPORT = re.compile(
    r"销售额|业绩|营业额|报数|战报|销量|营收|汇报数据|数据汇报|门店|型号|首销|台数|"
    r"情况统计|数据统计|统计表|今日统计|今天统计|单量|团长.{0,4}统计|完成情况|配送情况|送货情况"
)
# Figures an entry reports (`今天问询30次，成交5本，当天收入125元，累计248本`): a report.
# `32单 1860元`: orders taken and their sum, per leader or per building.
_FIGURES = re.compile(r"收入|成交|累计|问询|销量|业绩|营业额|完成率|达成率|\d\s*单(?![价位独])")
_OTHER = re.compile(r"互推|互关|互粉|互赞|链接|公众号")
# A vote (`投票选择你感兴趣的主题`) is another kind, unless the head asks people to sign up too:
# then the vote is part of signing up for the event (`接龙报名`, each entry a topic's number).
_VOTE = re.compile(r"投票|点赞")
# The head's `例` line shows what an entry says (`例 小K+起点志愿者`: a name and a role), even
# on a one-line head; it outweighs the duties the head lists (`负责签到`).
_EXAMPLE_LINE = re.compile(r"(?:^|\s)[（(【\[]?例\s*[:：\s)）】\]]\s*(?P<example>[^\n]+)")
_LINK = re.compile(r"https?://|www\.")
# A price per piece (`0.9/个`, `每台80`); a price per person (`99/人`) is an event's fee.
_PER_PIECE = (
    r"\d\s*(?:元|块|r|R)?\s*(?:/|每|一)\s*(?:个|份|斤|盒|袋|箱|瓶|只|杯|块|包|台|把)"
    r"|每(?:台|个|份|斤|盒|箱|瓶)\s*\d"
)
_ORDER = re.compile(
    r"团购|开团|拼团|跟团|拼单|代购|订购|预订|预定|下单|订餐|点餐|外卖|菜单|价格|单价|\d\s*元|元\s*/|¥|￥|"
    r"斤|箱|份|盒|水果|蔬菜|午餐|晚餐|午饭|晚饭|早餐|便当|套餐|奶茶|咖啡|蛋糕|面包|鸡蛋|大米|"
    r"截单|自提|提货|取货|配送|到货|发货|售完|帮带|代买|组团|快餐|一起来点|越多越划算|越多越便宜|"
    r"(?<![重主必只不])要的|" + _PER_PIECE
)
# A price is a number before 元 (`双元制` names no price), or per piece (`0.9/个`, `3.5r一个`).
_STRONG_ORDER = re.compile(
    rf"团购|开团|拼团|下单|订餐|点餐|价格|单价|\d\s*元|元\s*/|¥|￥|菜单|{_PER_PIECE}"
)
_SIGNUP = re.compile(
    r"报名|参加|参与|出席|人数|名单|确认|活动|聚餐|聚会|比赛|羽毛球|篮球|足球|乒乓|爬山|徒步|"
    r"会议|培训|讲座|志愿|值班|角色|签名|团建|出游|旅游|拼车|上课|课程|听课|演讲|到场|座位|"
    r"跑|配速|训练|集合|运动|骑行|健身|瑜伽|游泳|打球|约球|场地|组队|分组|"
    r"场次|上午场|下午场|晚场|夜场|补位|替补|桌游|剧本杀|狼人杀|血染|人封顶|一人一道|一人一菜|每人带|"
    r"食堂|[酒饭牌赛]局|\d人局|上车|游戏|扑克|锦标|教学|召集|凑一车|打车|拼车|一起做|建群|分享会|众筹|"
    r"舞会|酒会|派对|[Pp]arty|工作坊|议题|志愿者|招募|正念|冥想|聚聚|观赛|观摩|观影|放映|摆摊"
)
# Entries that report a status (`已发送`, `已完成`, `收到`): a report or a check-in, no goods.
# Not `已交`: after an order it says the money is paid.
_STATUS = re.compile(
    r"已发送|已完成|已打卡|已确认|已阅|已读|收到|已提交|已签|已报|已发|已做|完成|已送|送完|已配送|已派送"
)
# A day's log (`7:20-8:45 起床，跳绳`, `早饭+daily plan`): a check-in, whatever the head says.
_DAY_LOG = re.compile(
    r"\d{1,2}\s*[:：]\s*\d{2}|\d{1,2}(?:\.\d{1,2})?\s*-\s*\d{1,2}(?:[.:：]\d{2})?(?!\d)|\d+点|"
    r"早上|早餐|早饭|起床|洗漱|学习|读书|跑步|运动|上班|通勤|睡觉|打卡|完成|在写|写了|看了"
)
LOG_MIN_CHARS = 10
# What a gym or study group logs for the day (`背`, `有氧8km`, `单词752`, `学习3h`): a check-in.
_ACTIVITY = re.compile(
    r"\d\s*(?:h|hr|hrs|min|km|公里|小时|分钟|天|步|页|章)\b|有氧|无氧|休息|健身|锻炼|训练|卷腹|"
    r"爬楼|爬坡|骑行|徒步|游泳|跑步|拉伸|核心|单词|背书|阅读|读书|看书|听书|学习|多邻国|英语|"
    r"练琴|刷题|^[胸背肩腿臀腹]+$|[胸背肩腿臀腹][+➕][胸背肩腿臀腹]|[二三]头",
    re.IGNORECASE,
)
# A roll call's answer after each name (`王墨宸无`, `李四 收到`): the word most entries end with.
_ANSWER = re.compile(r"(无|没有|收到|已阅|已读|已报|已填)\s*[，,。.!！?？]?\s*$")
_HEAD_UNITS = frozenset({"人", "位", "口", "个人", "名", "大人"})
# `林俊杰 Jackie`, `文逸俊 - Caesar`: an English name after the Chinese one, not goods.
_GIVEN_NAME = re.compile(r"^[-–—_＋+\s]*[A-Za-z][A-Za-z'’.]*$")
HAN_NAME = re.compile(r"^[\u4e00-\u9fff]{2,3}$")  # `Kolor 陈家乐`: the Chinese name after it


# Words of talk, not of goods: an entry saying `我来`, `好久没进城了`, `千万人 吾往矣` joins.
_TALKING = re.compile(r"[我你他她们了吧啊呀哦噢嘛呢吗喽啦哈矣去想可都也就还很]")


def _remark(text: str) -> bool:
    """An unquantified word after a name that is talk (`我来`, `凑个热闹`), not goods."""
    return len(text) > 8 or _TALKING.search(text) is not None


def _person(name: str | None, text: str, explicit: bool) -> bool:
    """The item read is the rest of a person's name, English or Chinese, not goods."""
    if explicit:
        return False
    return bool(_GIVEN_NAME.match(text)) or bool(
        name and _GIVEN_NAME.match(name) and HAN_NAME.match(text)
    )


@dataclass(slots=True)
class KindCounts:
    """What the entries say about the chain's kind, summed over entries: a repost adds the
    entries it brings to the counts of the post before it (chain_parser.py) instead of
    reading every entry again."""

    n: int = 0  # entries counted
    links: int = 0  # holding a link
    logs: int = 0  # a day's log
    activity: int = 0  # a gym's or a study group's log
    status: int = 0  # a status (`已发送`)
    figures: int = 0  # two kinds of figures or more
    goods: int = 0  # naming goods or a quantity of something other than people
    heads: int = 0  # a head count (`2人`)
    counts: int = 0  # a bare count after the name (`张三 2`): portions, or places
    quantified: int = 0  # a count of something other than people (`2份`, `苹果2斤`, `张三 2`)
    tallies: int = 0  # a run of one emoji (`💩💩💩`): a count kept day by day
    answers: Counter[str] = field(default_factory=Counter)  # each roll-call answer's entries

    def add(self, read: Iterable[Reading]) -> None:
        for r in read:
            rest = r.rest
            self.n += 1
            self.links += _LINK.search(rest) is not None
            self.logs += len(rest) >= LOG_MIN_CHARS and _DAY_LOG.search(rest) is not None
            self.activity += _ACTIVITY.search(rest) is not None
            self.status += _STATUS.search(rest) is not None
            self.figures += len(set(_FIGURES.findall(rest))) >= 2
            self.tallies += bool(rest) and not rest[0].isalnum() and is_tally(rest)
            self.goods += any(
                (
                    it.text is not None
                    and not it.text.isdigit()
                    and not _person(r.name, it.text, it.explicit)
                    and (it.explicit or not _remark(it.text))
                )
                or (it.explicit and it.unit not in _HEAD_UNITS)
                for it in r.items
            )
            self.heads += any(it.unit in _HEAD_UNITS for it in r.items)
            self.quantified += any(it.explicit and it.unit not in _HEAD_UNITS for it in r.items)
            self.counts += any(
                (it.text is not None and it.text.isdigit()) or (it.explicit and it.unit is None)
                for it in r.items
            )
            m = _ANSWER.search(f"{r.name or ''} {rest}")
            if m:
                self.answers[m.group(1)] += 1

    def copy(self) -> KindCounts:
        return replace(self, answers=self.answers.copy())

    def roll_call_answer(self) -> str | None:
        """The answer at least half the entries end with (`无` to `有无境外返郑人员`), if any."""
        if self.n < 4:
            return None
        # the first answer met wins a tie: Counter keeps the order answers were first met
        best = max(self.answers.items(), key=lambda kv: kv[1], default=None)
        return best[0] if best and 2 * best[1] >= self.n else None


_PRICED_HEAD = re.compile(r"\d\s*(?:元|块)|[¥￥]\s*\d")


def detect_kind(header: str, counts: KindCounts | None, *, has_menu: bool) -> str:
    """order | signup | checkin | report | other. The counts may be None only with a menu."""
    if has_menu:
        return "order"
    assert counts is not None, "a chain without a menu is judged by its entries"
    if asks_what_each_brings(header) and not _PRICED_HEAD.search(header):
        return "signup"  # `每家带一个菜，写清楚几个人`: a potluck, people and their dishes
    example = _EXAMPLE_LINE.search(header) if "例" in header else None
    shown = example["example"] if example else ""
    if _CHECKIN.search(header) and (_CHECKIN.search(shown) or not _SIGNUP.search(shown)):
        return "checkin"
    n = counts.n
    signup_words = _SIGNUP.search(header) is not None
    if (
        (n and 2 * counts.links >= n)
        or _OTHER.search(header)
        or (not signup_words and _VOTE.search(header))
    ):
        return "other"
    if _REPORT.search(header):
        return "report"
    order_head = _ORDER.search(header) is not None
    if n and 2 * counts.logs >= n and not _STRONG_ORDER.search(header):
        return "checkin"
    if n and 2 * counts.activity >= n and not order_head:
        return "checkin"
    if n and 2 * counts.tallies >= n and not order_head:
        return "checkin"  # `yuxii3 💩💩💩💩`: each one's tally, kept in the chain
    if n and 2 * counts.status >= n:
        return "report"
    if n and 2 * counts.figures >= n:
        return "report"
    goods = counts.goods
    if 2 * goods < n and counts.roll_call_answer() is not None:
        return "checkin"  # `王墨宸无`, `李四 收到`: a roll call of answers, no goods
    heads = counts.heads
    order_words = order_head
    if order_words and not signup_words:
        return "order"
    if signup_words and not order_words:
        return "signup"
    if order_words and n and 2 * counts.quantified < n and not _STRONG_ORDER.search(header):
        # `聚聚晚餐`, `一起做清蒸小龙虾…买菜（1-2人）`: an event with a meal, no price; most
        # entries count nothing (`阿瑞 倒酱油`, `律也 买菜`): people, their words remarks or roles
        return "signup"
    if n and 2 * goods >= n:
        return "order"
    if n and not signup_words and not heads and 2 * (goods + counts.counts) >= n:
        return "order"  # `#接龙 车厘子` over `张三 1`, `李四 2`: portions, as nothing says people
    if n and (heads or 4 * goods < n):  # a roster: a few names look like words (`Kolor 陈家乐`)
        return "signup" if header.strip() or heads else "order"
    return "order"
