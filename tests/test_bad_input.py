"""Bad replay lines and a bad --db: one clear line each, and nothing else lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.test_replay_cli import REPO, write_config


def test_bad_replay_lines_are_named_and_the_replay_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path)
    day = (REPO / "bot" / "demo" / "day.jsonl").read_bytes().splitlines()
    good = {"type": "message", "ts": "2026-11-23T09:00:00", "room": None, "sender": "x"}
    bad = [
        json.dumps({**good, "id": "a", "text": "\ud800"}).encode(),  # a lone surrogate
        json.dumps({**good, "id": "b", "text": "hi"}).encode()[:-2] + b'\xff\xfe"}',  # not UTF-8
        json.dumps({**good, "id": "c" * 129, "text": "hi"}).encode(),  # past the 128 keyed on
        json.dumps({**good, "id": "d", "text": "hi", "ts": "9999-01-01T00:00:00"}).encode(),
        json.dumps({**good, "id": "e", "text": "hi", "mentions": 7}).encode(),
        json.dumps({**good, "id": "f", "text": "hi", "mentions": [1]}).encode(),
        b"{not json",
    ]
    transcript = tmp_path / "day.jsonl"
    transcript.write_bytes(b"\n".join([day[0], *bad, *day[1:]]) + b"\n")
    assert main(["replay", str(transcript), "--config", str(cfg)]) == 0
    out, err = capsys.readouterr()
    named = [line for line in err.splitlines() if "groupbuy replay" in line]
    assert [line.split(": ")[2] for line in named] == [f"line {n}" for n in range(2, 9)]
    assert "lone surrogate" in named[0] and "128" in named[2] and "2000" in named[3]
    assert "mentions" in named[4] and "mentions" in named[5]

    clean = tmp_path / "clean"
    clean.mkdir()
    assert (
        main(
            [
                "replay",
                str(REPO / "bot" / "demo" / "day.jsonl"),
                "--config",
                str(write_config(clean)),
            ]
        )
        == 0
    )
    assert out == capsys.readouterr().out  # the good lines did what they do without the bad


@pytest.mark.parametrize(
    "url",
    [
        "nonsense",
        "foo://x",
        "sqlite:////nonexistent/dir/x.db",
        "postgresql://postgres:secret@127.0.0.1:1/test",
    ],
)
def test_a_bad_db_is_one_line_saying_what_and_how_to_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    cfg = write_config(tmp_path)
    assert main(["migrate", "--config", str(cfg), "--db", url]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("groupbuy: cannot use") and "--db" in err and "secret" not in err
