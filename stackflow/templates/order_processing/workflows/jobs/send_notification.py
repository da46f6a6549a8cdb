"""The send-notification job: tells a recipient about their order."""

from typing import Any

from stackflow import JobContext, workflow_job


@workflow_job("send-notification")
def send_notification(input: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    sender = ctx.env.get("sender", "orders@example.com")
    ctx.logger.info("from %s to %s: %s", sender, input["recipient"], input["message"])
    return {"sent": True, "recipient": input["recipient"]}
