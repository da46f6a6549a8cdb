"""The dashboard's JSON API: the CLI's `-j` shapes, filters, resume, cancel and errors."""

from __future__ import annotations

import time

import pytest
from json_shapes import EXECUTION_KEYS, JOB_KEYS
from ui_helpers import Project, request, stackflow_json


def assert_error(url: str, method: str, status: int, text: str) -> None:
    reply = request(url, method)
    assert reply.status == status
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json()
    assert set(body) == {"error"}
    assert text in body["error"]
    assert "\n" not in body["error"]


def test_workflows(dashboard: str) -> None:
    listed = request(f"{dashboard}/api/workflows").json()
    assert listed == [
        {
            "name": "order-processing",
            "mainJob": "process-order",
            "jobFunctions": 3,
            "updatedAt": listed[0]["updatedAt"],
        }
    ]
    shown = request(f"{dashboard}/api/workflows/order-processing").json()
    assert set(shown) == {"name", "id", "mainJob", "jobFunctions", "createdAt", "updatedAt"}
    assert set(shown["jobFunctions"]) == {"process-order", "fetch-customer", "send-notification"}
    assert_error(f"{dashboard}/api/workflows/nope", "GET", 404, "Unknown workflow 'nope'.")


def test_executions_newest_first_and_filtered(dashboard: str, project: Project) -> None:
    listed = request(f"{dashboard}/api/executions").json()
    assert [e["id"] for e in listed] == [project.pending, project.failed, project.succeeded]
    assert all(set(execution) == EXECUTION_KEYS for execution in listed)
    failed = request(f"{dashboard}/api/executions?status=failed").json()
    assert [e["id"] for e in failed] == [project.failed]
    both = request(f"{dashboard}/api/executions?status=SUCCESS,FAILED&limit=1").json()
    assert [e["id"] for e in both] == [project.failed]
    named = request(f"{dashboard}/api/executions?name=order-processing&status=").json()
    assert len(named) == 3
    assert request(f"{dashboard}/api/executions?name=other").json() == []


@pytest.mark.parametrize(
    ("query", "text"),
    [("status=DONE", "Unknown status 'DONE'"), ("limit=0", "Invalid limit"), ("limit=x", "x")],
)
def test_executions_bad_filters(dashboard: str, query: str, text: str) -> None:
    assert_error(f"{dashboard}/api/executions?{query}", "GET", 400, text)


def test_execution_with_job_details(dashboard: str, project: Project) -> None:
    shown = request(f"{dashboard}/api/executions/{project.succeeded}").json()
    assert set(shown) == EXECUTION_KEYS | {"jobDetails"}
    assert shown["status"] == "SUCCESS"
    assert shown["jobExecutions"] == len(shown["jobDetails"]) == 3
    assert all(set(job) == JOB_KEYS for job in shown["jobDetails"])
    names = [job["stackedJobName"] for job in shown["jobDetails"]]
    assert "process-order/fetch-customer" in names
    failed = request(f"{dashboard}/api/executions/{project.failed}").json()
    assert failed["error"]["type"] == "KeyError"
    assert_error(f"{dashboard}/api/executions/nope", "GET", 404, "Execution 'nope' not found.")


def test_same_shapes_as_the_cli(dashboard: str, project: Project) -> None:
    def cli(*args: str) -> object:
        return stackflow_json(project.root, *args)

    def api(path: str) -> object:
        return request(f"{dashboard}{path}").json()

    assert api("/api/workflows") == cli("workflow", "list", "-j")
    assert api("/api/workflows/order-processing") == cli(
        "workflow", "get", "order-processing", "-j"
    )
    assert api("/api/executions") == cli("workflow", "executions", "-j")
    assert api(f"/api/executions/{project.succeeded}") == cli(
        "workflow", "executions", project.succeeded, "-l", "-j"
    )


def test_resume_makes_it_runnable_but_runs_nothing(dashboard: str, project: Project) -> None:
    url = f"{dashboard}/api/executions/{project.failed}/resume"
    resumed = request(url, "POST")
    assert resumed.status == 200
    assert set(resumed.json()) == EXECUTION_KEYS | {"jobDetails"}
    assert resumed.json()["status"] == "PENDING_RESUME"
    time.sleep(0.5)
    shown = request(f"{dashboard}/api/executions/{project.failed}").json()
    assert shown["status"] == "PENDING_RESUME"
    assert shown["jobExecutions"] == resumed.json()["jobExecutions"]
    succeeded = f"{dashboard}/api/executions/{project.succeeded}/resume"
    assert_error(succeeded, "POST", 409, "is not in a resumable state")
    assert_error(f"{dashboard}/api/executions/nope/resume", "POST", 404, "not found")


def test_cancel(dashboard: str, project: Project) -> None:
    canceled = request(f"{dashboard}/api/executions/{project.pending}/cancel", "POST")
    assert canceled.status == 200
    assert canceled.json()["status"] == "CANCELED"
    assert canceled.json()["finishedAt"] is not None
    succeeded = f"{dashboard}/api/executions/{project.succeeded}/cancel"
    assert_error(succeeded, "POST", 409, "cannot be canceled")
    assert_error(f"{dashboard}/api/executions/nope/cancel", "POST", 404, "not found")


def test_unknown_routes_and_methods(dashboard: str, project: Project) -> None:
    assert_error(f"{dashboard}/api/nothing", "GET", 404, "No API endpoint")
    assert_error(f"{dashboard}/api/executions/{project.failed}/retry", "POST", 404, "No API")
    assert_error(f"{dashboard}/api/executions", "POST", 404, "No API endpoint")
    assert_error(f"{dashboard}/nothing", "GET", 404, "Nothing at /nothing")
    assert_error(f"{dashboard}/api/executions", "DELETE", 405, "DELETE is not supported")


def test_foreign_origins_and_hosts_are_refused(dashboard: str, project: Project) -> None:
    url = f"{dashboard}/api/executions/{project.pending}/cancel"
    foreign = request(url, "POST", headers={"Origin": "http://evil.example"})
    assert foreign.status == 403
    rebound = request(f"{dashboard}/api/executions", headers={"Host": "evil.example"})
    assert rebound.status == 403
    pending = request(f"{dashboard}/api/executions/{project.pending}").json()
    assert pending["status"] == "PENDING"
    own = request(url, "POST", headers={"Origin": dashboard})
    assert own.status == 200
