"""The parser against the real-chain corpus (tests/corpus/real), scored the way the leader
would judge it: right, flagged for review, or silently wrong.

The floors are ratchets: they sit at what the parser reaches today, so a change that reads
fewer real chains right, or lets more through wrong without a flag, fails here first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.tools.corpus_eval import Report, Score, evaluate, score_file

CORPUS = Path(__file__).resolve().parent / "corpus"
SAMPLES = Path(__file__).resolve().parent / "fixtures" / "jielong"
# The 60 messages the floors below were set on; held_out2 is scored on its own (it was read
# blind much worse, and its floors rise as the parser learns its shapes).
FIRST_GATHERINGS = ("github", "github2", "held_out")


def first_gatherings() -> Report:
    merged = Report()
    for folder in FIRST_GATHERINGS:
        part = evaluate(CORPUS / "real" / folder)
        merged.overall.add(part.overall)
        for kind, score in part.by_kind.items():
            merged.by_kind.setdefault(kind, Score()).add(score)
    return merged


def test_real_order_chains_are_right_or_flagged() -> None:
    """382 of 384 real order entries right, 2 flagged, none silently wrong (the salad a
    set-meal head never offers is read as a side since): at least 97% right, at most 1%
    silent, and few enough flagged that a leader reads the review list."""
    report = first_gatherings()
    order = report.by_kind["order"]
    assert order.entries >= 384 and report.overall.files >= 60
    assert order.right >= 382
    assert order.silent == 0
    assert order.flagged / order.entries <= 0.01
    assert report.overall.right / report.overall.entries >= 0.979
    assert report.overall.silent <= 18 and report.overall.lost == 0


def test_held_out_chains_read_blind_stay_right() -> None:
    """Chains gathered after the parser was written, from an origin it had not seen."""
    report = evaluate(CORPUS / "real" / "held_out")
    order, figures = report.by_kind["order"], report.by_kind["report"]
    assert order.entries >= 41 and order.right == order.entries
    assert figures.entries >= 97 and figures.right >= 85 and figures.kind_right == 2
    roll_call = report.by_kind["checkin"]
    assert roll_call.entries >= 63 and roll_call.right >= 62 and roll_call.kind_right == 1


def test_second_held_out_gathering_read_blind() -> None:
    """21 chains from four more origins, read blind: 101 of 396 entries right (12 of 15 order
    entries), 14 flagged. Floors at what the parser reaches now (14 order entries right, the
    15th flagged); raise them, never lower."""
    report = evaluate(CORPUS / "real" / "held_out2")
    order = report.by_kind["order"]
    assert report.overall.files == 21 and report.overall.entries == 396
    assert order.entries == 15 and order.right >= 14 and order.silent == 0
    assert report.overall.right >= 394 and report.overall.lost == 0


def test_third_held_out_gathering_read_blind() -> None:
    """24 chains from three more origins (22 from one village's chat record, one-line chains of
    neighbours buying for each other), read blind: 65 of 196 order entries right, 114 silently
    wrong. Raised by menus numbered with dashes, one-line heads with their own rules, drink
    temperatures as notes, per-piece prices, sign-ups' remarks after a name; never lower
    these."""
    report = evaluate(CORPUS / "real" / "held_out3")
    order = report.by_kind["order"]
    assert report.overall.files == 24 and order.entries == 196
    assert order.right >= 183 and order.silent == 0 and report.overall.lost == 0
    assert report.overall.right >= 343 and report.overall.kind_right == 24


def test_fourth_held_out_gathering_read_blind() -> None:
    """33 more chains of the same village, read blind: 74 of 83 order entries right and 2
    silently wrong, but the kind wrong for 19 of 33 (paid events, canteen tables and game
    nights read as orders; a group buy of air-conditioner cleaning read as a sign-up). Raised
    by head words for fees per person and services per unit, rosters' closing slots, and
    sign-ups' rules (an event with a meal and no price, prize money, remarks after a name)."""
    report = evaluate(CORPUS / "real" / "held_out4")
    order = report.by_kind["order"]
    assert report.overall.files == 33 and report.overall.entries == 209
    assert order.entries == 83 and order.right >= 81 and order.silent == 0
    assert report.overall.kind_right >= 33 and report.overall.right >= 199
    assert report.overall.lost == 0


