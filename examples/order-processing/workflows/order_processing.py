"""The order-processing workflow: fetch the customer, then notify them."""

from typing import Any

from stackflow import JobContext, create_workflow, workflow_job

from .jobs.fetch_customer import fetch_customer
from .jobs.send_notification import send_notification


@workflow_job("process-order", deps=[fetch_customer, send_notification])
def process_order(input: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    customer = ctx.jobs.fetch_customer.trigger({"customerId": input["customerId"]})
    note = ctx.jobs.send_notification.trigger(
        {
            "message": f"Order {input['orderId']} is being processed",
            "recipient": customer["email"],
        }
    )
    return {
        "orderId": input["orderId"],
        "customerEmail": customer["email"],
        "notificationSent": note["sent"],
    }


workflow = create_workflow(name="order-processing", main_job=process_order)
