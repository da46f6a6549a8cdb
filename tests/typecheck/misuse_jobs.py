"""Misuses of typed jobs: type checkers must report an error on each line marked `# error`."""

from __future__ import annotations

from dataclasses import dataclass

from stackflow import JobContext, create_workflow_job, workflow_job


@dataclass
class Order:
    id: str
    qty: int


@dataclass
class Receipt:
    order_id: str
    total: int


def _place(order: Order) -> Receipt:
    return Receipt(order.id, order.qty)


place = create_workflow_job(name="place", body=_place)


@workflow_job("total")
async def total(order: Order, ctx: JobContext) -> int:
    return order.qty


place.trigger({"id": "o1", "qty": 2})  # error
total.trigger(5)  # error
wrong: str = place.trigger(Order("o1", 2))  # error
missing = place.start(Order("o1", 2)).result().missing  # error
too_few: Order = total.start(Order("o1", 1)).result()  # error