def test_fifth_held_out_gathering_read_blind() -> None:
    """31 more chains of that village, read blind: 47 of 56 order entries right (4 silent: a
    helper's own line and a closing read as dishes, thanks kept in a dish); sign-ups 226 of 303
    right, 9 kinds wrong (activities: a dance party, a workshop, volunteers wanted). Raised by
    sign-ups' rules: kinds of events, remarks after a name, notices in a slot."""
    report = evaluate(CORPUS / "real" / "held_out5")
    order = report.by_kind["order"]
    assert report.overall.files == 31 and report.overall.entries == 359
    assert order.entries == 56 and order.right == 56
    assert report.overall.kind_right >= 31 and report.overall.right >= 350
    assert report.overall.lost == 0


def test_sixth_held_out_gathering_read_blind() -> None:
    """11 chains from two origins not used before (a tally of 💩 per friend, a community's
    sign-ups, an organiser's template), read blind: 12 of 19 entries right, 7 silently wrong,
    2 extra. Raised by tallies of one emoji, `带两个人`, events numbered by their days, and a
    list above the head's example line."""
    report = evaluate(CORPUS / "real" / "held_out6")
    assert report.overall.files == 11 and report.overall.entries == 19
    assert report.overall.right == 19 and report.overall.silent == 0
    assert report.overall.extra == 0 and report.overall.kind_right >= 10


def test_every_real_order_entry_is_right_or_flagged() -> None:
    """All 180 real messages: 717 of 734 order entries right, 17 flagged, none silently wrong."""
    report = evaluate(CORPUS / "real")
    order = report.by_kind["order"]
    assert order.entries == 734 and order.right >= 717 and order.silent == 0
    assert report.overall.lost == 0 and report.overall.right >= 2047


def test_every_real_sign_up_is_right_or_flagged() -> None:
    """All 77 real sign-ups: 777 of 796 entries right, 8 flagged, 11 silently wrong (701 right
    and 78 silent of the first 782 before sign-ups had rules of their own); all but one (an
    empty chain) told a sign-up."""
    report = evaluate(CORPUS / "real")
    signup = report.by_kind["signup"]
    assert signup.entries == 796 and signup.right >= 777 and signup.silent <= 11
    assert signup.kind_right >= 76 and signup.files == 77 and report.overall.kind_right >= 177
    assert signup.extra == 0


def test_every_real_chain_kind_is_told_apart() -> None:
    report = first_gatherings()
    assert report.by_kind["order"].kind_right == report.by_kind["order"].files
    assert report.overall.kind_right >= 58


def invented(first: int, last: int) -> Report:
    """Score the invented chains numbered first..last: the batches were read blind at
    different times, so each keeps its own figures."""
    folder = CORPUS / "invented"
    report = Report()
    for line in (folder / "expected.jsonl").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        expected = json.loads(line)
        if first <= int(expected["file"][3:6]) <= last:
            text = (folder / expected["file"]).read_text("utf-8")
            score_file(expected["file"], text, expected, report)
    return report


def test_invented_shapes_from_the_issue() -> None:
    report = invented(1, 100)
    assert report.overall.files == 30 and report.overall.entries == 155
    assert report.overall.silent == 0
    # flagged, as they should be: `1袋+1`, `两份 一份不要葱`, `赵六+2`, `2-3斤` (two counts
    # each) and a sub-count the reader asks about
    assert report.overall.right >= report.overall.entries - 5


def test_second_invented_batch_read_blind() -> None:
    """46 chains written in the shapes of real community group buys (inv101-inv146) and
    annotated before the parser read them: 231 of 324 entries right, 55 flagged, 38 silently
    wrong (5 of them lost: a one-line sign-up numbered `1、`), one kind wrong (a tally of orders
    per building read as an order). These are the blind figures, not a goal: right may only
    rise and silent only fall as the parser learns these shapes. Now 280 right, 40 flagged, 4
    silent (a bag size read as its weight, three sign-ups whose remarks hold people), none
    lost, every kind right."""
    report = invented(101, 199)
    assert report.overall.files == 46 and report.overall.entries == 324
    assert report.overall.right >= 292 and report.overall.silent <= 2
    assert report.overall.lost == 0 and report.overall.kind_right == 46


