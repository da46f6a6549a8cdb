"""`POST /hooks/{name}`: a signed request starts the webhook's workflow (202 with its id)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stackflow.definitions.webhooks import SIGNATURE_HEADER, Webhook
from stackflow.engine.engine import Engine
from stackflow.web.inputs import parse_json
from stackflow.web.responses import (
    BAD_REQUEST,
    NOT_FOUND,
    UNAUTHORIZED,
    ApiError,
    SafeJSONResponse,
    one_line,
)

ACCEPTED = 202
IDEMPOTENCY_HEADER = "Idempotency-Key"
BAD_SIGNATURE = (
    f"Missing or wrong signature: send {SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the "
    "raw body, keyed with the webhook's secret>."
)
log = logging.getLogger("stackflow.web")


class Hooks:
    """The webhook route of one engine."""

    def __init__(self, engine: Engine, webhooks: Mapping[str, Webhook]) -> None:
        self.engine = engine
        self.webhooks = webhooks

    def route(self) -> Route:
        """`POST /hooks/{name}`."""
        return Route("/hooks/{name}", self.receive, methods=["POST"])

    async def receive(self, request: Request) -> Response:
        """Check the signature, then start the workflow with the body (or `args`' answer)."""
        webhook = self._webhook(request.path_params["name"])
        raw = await request.body()
        if not webhook.verify(raw, request.headers.get(SIGNATURE_HEADER)):
            if webhook.secret() is None:
                log.warning("webhook %s: $%s is not set", webhook.name, webhook.secret_env)
            raise ApiError(UNAUTHORIZED, BAD_SIGNATURE)
        body = parse_json(raw) if raw.strip() else None
        arg = self._arg(webhook, body, request.headers)
        key = request.headers.get(IDEMPOTENCY_HEADER) or None
        execution_id = await run_in_threadpool(self._start, webhook, arg, key)
        return SafeJSONResponse({"executionId": execution_id}, ACCEPTED)

    def _webhook(self, name: str) -> Webhook:
        webhook = self.webhooks.get(name)
        if webhook is None:
            raise ApiError(NOT_FOUND, f"Unknown webhook '{name}'.")
        return webhook

    def _arg(self, webhook: Webhook, body: Any, headers: Mapping[str, str]) -> Any:
        try:
            return webhook.arg_for(body, headers)
        except Exception as error:
            message = f"Webhook '{webhook.name}' args function failed: {one_line(error)}"
            raise ApiError(BAD_REQUEST, message) from None

    def _start(self, webhook: Webhook, arg: Any, key: str | None) -> str:
        if self.engine.project is not None:
            self.engine.project.raise_for_breaches()
        return self.engine.start(
            webhook.workflow,
            arg,
            invoker=webhook.machine_user,
            idempotency_key=None if key is None else f"webhook:{webhook.name}:{key}",
        )
