"""Everything the bot answers to: each handler file's router, included into one.

A new command is one decorated function in the handler file of its role (resident.py,
leader.py, pickup.py, private.py, admin_groups.py); a new handler file is one more line here.
"""

from __future__ import annotations

from handlers import (
    admin_groups,
    aftersales,
    chain,
    leader,
    ledger,
    payments,
    pickup,
    private,
    recall,
    resident,
)
from handlers.commands import Command, Role
from handlers.router import Router
from models.context import Context
from models.rounds import RoundCache


def build_router() -> Router:
    root = Router().include(
        resident.router,
        pickup.router,
        payments.router,
        aftersales.router,
        ledger.router,
        leader.router,
        private.router,
        admin_groups.router,
        chain.router,
        recall.router,
    )

    @root.command("帮助", Role.RESIDENT, "帮助：看这份说明")
    async def help_text(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
        """The commands this person may use, privately to leaders, in the group otherwise."""
        ctx.reply(
            "help",
            "接龙：复制最新接龙，在最后加一行“序号. 名字 商品数量”。\n" + root.usage(role),
            private=role >= Role.LEADER,
        )

    @root.command("帮助", Role.RESIDENT, "帮助：看这份说明", chat="private")
    async def private_help(ctx: Context, cmd: Command, cache: RoundCache, role: Role) -> None:
        """Asked for by name, help is answered every time (the per-person reply budget still
        bounds it), unlike the hourly hint for anything else said privately."""
        ctx.reply("help", root.private_help(role), private=True)

    return root
