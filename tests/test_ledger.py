"""The leader's commission ledger: earned per round at 截单, refunds deducted, settlements
recorded by an admin in private chat; 钱包 shows the balance and the history. Exact fen."""

from __future__ import annotations

from pathlib import Path

from tests.chains import Chain
from tests.chat import ADMIN, LEADER, ROOM, ChatHarness
from tests.conftest import make_config, make_harness


async def test_commission_refunds_and_a_settlement(sqlite_bot: ChatHarness) -> None:
    bot = sqlite_bot
    await bot.post("王姐", "大家好", sender=LEADER)  # the leader's display name, as WeChat shows it
    await bot.post("王姐", Chain().text, sender=LEADER)
    chain = Chain().add("张三 苹果2份", "李四 香蕉3把")
    await bot.post("张三", Chain().add("张三 苹果2份").text)
    await bot.post("李四", chain.text)
    await bot.at("22:00")  # ¥25.60 + ¥29.70 = ¥55.30 at 10%: ¥5.53
    await bot.post("王姐", "钱包", room=None, sender=LEADER)
    wallet = bot.private_texts(LEADER)[-1]
    assert wallet.startswith("【钱包】王姐 佣金余额 ¥5.53\n11-23 佣金 +¥5.53 11月23日 水果团")
    assert wallet.endswith("销售¥55.30")

    await bot.post("王姐", "退款 2 9.90", sender=LEADER)  # commission on ¥9.90 is ¥0.99
    await bot.post("管理员", "月结 2026-11", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1].endswith("退款 ¥9.90，佣金余额 ¥4.54")
    await bot.post("王姐", "重开", sender=LEADER)
    await bot.post("王姐", "截单", sender=LEADER)  # closed again: the round's line, not a second
    await bot.post("张三", "结算 王姐 1", room=None)
    assert "只有管理员可以" in bot.private_texts("wxid_张三")[-1]
    await bot.post("管理员", "结算 赵姐 1.00", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1] == "没有记下：找不到团长“赵姐”。团长：王姐"
    await bot.post("管理员", "结算 王姐 1.001", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1].startswith("没有记下：金额要写成 120 或 120.50")
    await bot.post("管理员", "结算 王姐 4.00", room=None, sender=ADMIN)
    assert bot.private_texts(ADMIN)[-1] == "已记结算：王姐 ¥4.00，余额 ¥0.54。"

    await bot.post("王姐", "钱包", room=None, sender=LEADER)
    lines = bot.private_texts(LEADER)[-1].splitlines()
    assert lines[0] == "【钱包】王姐 佣金余额 ¥0.54"
    assert [ln.split(" ")[1:3] for ln in lines[1:]] == [
        ["结算", "-¥4.00"],
        ["退款扣佣", "-¥0.99"],
        ["佣金", "+¥5.53"],
    ]


async def test_a_settlement_finds_the_leader_by_the_configs_name(tmp_path: Path) -> None:
    """The operator named the leader 王姐 in the config; WeChat shows her as 小王."""
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    group = {"room": ROOM, "topic": "幸福里3栋团购群", "leader": LEADER, "leader_name": "王姐"}
    bot = await make_harness(url, make_config(url, groups=[group]))
    try:
        await bot.post("小王", Chain().text, sender=LEADER)
        await bot.post("张三", Chain().add("张三 苹果2份").text)
        await bot.at("22:00")  # ¥25.60 at 10%: ¥2.56
        await bot.post("管理员", "结算 王姐 2.00", room=None, sender=ADMIN)
        assert bot.private_texts(ADMIN)[-1] == "已记结算：王姐 ¥2.00，余额 ¥0.56。"
        await bot.post("管理员", "结算 小王 0.50", room=None, sender=ADMIN)  # not the name shown
        assert bot.private_texts(ADMIN)[-1] == "没有记下：找不到团长“小王”。团长：王姐"
        await bot.post("小王", "钱包", room=None, sender=LEADER)
        assert bot.private_texts(LEADER)[-1].startswith("【钱包】王姐 佣金余额 ¥0.56\n")
    finally:
        await bot.app.close()
