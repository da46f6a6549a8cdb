"""`create_app(engine, token=None)`: the dashboard, the JSON API and webhooks as one ASGI app."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount

from stackflow.config import CONFIG_PATH_VARIABLE, LOOPBACK_ONLY_VARIABLE, TOKEN_VARIABLE
from stackflow.definitions.webhooks import Webhook
from stackflow.engine.engine import Engine
from stackflow.errors import StackflowError
from stackflow.network import LOOPBACK_HOSTS
from stackflow.web.api import Api
from stackflow.web.events import ExecutionEvents
from stackflow.web.guards import (
    BearerToken,
    BodyLimit,
    SameOriginWrites,
    SecurityHeaders,
    refuse_unauthenticated,
)
from stackflow.web.hooks import Hooks
from stackflow.web.page import page_routes
from stackflow.web.responses import (
    ApiError,
    on_api_error,
    on_engine_error,
    on_http_error,
    on_server_error,
)
from stackflow.web.stream import EventHub

BODY_OVERHEAD_BYTES = 64 * 1024


def create_app(
    engine: Engine,
    token: str | None = None,
    *,
    webhooks: Iterable[Webhook] | None = None,
    allowed_hosts: Sequence[str] | None = None,
    events: ExecutionEvents | None = None,
) -> Starlette:
    """The ASGI app serving the dashboard (`/`), the JSON API (`/api/`) and webhooks (`/hooks/`).

    Mount it in your own Starlette or FastAPI app with `app.mount("/workflows", create_app(...))`.

    Args:
        engine: the engine whose executions it shows and starts.
        token: when set, every `/api/` request needs `Authorization: Bearer <token>`.
        webhooks: the webhooks to serve (default: the ones of the engine's project).
        allowed_hosts: the Host headers it answers (default: any), e.g. LOOPBACK_HOSTS
            to refuse DNS rebinding when it listens on a loopback address.
        events: where status changes for `GET /api/events` come from (default: the
            engine's store notifications).
    """
    served = {hook.name: hook for hook in _webhooks(engine, webhooks)}
    hub = EventHub(events or ExecutionEvents(engine))
    api = Api(engine, hub, served)
    api_guards = [Middleware(SameOriginWrites)] if token is None else [_bearer(token)]
    body_limit = engine.payload_limit_bytes + BODY_OVERHEAD_BYTES
    middleware = [Middleware(SecurityHeaders), Middleware(BodyLimit, max_bytes=body_limit)]
    if allowed_hosts is not None:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)))
    return Starlette(
        routes=[
            *page_routes(),
            Mount("/api", routes=api.routes(), middleware=api_guards),
            Hooks(engine, served).route(),
        ],
        middleware=middleware,
        exception_handlers={
            ApiError: on_api_error,
            StackflowError: on_engine_error,
            HTTPException: on_http_error,
            Exception: on_server_error,
        },
    )


def app_from_environment() -> Starlette:
    """The app of the project named by $STACKFLOW_CONFIG (or found from here), for uvicorn.

    `uvicorn --factory stackflow.web.app:app_from_environment` serves it in production
    (with uvicorn's own options: workers, TLS, proxy headers); `$STACKFLOW_TOKEN` sets the
    token, and `$STACKFLOW_SERVE_LOOPBACK=1` answers only loopback Host headers.
    """
    engine = Engine.from_config(os.environ.get(CONFIG_PATH_VARIABLE) or None)
    token = os.environ.get(TOKEN_VARIABLE) or None
    if token is None and engine.project is not None:
        token = engine.project.config.serve.token
    loopback = os.environ.get(LOOPBACK_ONLY_VARIABLE) == "1"
    return create_app(engine, token, allowed_hosts=LOOPBACK_HOSTS if loopback else None)


def _bearer(token: str) -> Middleware:
    return Middleware(
        AuthenticationMiddleware, backend=BearerToken(token), on_error=refuse_unauthenticated
    )


def _webhooks(engine: Engine, webhooks: Iterable[Webhook] | None) -> Iterable[Webhook]:
    if webhooks is not None:
        return webhooks
    return engine.project.webhooks.values() if engine.project is not None else ()
