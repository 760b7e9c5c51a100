"""Every group command, with who may use it and what its arguments look like, in one table.

Reading this file tells you everything the bot answers to in a group. A message is a command
only if its first word is a verb here and its arguments fit (`截单了吗？` is chat, not 截单);
with a `#` or `/` in front, a misfit gets a short usage line instead.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.context import Context
from handlers import admin_groups, leader, pickup, private, resident
from handlers.commands import Command, Role
from handlers.round_state import RoundCache

Handler = Callable[[Context, Command, RoundCache, Role], Awaitable[None]]

NUMBERS = re.compile(r"^(?:[#No.第]*\d{1,4}[号条]?)?$")
TIME = re.compile(r"^\d{1,2}[:：点]\d{0,2}分?$")


@dataclass(frozen=True, slots=True)
class Spec:
    verb: str
    role: Role
    handler: Handler
    usage: str
    args: str = "none"  # none | numbers | time | text | words (two or more)

    def fits(self, cmd: Command) -> bool:
        if self.args == "none":
            return not cmd.args
        if self.args == "numbers":
            return all(NUMBERS.match(a) for a in cmd.args)
        if self.args == "words":
            return len(cmd.args) >= 2
        if self.args == "time":
            return len(cmd.args) <= 1 and all(TIME.match(a) for a in cmd.args)
        return True


SPECS: tuple[Spec, ...] = (
    Spec("我的订单", Role.RESIDENT, resident.my_orders, "我的订单：看自己这一团接了什么"),
    Spec("取消", Role.RESIDENT, resident.cancel, "取消 3：取消自己接的第3条", "numbers"),
    Spec("改", Role.RESIDENT, resident.edit, "改 3 苹果3份：把自己接的第3条改成…", "words"),
    Spec(
        "已取", Role.RESIDENT, pickup.picked, "已取：取完货告诉团长（团长：已取 3 5 7）", "numbers"
    ),
    Spec("帮助", Role.RESIDENT, resident.help_text, "帮助：看这份说明"),
    Spec("截单", Role.LEADER, leader.close_now, "截单：马上截单并发最终名单"),
    Spec("截单时间", Role.LEADER, leader.move_cutoff, "截单时间 22:30：改截单时间", "time"),
    Spec("重开", Role.LEADER, leader.reopen, "重开 23:00：重新打开刚截单的团", "time"),
    Spec("接龙", Role.LEADER, leader.show_chain, "接龙：发一份完整的最新接龙"),
    Spec("统计", Role.LEADER, leader.show_tally, "统计：私聊发本群这一团的汇总"),
    Spec("到货", Role.LEADER, pickup.arrived_command, "到货：通知大家来取货"),
    Spec("开团", Role.LEADER, leader.open_deal, "开团 团购key：本群马上开这个团购", "text"),
    Spec("删", Role.LEADER, leader.remove_entry, "删 3：删掉第3条（任何人的）", "numbers"),
    Spec("代接", Role.LEADER, leader.order_for, "代接 王奶奶 苹果2份：替人接一条", "words"),
)
BY_VERB = {s.verb: s for s in SPECS}
VERBS = frozenset(BY_VERB)


def usage_for(role: Role) -> str:
    return "\n".join(s.usage for s in SPECS if s.role <= role)


PRIVATE_SPECS: tuple[Spec, ...] = (
    Spec("汇总", Role.ADMIN, private.summary, "汇总 2026-11-23：当天各团汇总与团长排行", "text"),
    Spec("导出", Role.LEADER, private.export, "导出 2026-11-23：发回当天的配送清单 xlsx", "text"),
    Spec("团长", Role.ADMIN, private.leader_detail, "团长 wxid_xxx [日期]：一位团长的明细", "text"),
    Spec("月结", Role.ADMIN, private.monthly, "月结 2026-11：各团长的月度对账", "text"),
    Spec("图表", Role.ADMIN, private.chart, "图表 7：最近7天各团长每日销售额（图片）", "numbers"),
    Spec("推送", Role.ADMIN, private.push, "推送 团购key：把 deals 文件里的团购马上推送", "text"),
    Spec("统计", Role.LEADER, private.leader_tally, "统计：今天你的群的汇总"),
    Spec("绑定", Role.ADMIN, admin_groups.bind, "绑定 群id 团长id [线路] [群名]：新增群", "words"),
    Spec("换团长", Role.ADMIN, admin_groups.change_leader, "换团长 群 团长id：换团长", "words"),
    Spec("暂停", Role.ADMIN, admin_groups.pause, "暂停 群：机器人在该群暂停", "text"),
    Spec("恢复", Role.ADMIN, admin_groups.resume, "恢复 群：恢复", "text"),
)
PRIVATE_BY_VERB = {s.verb: s for s in PRIVATE_SPECS}
PRIVATE_VERBS = frozenset(PRIVATE_BY_VERB)