def test_third_invented_batch_read_blind() -> None:
    """45 chains written in more real community shapes (inv201-inv245: milk tea coded A1/B2
    with sweetness and ice, cakes by size, meat by 公斤/kg/克, eggs by 板/枚/打, menus coded
    [1], 1-1 and 第1款, numbered rules above a numbered menu, 都要/每样一份/各2, two rounds in
    one post, WeChat 接龙 tool posts, one-line chains) and annotated before the parser read
    them: 182 of 314 entries right, 73 flagged, 59 silently wrong (4 of them lost: a one-line
    chain numbered ①②③), two kinds wrong (a delivery tally per building, a paid dinner head
    count). These are the blind figures, not a goal: right may only rise and silent only
    fall as the parser learns these shapes. Now 237 right, 71 flagged, 6 silent, none lost,
    the paid dinner's kind still wrong (a fee per head reads as a price, as real orders need)."""
    report = invented(201, 299)
    assert report.overall.files == 45 and report.overall.entries == 314
    assert report.overall.right >= 271 and report.overall.silent <= 2
    assert report.overall.lost == 0 and report.overall.kind_right >= 44


def test_fourth_invented_batch_read_blind() -> None:
    """42 chains in more real community shapes (inv301-inv342: daily necessities and
    pre-sales with 定金/尾款, diapers and formula by size and 段, school uniforms and shoes by
    size, clothes by colour+size, beer and wine by the case, a table-like head, 限购/满减/起送
    and tiered prices, two long chains with add-ons, bad-copy duplicates and bare 接/+1/1,
    traditional Chinese, English and pinyin names, a 群接龙 export, a 快团团 export numbered
    跟团号N, and sign-ups and check-ins full of numbers) annotated before the parser read
    them: 192 of 341 entries right, 95 flagged, 54 silently wrong (9 of them lost: a
    one-line chain numbered 1）, and the 跟团号 blocks), two kinds wrong (a children's class
    and a trip with fees read as orders). These are the blind figures, not a goal: right may
    only rise and silent only fall as the parser learns these shapes. Now 240 right, 86
    flagged, 15 silent, none lost."""
    report = invented(301, 399)
    assert report.overall.files == 42 and report.overall.entries == 341
    assert report.overall.right >= 282 and report.overall.silent <= 8
    assert report.overall.lost == 0 and report.overall.kind_right >= 40


def test_fifth_invented_batch_read_blind() -> None:
    """40 chains written blind (inv401-inv440: traditional characters, cakes by size and day,
    drinks with their ice and sugar, specs after the goods, sign-ups by family): 310 of 386
    right and 24 silent blind; 352 right and 3 silent after the rules they asked for. Left
    silent: `3合` for 3盒 (a typo), a topping `加珍珠` read as a second drink, `妈妈1人` glued."""
    report = invented(401, 499)
    assert report.overall.files == 40 and report.overall.entries == 386
    assert report.overall.right >= 352 and report.overall.silent <= 3
    assert report.overall.lost == 0 and report.overall.kind_right == 40


def test_sixth_invented_batch_read_blind() -> None:
    """35 chains written blind (inv501-inv535: a leader's ordinary day, long chains, labels in
    every style, set meals lettered one a line, portions by size, a potluck): 547 of 689 right
    and 52 silent blind; 617 right and 5 silent after the rules they asked for. Left silent:
    `2热` under drinks by number (the real corpus keeps `12热` whole), names a rule cannot tell."""
    report = invented(501, 599)
    assert report.overall.files == 35 and report.overall.entries == 689
    assert report.overall.right >= 617 and report.overall.silent <= 5
    assert report.overall.lost == 0 and report.overall.kind_right == 35


def test_shared_samples_all_right() -> None:
    report = evaluate(SAMPLES)
    assert report.overall.right == report.overall.entries == 34


def test_eval_command_prints_misses_then_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["eval", str(CORPUS / "real")]) == 0
    out = capsys.readouterr().out
    assert "想要" in out and "读到" in out  # each miss: what was wanted, what was read
    assert main(["eval", str(CORPUS / "invented"), "--quiet"]) == 0
    table = capsys.readouterr().out.splitlines()
    overall = table[2].split()
    assert overall[0:2] == ["overall", "238"] and overall[3] == "2209"
