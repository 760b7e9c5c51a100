"""The platform's HTTP API through aiohttp's test client: auth, validation, nothing half-written."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.http_api import make_web_app
from models.tables import Round
from tests.chat import ChatHarness
from tests.conftest import make_harness

TOKEN = "s3cret-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DEAL = {
    "deals": [
        {
            "key": "api-1",
            "title": "API 水果团",
            "post_at": "2026-11-23 07:00",
            "cutoff_at": "2026-11-23 22:00",
            "groups": ["all"],
            "products": [{"code": "1", "name": "烟台苹果", "price": "12.80", "unit": "3斤"}],
        }
    ]
}


@pytest.fixture
async def client(bot: ChatHarness) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(make_web_app(bot.app, TOKEN))) as c:
        yield c


async def rounds(bot: ChatHarness) -> int:
    async with bot.app.db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(Round))).scalar() or 0)


async def test_auth_is_required_and_checked(client: TestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/api/tally")).status == 401
    bad = await client.get("/api/tally", headers={"Authorization": "Bearer wrong"})
    assert bad.status == 401 and "token" in (await bad.json())["error"]
    assert (await client.get("/api/tally", headers=AUTH)).status == 200
    assert (await client.get("/health")).status == 200
    spec = await (await client.get("/openapi.json")).json()
    assert "/api/deals" in spec["paths"]


async def test_push_a_deal_then_read_tally_export_and_metrics(
    client: TestClient,  # type: ignore[type-arg]
    bot: ChatHarness,
) -> None:
    first = await client.post("/api/deals", json=DEAL, headers=AUTH)
    assert await first.json() == {"posted": 1, "scheduled": 0}
    again = await client.post("/api/deals", json=DEAL, headers=AUTH)
    assert await again.json() == {"posted": 0, "scheduled": 0}  # idempotent by key
    await bot.flush()
    [head] = bot.group_texts()
    assert head.startswith("#接龙\nAPI 水果团 截单：11月23日 22:00")
    await bot.post("张三", head + "\n1. 张三 苹果2份")
    tally = await (await client.get("/api/tally?date=2026-11-23", headers=AUTH)).json()
    assert tally["rounds"][0]["amount"] == "25.60"
    xlsx = await client.get("/api/exports/2026-11-23.xlsx", headers=AUTH)
    assert xlsx.status == 200
    wb = load_workbook(io.BytesIO(await xlsx.read()))
    assert wb.sheetnames[:3] == ["配送清单", "排序列表", "总清单"]
    assert "分拣单-按商品" in wb.sheetnames  # the same workbook as the chat's 导出
    assert wb.sheetnames[-1] == "退款"
    metrics = await (await client.get("/metrics")).text()
    assert "groupbuy_open_rounds 1" in metrics


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "object"),
        (b'{"deals": [{"title": "no key"}]}', "unique key"),
        (
            b'{"deals": [{"key": "k", "post_at": "soon", "cutoff_at": "2026-11-23 22:00"}]}',
            "post_at",
        ),
        (
            b'{"deals": [{"key": "k", "post_at": "2026-11-23 07:00", '
            b'"cutoff_at": "2026-11-23 22:00", "groups": ["nope"]}]}',
            "unknown groups",
        ),
        (
            b'{"deals": [{"key": "k", "post_at": "2026-11-20 07:00", '
            b'"cutoff_at": "2026-11-20 22:00"}]}',
            "past",
        ),
    ],
)
async def test_bad_input_gets_a_clear_400_and_writes_nothing(
    client: TestClient,  # type: ignore[type-arg]
    bot: ChatHarness,
    body: bytes,
    message: str,
) -> None:
    before = await rounds(bot)
    resp = await client.post(
        "/api/deals", data=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert message in (await resp.json())["error"]
    assert await rounds(bot) == before


async def test_oversized_body_is_refused(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.post("/api/deals", data=b"x" * (2 * 1024 * 1024), headers=AUTH)
    assert resp.status == 413


async def test_bad_dates_are_400(client: TestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/api/tally?date=yesterday", headers=AUTH)).status == 400
    assert (await client.get("/api/exports/2026-13-45.xlsx", headers=AUTH)).status == 400


async def test_a_deal_scheduled_over_http_survives_a_restart(
    client: TestClient,  # type: ignore[type-arg]
    bot: ChatHarness,
    db_url: str,
) -> None:
    later = {"deals": [{**DEAL["deals"][0], "key": "api-later", "post_at": "2026-11-23 10:00"}]}
    resp = await client.post("/api/deals", json=later, headers=AUTH)
    assert await resp.json() == {"posted": 0, "scheduled": 1}
    await bot.app.close()  # the process stops before 10:00 …
    again = await make_harness(db_url)  # … and a new one starts on the same database
    try:
        await again.at("10:00")
        [head] = again.group_texts()
        assert head.startswith("#接龙\nAPI 水果团 截单：11月23日 22:00")
    finally:
        await again.app.close()


def _deal_with(**product: object) -> dict[str, object]:
    base = DEAL["deals"][0]
    return {"deals": [{**base, "products": [{**base["products"][0], **product}]}]}  # type: ignore[index,dict-item]


@pytest.mark.parametrize(
    "body",
    [
        b'{"deals": [{"key": 5, "title": [], "post_at": {}, "cutoff_at": null}]}',  # wrong types
        b'{"deals": "\xff\xfe"}',  # not UTF-8
        b"[" * 5000 + b"]" * 5000,  # deep nesting
        b'{"deals": [{"key": "k", "price": NaN}]}',  # NaN is not JSON
        b'{"deals": [1e400]}',
        b"",
    ],
    ids=["types", "utf8", "nesting", "nan", "1e400", "empty"],
)
async def test_hostile_bodies_get_400_or_422_never_500(
    client: TestClient,  # type: ignore[type-arg]
    bot: ChatHarness,
    body: bytes,
) -> None:
    resp = await client.post(
        "/api/deals", data=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert resp.status in (400, 422)
    assert "error" in await resp.json()
    assert await rounds(bot) == 0


@pytest.mark.parametrize(
    ("product", "field"),
    [
        ({"price": "-1"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": "Infinity"}, "price"),
        ({"price": "1e400"}, "price"),
        ({"stock": 1e30}, "stock"),
        ({"stock": -5}, "stock"),
    ],
    ids=["negative", "nan", "inf", "1e400", "stock-1e30", "stock-negative"],
)
async def test_bad_prices_and_stock_name_the_field_and_post_nothing(
    client: TestClient,  # type: ignore[type-arg]
    bot: ChatHarness,
    product: dict[str, object],
    field: str,
) -> None:
    resp = await client.post("/api/deals", json=_deal_with(**product), headers=AUTH)
    assert resp.status in (400, 422)
    assert field in (await resp.json())["error"]
    assert await rounds(bot) == 0
    assert bot.group_texts() == []


async def test_a_non_ascii_token_is_refused_not_a_crash(
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    resp = await client.get("/api/tally", headers={"Authorization": "Bearer 团长的令牌"})
    assert resp.status == 401


async def test_each_export_removes_its_temporary_folder(
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    import tempfile
    from pathlib import Path

    def folders() -> set[Path]:
        return set(Path(tempfile.gettempdir()).glob("groupbuy-export-*"))

    before = folders()
    resp = await client.get("/api/exports/2026-11-23.xlsx", headers=AUTH)
    assert resp.status == 200 and (await resp.read())[:2] == b"PK"  # an xlsx (zip) file
    assert folders() <= before
