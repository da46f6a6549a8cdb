"""Typed jobs as type checkers see them: each `reveal_type` line ends with what it must show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict, reveal_type

from stackflow import JobContext, create_workflow_job, workflow_job


@dataclass
class Order:
    id: str
    qty: int


@dataclass
class Receipt:
    order_id: str
    total: int


class Note(TypedDict):
    text: str


def _place(order: Order) -> Receipt:
    return Receipt(order.id, order.qty)


async def _ship(order: Order, ctx: JobContext) -> Receipt:
    return Receipt(order.id, 0)


def _count(items: list[int], ctx: Any) -> int:
    return len(items)


place = create_workflow_job(name="place", body=_place)
ship = create_workflow_job(name="ship", body=_ship)
count = create_workflow_job(name="count", body=_count)
ping = create_workflow_job(name="ping", body=lambda: "pong")


@workflow_job("total")
def total(order: Order) -> int:
    return order.qty


@workflow_job("notify", deps=[place])
async def notify(note: Note, ctx: JobContext) -> bool:
    return bool(note["text"])


def _untyped(input, ctx):  # type: ignore[no-untyped-def]
    return input


untyped = create_workflow_job(name="untyped", body=_untyped)

order = Order("o1", 2)
reveal_type(place)  # WorkflowJob[Order, Receipt]
reveal_type(place.trigger(order))  # Receipt
reveal_type(place.start(order))  # JobHandle[Receipt]
reveal_type(place.start(order).result())  # Receipt
reveal_type(ship)  # WorkflowJob[Order, Receipt]
reveal_type(ship.trigger(order))  # Receipt
reveal_type(count.trigger([1, 2]))  # int
reveal_type(ping.trigger())  # str
reveal_type(total)  # WorkflowJob[Order, int]
reveal_type(total.trigger(order))  # int
reveal_type(notify)  # WorkflowJob[Note, bool]
reveal_type(notify.start({"text": "hi"}).result())  # bool
reveal_type(untyped.trigger({"anything": 1}))  # Any
