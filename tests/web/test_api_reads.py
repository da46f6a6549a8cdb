"""The JSON API's reads: the CLI's `-j` shapes, filters, paging and one-line errors."""

from __future__ import annotations

import httpx
import pytest
from json_shapes import EXECUTION_KEYS, JOB_KEYS, has_execution_keys
from web_helpers import SCRIPT_TEXT, Project, stackflow_json


def assert_error(reply: httpx.Response, status: int, text: str) -> None:
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"] == "application/json"
    body = reply.json()
    assert set(body) == {"error"}
    assert text in body["error"]
    assert "\n" not in body["error"]


def ids(reply: httpx.Response) -> list[str]:
    assert reply.status_code == 200, reply.text
    return [execution["id"] for execution in reply.json()]


def newest_first(project: Project) -> list[str]:
    return [
        project.pending,
        project.ids["waiting"],
        project.ids["restock"],
        project.failed,
        project.succeeded,
    ]


def test_workflows(client: httpx.Client) -> None:
    listed = client.get("/api/workflows").json()
    assert [w["name"] for w in listed] == ["approval", "fanout", "order-processing", "restock"]
    orders = listed[2]
    assert orders == {
        "name": "order-processing",
        "mainJob": "process-order",
        "jobFunctions": 3,
        "updatedAt": orders["updatedAt"],
    }
    shown = client.get("/api/workflows/order-processing").json()
    assert set(shown) == {"name", "id", "mainJob", "jobFunctions", "createdAt", "updatedAt"}
    assert set(shown["jobFunctions"]) == {"process-order", "fetch-customer", "send-notification"}
    assert_error(client.get("/api/workflows/nope"), 404, "Unknown workflow 'nope'.")


def test_workflow_graph(client: httpx.Client) -> None:
    graph = client.get("/api/workflows/restock/graph").json()
    versions = client.get("/api/workflows/restock").json()["jobFunctions"]
    assert graph["name"] == "restock"
    assert graph["mainJob"] == "restock"
    jobs = {job["name"]: job for job in graph["jobs"]}
    assert list(jobs) == ["restock", "check-gate", "record-stock"]
    assert jobs["restock"]["deps"] == ["check-gate", "record-stock"]
    assert jobs["check-gate"]["deps"] == []
    assert {name: job["version"] for name, job in jobs.items()} == versions
    assert_error(client.get("/api/workflows/nope/graph"), 404, "Unknown workflow 'nope'.")


def test_executions_newest_first_and_filtered(client: httpx.Client, project: Project) -> None:
    listed = client.get("/api/executions")
    assert ids(listed) == newest_first(project)
    assert all(has_execution_keys(execution) for execution in listed.json())
    assert "waitingFor" in next(e for e in listed.json() if e["status"] == "WAITING")
    assert ids(client.get("/api/executions?status=failed")) == [
        project.ids["restock"],
        project.failed,
    ]
    both = client.get("/api/executions?status=SUCCESS,WAITING&limit=1")
    assert ids(both) == [project.ids["waiting"]]
    named = client.get("/api/executions?workflow=order-processing&status=")
    assert ids(named) == [project.pending, project.failed, project.succeeded]
    assert client.get("/api/executions?workflow=other").json() == []


def test_paging_with_before(client: httpx.Client, project: Project) -> None:
    everything = newest_first(project)
    pages, before = [], ""
    while True:
        page = ids(client.get(f"/api/executions?limit=2{before}"))
        if not page:
            break
        pages.append(page)
        before = f"&before={page[-1]}"
    assert pages == [everything[:2], everything[2:4], everything[4:]]
    failed = client.get(f"/api/executions?status=FAILED&before={project.ids['restock']}")
    assert ids(failed) == [project.failed]


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("status=DONE", "Invalid status: DONE. Valid values: PENDING, PENDING_RESUME"),
        ("limit=0", "Invalid limit '0': give a whole number from 1 to 1000."),
        ("limit=x", "Invalid limit 'x'"),
        ("limit=1001", "from 1 to 1000"),
        ("before=nope", "Invalid before: execution 'nope' not found"),
    ],
)
def test_executions_bad_queries(client: httpx.Client, query: str, text: str) -> None:
    assert_error(client.get(f"/api/executions?{query}"), 400, text)


def test_execution_with_job_details(client: httpx.Client, project: Project) -> None:
    shown = client.get(f"/api/executions/{project.succeeded}").json()
    assert set(shown) == EXECUTION_KEYS | {"jobDetails"}
    assert shown["status"] == "SUCCESS"
    assert shown["jobExecutions"] == len(shown["jobDetails"]) == 3
    assert all(set(job) == JOB_KEYS for job in shown["jobDetails"])
    names = [job["stackedJobName"] for job in shown["jobDetails"]]
    assert names[0] == "process-order"
    assert "process-order/fetch-customer" in names
    failed = client.get(f"/api/executions/{project.failed}").json()
    assert failed["error"]["type"] == "KeyError"
    assert "Traceback" in failed["error"]["traceback"]
    assert_error(client.get("/api/executions/nope"), 404, "Execution 'nope' not found.")


def test_same_shapes_as_the_cli(client: httpx.Client, project: Project) -> None:
    def cli(*args: str) -> object:
        return stackflow_json(project.root, *args)

    def api(path: str) -> object:
        reply = client.get(path)
        assert reply.status_code == 200
        return reply.json()

    assert api("/api/workflows") == cli("workflow", "list", "-j")
    assert api("/api/workflows/order-processing") == cli(
        "workflow", "get", "order-processing", "-j"
    )
    assert api("/api/executions") == cli("workflow", "executions", "-j")
    assert api(f"/api/executions/{project.succeeded}") == cli(
        "workflow", "executions", project.succeeded, "-l", "-j"
    )


def test_wait_points(client: httpx.Client, project: Project) -> None:
    waits = client.get(f"/api/executions/{project.ids['waiting']}/wait-points").json()
    assert waits == [
        {
            "key": "manager-approval",
            "payload": {"amount": 120},
            "resolved": False,
            "result": None,
            "createdAt": waits[0]["createdAt"],
            "resolvedAt": None,
        }
    ]
    assert client.get(f"/api/executions/{project.succeeded}/wait-points").json() == []
    assert_error(client.get("/api/executions/nope/wait-points"), 404, "not found")


def test_user_data_is_escaped_json(client: httpx.Client, project: Project) -> None:
    reply = client.get(f"/api/executions/{project.succeeded}")
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Cache-Control"] == "no-store"
    assert b"<script" not in reply.content
    assert b"\\u003cscript\\u003e" in reply.content
    jobs = {job["stackedJobName"]: job for job in reply.json()["jobDetails"]}
    assert f"fetching customer {SCRIPT_TEXT}" in jobs["process-order/fetch-customer"]["logs"]


def test_unknown_routes_and_methods(client: httpx.Client, project: Project) -> None:
    assert_error(client.get("/api/nothing"), 404, "No API endpoint at /api/nothing.")
    retry = client.post(f"/api/executions/{project.failed}/retry")
    assert_error(retry, 404, "No API endpoint")
    assert_error(client.get("/nothing"), 404, "Nothing at /nothing.")
    deleted = client.delete("/api/executions")
    assert_error(deleted, 405, "DELETE is not supported at /api/executions.")
    assert set(deleted.headers["Allow"].split(", ")) == {"GET", "HEAD"}
