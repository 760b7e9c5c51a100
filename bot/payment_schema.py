"""The shape of GET /api/payments and of the dashboard's 收款, as the OpenAPI document shows
them: every answer is validated against these before it leaves. Money is exact: strings of
yuan with two places ("25.60"), as everywhere in this API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Money = str  # "25.60": exact yuan, never a float


class PaymentSumsOut(BaseModel):
    """A round's (or the day's) payments: the figures of the leader's 统计."""

    collected: Money = Field(description="confirmed by the leader's 收款 (or the dashboard's)")
    collected_lines: int
    claimed: Money = Field(description="residents said 已付 (自报已付); not confirmed yet")
    claimed_lines: int
    unpaid_lines: int = Field(description="lines that owe money and neither paid nor said so")
    outstanding: Money = Field(description="still to collect, claimed lines included")
    refunds: Money = Field(description="refunds owed: shortages (缺货) and approved 售后")
    refunds_requested: int = Field(description="售后 claims waiting for the leader's amount")
    to_return: Money = Field(description="collected more than the line now owes: give back")
    unpriced_lines: int = Field(description="lines with goods that have no price: in no sum")


class PaymentLineOut(BaseModel):
    id: int = Field(description="the line's entry id (for POST /api/payments/{entry}/collect)")
    seq: int = Field(description="its number in the final list, as 收款 3 5 7 counts")
    name: str
    poster: str = Field(description="contact id of who posted it")
    poster_name: str
    owed: Money | None = Field(description="what it comes to now; null while held for review")
    paid: Money | None = Field(description="what the leader confirmed; null when not confirmed")
    refund: Money
    unpriced: bool = Field(description="some goods have no price: `owed` leaves them out")
    state: Literal["collected", "claimed", "unpaid", "unpriced", "nothing", "held"]


class RefundOut(BaseModel):
    id: int
    entry: int
    seq: int | None = Field(description="the line's number, null when it was cancelled since")
    name: str
    kind: Literal["shortage", "aftersale"]
    status: Literal["owed", "requested"]
    product: str
    qty: int | float | None
    amount: Money | None = Field(description="null while the leader has not set the amount")
    reason: str


class RoundPaymentsOut(PaymentSumsOut):
    id: int
    room: str
    topic: str
    title: str
    status: str
    leader: str | None = Field(description="the leader's contact id")
    leader_name: str
    lines: list[PaymentLineOut]
    refund_list: list[RefundOut]


class DayPayments(BaseModel):
    """The day's payments and refunds, per round (rounds whose cutoff is on the day)."""

    date: str
    totals: PaymentSumsOut
    rounds: list[RoundPaymentsOut]


class Collected(BaseModel):
    """The answer to the dashboard's 收款 on one line."""

    entry: int
    name: str
    paid: Money = Field(description="what the line owed, now recorded as collected")
