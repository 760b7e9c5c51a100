"""Fixtures for the wire tests: a fresh gateway and a bot (not yet started) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.wire.harness import Bot, Gateway


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = Gateway(tmp_path)
    try:
        yield gw
    finally:
        gw.close()


@pytest.fixture
def bot(tmp_path: Path, gateway: Gateway) -> Iterator[Bot]:
    b = Bot(tmp_path, gateway)
    try:
        yield b
    finally:
        b.close()
