"""The bot over the real wire: `groupbuy run` against a wechaty-puppet-service gateway (node,
serving wechaty-puppet-mock), gRPC on loopback. See tests/wire/harness.py."""

from __future__ import annotations

import time

from tests.wire.harness import (
    HEARTBEAT_S,
    LEADER,
    LEADER2,
    LI,
    ROOM,
    WATCHDOG_S,
    ZHANG,
    Bot,
    Gateway,
    wait_for,
)

HEAD = "\n".join(
    [
        "#接龙",
        "水果团 自提：明天下午3点后 幸福里3栋门口",  # no cutoff: the config's, hours away
        "1号 烟台苹果 12.8元/3斤",
        "2号 海南香蕉 9.9元/把",
    ]
)


def test_the_bot_logs_in_and_keeps_wechatys_files_in_its_data_dir(
    bot: Bot, gateway: Gateway
) -> None:
    bot.start()
    took = bot.wait_logged_in()
    assert took < 15
    assert gateway.state()["starts"] == 1
    assert (bot.tmp / "data" / "wechaty").is_dir()
    assert not (bot.work / ".wechaty").exists()
    assert list(bot.work.iterdir()) == []


def test_a_days_chain_and_commands_over_grpc(bot: Bot, gateway: Gateway) -> None:
    bot.start()
    bot.wait_logged_in()

    gateway.say(LEADER, HEAD, room=ROOM)
    opened = gateway.wait_text(LEADER, "已开团")
    assert "水果团" in opened and "烟台苹果" in opened
    gateway.say(ZHANG, f"{HEAD}\n1. 张三 苹果2份", room=ROOM)
    gateway.say(LI, f"{HEAD}\n1. 张三 苹果2份\n2. 李四 香蕉1把", room=ROOM)
    wait_for(lambda: len(bot.posters()) == 2, 15, "two orders recorded")
    assert bot.posters() == [ZHANG, LI]

    gateway.say(ZHANG, "我的订单", room=ROOM)
    mine = wait_for(
        lambda: [t for t in gateway.sent() if "苹果" in t["text"] and "张三" in t["text"]],
        15,
        "张三's orders",
    )
    assert "香蕉" not in mine[0]["text"]

    gateway.say(LEADER, "截单", room=ROOM)
    final = gateway.wait_text(ROOM, "李四")
    assert "张三" in final
    [round_] = bot.orders()  # as the platform reads them
    assert round_["room"] == ROOM and round_["status"] == "closed"
    assert [(o["name"], o["poster"]) for o in round_["orders"]] == [("张三", ZHANG), ("李四", LI)]
    assert gateway.refused() == []
    assert bot.reconnect_attempts() == 0


def test_heartbeats_keep_a_quiet_connection_up(bot: Bot, gateway: Gateway) -> None:
    bot.start()
    bot.wait_logged_in()
    before = gateway.state()
    quiet = 2.5 * WATCHDOG_S  # two and a half watchdog periods without a message
    time.sleep(quiet)
    after = gateway.state()

    assert after["heartbeats"] - before["heartbeats"] >= quiet / HEARTBEAT_S - 2
    assert bot.reconnect_attempts() == 0, bot.log()[-3000:]
    assert after["starts"] == before["starts"] == 1  # one connection all along
    assert bot.logins() == 1
    assert gateway.texts_to(LEADER) == [] and gateway.texts_to(LEADER2) == []  # no away notice
    gateway.say(LEADER, HEAD, room=ROOM)
    gateway.wait_text(LEADER, "已开团")


def test_an_outage_longer_than_the_watchdog_is_survived(bot: Bot, gateway: Gateway) -> None:
    bot.start()
    bot.wait_logged_in()
    gateway.say(LEADER, HEAD, room=ROOM)
    gateway.wait_text(LEADER, "已开团")

    gateway.stop_grpc()
    outage = 1.5 * WATCHDOG_S
    time.sleep(outage)
    assert bot.running(), bot.log()[-3000:]
    attempts = bot.reconnect_attempts()
    assert 3 <= attempts <= 8, bot.log()[-3000:]  # retried, backing off (1, 2, 4, 8 s …)
    gateway.start_grpc()

    took = bot.wait_logged_in(count=2, timeout=WATCHDOG_S + 10)
    assert took <= WATCHDOG_S + 2  # the back-off never waits longer than the watchdog
    for leader in (LEADER, LEADER2):
        gateway.wait_text(leader, "断开")
    time.sleep(3)  # no second notice follows
    for leader in (LEADER, LEADER2):
        assert len([t for t in gateway.texts_to(leader) if "断开" in t]) == 1
    assert gateway.refused() == []  # nothing was sent before the login

    gateway.say(ZHANG, f"{HEAD}\n1. 张三 苹果2份", room=ROOM)
    wait_for(bot.posters, 15, "the order")
    assert bot.posters() == [ZHANG]
    assert bot.running()


def test_the_bot_waits_for_a_gateway_that_is_down_at_start(bot: Bot, gateway: Gateway) -> None:
    gateway.stop_grpc()
    bot.start()
    wait_for(lambda: bot.reconnect_attempts() >= 3 or not bot.running(), 30, "three attempts")
    time.sleep(2)
    assert bot.running(), bot.log()[-3000:]
    assert bot.logins() == 0
    gateway.start_grpc()
    bot.wait_logged_in(timeout=WATCHDOG_S + 10)
    time.sleep(2)
    assert gateway.texts_to(LEADER) == []  # it never came up before: nobody is told


def test_ctrl_c_stops_within_seconds_every_time(bot: Bot, gateway: Gateway) -> None:
    stops: list[float] = []
    for run in range(6):
        bot.start()
        bot.wait_logged_in()
        if run % 2:  # every other run: after a reconnection
            gateway.stop_grpc()
            wait_for(bot.reconnect_attempts, 10, "a reconnection attempt")
            gateway.start_grpc()
            bot.wait_logged_in(count=2, timeout=WATCHDOG_S + 10)
        took, code = bot.interrupt()
        assert code == 0, bot.log()[-3000:]
        stops.append(took)
    # and once while the gateway is away
    gateway.stop_grpc()
    bot.start()
    wait_for(lambda: bot.reconnect_attempts() >= 2, 15, "reconnection attempts")
    took, code = bot.interrupt()
    assert code == 0
    stops.append(took)
    gateway.start_grpc()
    print("stop latencies (s):", [round(s, 2) for s in stops])
    assert max(stops) < 5, stops
