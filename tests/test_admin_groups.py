"""Admins manage groups in chat: bind a new one, replace a leader, pause and resume.

Changes live in the database: a second bot process on the same database sees them at its
next tick. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from bot.app import build_app
from models.clock import ManualClock
from tests.chains import Chain
from tests.chat import ADMIN, LEADER, ROOM, ChatHarness
from tests.conftest import TZ, make_config, split_schema


async def test_bind_change_leader_pause_and_resume(bot: ChatHarness, db_url: str) -> None:
    await bot.post(
        "管理员", "绑定 new@chatroom wxid_new_lead 南线 新建小区", room=None, sender=ADMIN
    )
    assert "已绑定「新建小区」" in bot.private_texts(ADMIN)[-1]
    await bot.post("新团长", Chain().text, room="new@chatroom", sender="wxid_new_lead")
    await bot.post("张三", Chain().add("张三 苹果1份").text, room="new@chatroom")
    rounds = {r["room"]: r for r in await bot.rounds()}
    assert [o["name"] for o in rounds["new@chatroom"]["orders"]] == ["张三"]

    await bot.post("李姐", "大家好", sender=LEADER)  # the leader's display name is 李姐
    await bot.post("管理员", "换团长 幸福里3栋团购群 wxid_new_li", room=None, sender=ADMIN)
    # By name, never by contact id: the old leader as their messages call them, the new one
    # (who has not spoken yet) by the group.
    assert "团长改为 幸福里3栋团购群团长（原 李姐）" in bot.private_texts(ADMIN)[-1]
    await bot.post("团长", "#截单", sender=LEADER)  # the old leader is a resident now
    assert "只有团长可以" in bot.group_texts()[-1]

    # A second process on the same database picks the changes up at its next tick.
    base, schema = split_schema(db_url)
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=TZ), TZ)
    other = ChatHarness(build_app(make_config(base), clock, pg_schema=schema), clock)
    await other.app.start()
    try:
        assert other.app.groups.get(ROOM).leader == "wxid_new_li"  # type: ignore[union-attr]
        assert "new@chatroom" in other.app.groups

        await bot.post("管理员", "暂停 新建小区", room=None, sender=ADMIN)
        await other.at("09:01")
        assert other.app.groups.get("new@chatroom").paused  # type: ignore[union-attr]
    finally:
        await other.app.close()
    await bot.post("李四", Chain().add("张三 苹果1份", "李四 香蕉1把").text, room="new@chatroom")
    rounds = {r["room"]: r for r in await bot.rounds()}
    assert len(rounds["new@chatroom"]["orders"]) == 1  # paused: stored, not counted
    await bot.post("管理员", "恢复 new@chatroom", room=None, sender=ADMIN)
    await bot.post("李四", Chain().add("张三 苹果1份", "李四 香蕉1把").text, room="new@chatroom")
    rounds = {r["room"]: r for r in await bot.rounds()}
    assert len(rounds["new@chatroom"]["orders"]) == 2

    await bot.post("张三", "暂停 new@chatroom", room=None)
    assert "只有管理员可以" in bot.private_texts("wxid_张三")[-1]


async def test_a_new_leader_goes_by_the_name_the_admin_gave_until_they_speak(
    bot: ChatHarness,
) -> None:
    await bot.post("李姐", "大家好", sender=LEADER)
    await bot.post("管理员", "换团长 幸福里3栋团购群 wxid_new_liu 刘姐", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1] == "「幸福里3栋团购群」的团长改为 刘姐（原 李姐）。"
    await bot.post("管理员", "团长 刘姐", room=None, sender=ADMIN)  # kept in the database
    assert bot.private_texts(ADMIN)[-1].startswith("【刘姐 2026-11-23】幸福里3栋团购群")
    await bot.post("小刘", "大家好", sender="wxid_new_liu")  # her own name from now on
    await bot.post("管理员", "团长 小刘", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1].startswith("【小刘 2026-11-23】幸福里3栋团购群")
    await bot.post("管理员", "换团长 幸福里3栋团购群 wxid_new_wu", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1] == (
        "「幸福里3栋团购群」的团长改为 幸福里3栋团购群团长（原 小刘）。"  # no name given
    )
