"""The JSON API: Engine calls answered in the CLI's `-j` shapes (stackflow.shapes)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from stackflow import shapes
from stackflow.definitions.webhooks import Webhook, webhook_json
from stackflow.engine.engine import Engine
from stackflow.errors import ExecutionNotFound
from stackflow.jsonvalue import decode
from stackflow.store.base import WAIT_POINT, WaitRow
from stackflow.store.rows import from_ms
from stackflow.web import inputs
from stackflow.web.graph import workflow_graph
from stackflow.web.responses import BAD_REQUEST, ApiError, SafeJSONResponse
from stackflow.web.stream import EventHub, event_stream

T = TypeVar("T")
START_KEYS = ("arg", "machineUser", "idempotencyKey")
RESTART_KEYS = ("fromJob", "arg")
RESOLVE_KEYS = ("result",)


class Api:
    """The `/api/` routes of one engine."""

    def __init__(self, engine: Engine, hub: EventHub, webhooks: Mapping[str, Webhook]) -> None:
        self.engine = engine
        self.hub = hub
        self.webhooks = webhooks

    def routes(self) -> list[BaseRoute]:
        """Every route, relative to `/api`."""
        post = ["POST"]
        return [
            Route("/workflows", self.list_workflows),
            Route("/workflows/{name}", self.get_workflow),
            Route("/workflows/{name}/graph", self.get_workflow_graph),
            Route("/workflows/{name}/start", self.start, methods=post),
            Route("/executions", self.list_executions),
            Route("/executions/{id}", self.get_execution),
            Route("/executions/{id}/resume", self.resume, methods=post),
            Route("/executions/{id}/cancel", self.cancel, methods=post),
            Route("/executions/{id}/restart", self.restart, methods=post),
            Route("/executions/{id}/wait-points", self.list_wait_points),
            Route("/executions/{id}/wait-points/{key}", self.resolve, methods=post),
            Route("/webhooks", self.list_webhooks),
            Route("/events", self.events),
        ]

    async def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(function, *args, **kwargs)

    # workflows ---------------------------------------------------------------------------

    async def list_workflows(self, request: Request) -> Response:
        """As `workflow list -j`."""
        summaries = await self._call(self.engine.describe_workflows)
        return SafeJSONResponse([shapes.workflow_summary_json(s) for s in summaries])

    async def get_workflow(self, request: Request) -> Response:
        """As `workflow get NAME -j`; 404 for a workflow nobody defined."""
        detail = await self._call(self.engine.describe_workflow, request.path_params["name"])
        return SafeJSONResponse(shapes.workflow_json(detail))

    async def get_workflow_graph(self, request: Request) -> Response:
        """The workflow's jobs with their versions, deps and triggered jobs (for the graph)."""
        graph = await self._call(workflow_graph, self.engine, request.path_params["name"])
        return SafeJSONResponse(graph)

    async def start(self, request: Request) -> Response:
        """Start an execution: `{"executionId"}` (the same one again for a known key)."""
        body = await inputs.json_object(request, START_KEYS)
        name = request.path_params["name"]
        machine_user = inputs.optional_string(body, "machineUser")
        key = inputs.optional_string(body, "idempotencyKey")
        execution_id = await self._call(self._start, name, body.get("arg"), machine_user, key)
        return SafeJSONResponse({"executionId": execution_id})

    def _start(self, name: str, arg: Any, machine_user: str | None, key: str | None) -> str:
        self.engine.get_workflow(name)
        self._refuse_breaches()
        if machine_user is None and self.engine.machine_users:
            known = ", ".join(sorted(self.engine.machine_users))
            raise ApiError(
                BAD_REQUEST,
                f"Missing machineUser: name the machine user to start '{name}' as "
                f"(configured: {known}).",
            )
        return self.engine.start(name, arg, invoker=machine_user, idempotency_key=key)

    def _refuse_breaches(self) -> None:
        if self.engine.project is not None:
            self.engine.project.raise_for_breaches()

    # executions --------------------------------------------------------------------------

    async def list_executions(self, request: Request) -> Response:
        """As `workflow executions -j`, newest first; `workflow`, `status`, `limit`, `before`."""
        query = request.query_params
        found = await self._call(
            self._list,
            query.get("workflow") or None,
            inputs.statuses(query.get("status", "")),
            inputs.page_limit(query.get("limit")),
            query.get("before") or None,
        )
        return SafeJSONResponse([shapes.execution_json(execution) for execution in found])

    def _list(
        self, workflow: str | None, statuses: list[str], limit: int, before: str | None
    ) -> list[Any]:
        if before is not None and self.engine.store.find_execution(before) is None:
            raise ApiError(
                BAD_REQUEST,
                f"Invalid before: execution '{before}' not found (page with the id of the "
                "last execution of the previous page).",
            )
        return self.engine.list_executions(workflow, statuses, limit=limit, before=before)

    async def get_execution(self, request: Request) -> Response:
        """As `workflow executions ID -l -j`: the execution with its `jobDetails`."""
        execution = await self._call(self.engine.get_execution, request.path_params["id"])
        return SafeJSONResponse(shapes.execution_json(execution, with_jobs=True))

    async def resume(self, request: Request) -> Response:
        """As `workflow resume ID -j`: `{"executionId"}`; 409 when it is not resumable."""
        await inputs.json_object(request, ())
        execution_id = request.path_params["id"]
        await self._call(self._resume, execution_id)
        return SafeJSONResponse({"executionId": execution_id})

    def _resume(self, execution_id: str) -> None:
        self._refuse_breaches()
        self.engine.resume(execution_id)

    async def cancel(self, request: Request) -> Response:
        """As `workflow cancel ID -j`: the execution; 409 when it has already ended."""
        await inputs.json_object(request, ())
        execution_id = request.path_params["id"]
        await self._call(self.engine.cancel, execution_id)
        execution = await self._call(self.engine.get_execution, execution_id)
        return SafeJSONResponse(shapes.execution_json(execution))

    async def restart(self, request: Request) -> Response:
        """A new execution from the old one's history: `{"executionId"}` of the new one."""
        body = await inputs.json_object(request, RESTART_KEYS)
        options: dict[str, Any] = {"from_job": inputs.optional_string(body, "fromJob")}
        if "arg" in body:
            options["arg"] = body["arg"]
        restart = self.engine.restart  # type: ignore[attr-defined, unused-ignore]
        new_id = await self._call(restart, request.path_params["id"], **options)
        return SafeJSONResponse({"executionId": new_id})

    # wait points -------------------------------------------------------------------------

    async def list_wait_points(self, request: Request) -> Response:
        """The wait points the execution reached: `[{key, payload, resolved, result, ...}]`."""
        waits = await self._call(self._wait_points, request.path_params["id"])
        return SafeJSONResponse(waits)

    def _wait_points(self, execution_id: str) -> list[dict[str, Any]]:
        store = self.engine.store
        if store.find_execution(execution_id) is None:
            raise ExecutionNotFound(execution_id)
        waits = store.load_waits(execution_id)
        return [wait_point_json(wait) for wait in waits if wait.kind == WAIT_POINT]

    async def resolve(self, request: Request) -> Response:
        """As `workflow resolve ID KEY -j`: the execution, now PENDING_RESUME."""
        body = await inputs.json_object(request, RESOLVE_KEYS)
        execution_id, key = request.path_params["id"], request.path_params["key"]
        result = body.get("result")
        await self._call(self.engine.resolve, execution_id, key, lambda payload: result)
        execution = await self._call(self.engine.get_execution, execution_id)
        return SafeJSONResponse(shapes.execution_json(execution))

    # webhooks and events -----------------------------------------------------------------

    async def list_webhooks(self, request: Request) -> Response:
        """The webhooks this app serves, by name."""
        names = sorted(self.webhooks)
        return SafeJSONResponse([webhook_json(self.webhooks[name]) for name in names])

    async def events(self, request: Request) -> Response:
        """Server-Sent Events: one `execution` event per status change."""
        return event_stream(self.hub, request)


def wait_point_json(wait: WaitRow) -> dict[str, Any]:
    """`{key, payload, resolved, result, createdAt, resolvedAt}` of a wait point."""
    return {
        "key": wait.key,
        "payload": decode(wait.payload_json) if wait.payload_json else None,
        "resolved": wait.resolved_at_ms is not None,
        "result": decode(wait.result_json) if wait.result_json else None,
        "createdAt": shapes.timestamp(from_ms(wait.created_at_ms)),
        "resolvedAt": shapes.timestamp(from_ms(wait.resolved_at_ms)),
    }
