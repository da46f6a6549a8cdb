"""`stackflow workflow ...` run as the real command in a project made by `stackflow init`."""

from __future__ import annotations

import textwrap
from pathlib import Path

from cli_helpers import EXECUTION_KEYS, JOB_KEYS, ORDER, Run
from commands import stackflow

RESULT = {"orderId": "o1", "customerEmail": "c1@example.com", "notificationSent": True}
STACKED_NAMES = [
    "process-order",
    "process-order/fetch-customer",
    "process-order/send-notification",
]


def start_ok(run: Run) -> dict[str, object]:
    done = run("workflow", "start", "order-processing", "-m", "admin", "-a", ORDER, "-W", "-j")
    assert done.code == 0, done.stderr
    execution: dict[str, object] = done.json()
    return execution


def test_init_then_start_wait_prints_the_successful_execution(tmp_path: Path) -> None:
    made = stackflow(tmp_path, "init", "shop")
    assert made.code == 0, made.stderr
    project = tmp_path / "shop"
    assert (project / "workflows" / "order_processing.py").is_file()

    done = stackflow(
        project, "workflow", "start", "order-processing", "-m", "admin", "-a", ORDER, "-W", "-j"
    )

    assert done.code == 0, done.stderr
    done.assert_clean()
    execution = done.json()  # job prints never reach stdout
    assert set(execution) == EXECUTION_KEYS
    assert execution["status"] == "SUCCESS"
    assert execution["result"] == RESULT
    assert execution["jobExecutions"] == 3
    assert execution["invoker"] == {
        "id": "admin",
        "type": "machine_user",
        "attributes": {"role": "ADMIN"},
    }
    assert execution["startedAt"].endswith("Z") and len(execution["startedAt"]) == 24
    assert f"Execution ID: {execution['id']}" in done.stderr
    assert "No worker is running: running the execution in this process." in done.stderr


def test_execution_detail_lists_the_three_job_executions_with_logs(run: Run) -> None:
    execution = start_ok(run)

    done = run("workflow", "executions", str(execution["id"]), "-l", "-j")

    assert done.code == 0, done.stderr
    detail = done.json()
    assert set(detail) == EXECUTION_KEYS | {"jobDetails"}
    jobs = detail["jobDetails"]
    assert [job["stackedJobName"] for job in jobs] == STACKED_NAMES
    assert all(set(job) == JOB_KEYS for job in jobs)
    assert {job["status"] for job in jobs} == {"SUCCESS"}
    assert {job["executionId"] for job in jobs} == {execution["id"]}
    assert "fetching customer c1" in jobs[1]["logs"]
    assert "to c1@example.com: Order o1 is being processed" in jobs[2]["logs"]
    assert jobs[1]["result"] == {"id": "c1", "email": "c1@example.com"}


def test_execution_detail_as_text_has_a_section_per_job(run: Run) -> None:
    execution = start_ok(run)

    done = run("workflow", "executions", str(execution["id"]), "--logs")

    assert done.code == 0, done.stderr
    for name in STACKED_NAMES:
        assert f"--- {name} ---" in done.stdout
    for label in ("Status: SUCCESS", "Started: ", "Finished: ", "Logs:", "Result: {"):
        assert label in done.stdout
    assert '"customerEmail": "c1@example.com"' in done.stdout


def test_executions_filters_by_status_and_name_newest_first(run: Run, project: Path) -> None:
    first = start_ok(run)
    second = start_ok(run)

    by_name = run("workflow", "executions", "-n", "order-processing", "-j").json()
    assert [e["id"] for e in by_name] == [second["id"], first["id"]]
    assert all(set(e) == EXECUTION_KEYS for e in by_name)
    assert run("workflow", "executions", "-s", "failed", "-j").json() == []
    assert len(run("workflow", "executions", "-s", "Success", "-j").json()) == 2
    assert run("workflow", "executions", "-n", "no-such-workflow", "-j").json() == []
    empty = run("workflow", "executions", "-s", "failed")
    assert empty.code == 0 and empty.stdout.strip() == "No executions found."


def test_list_and_get_shapes(run: Run) -> None:
    listed = run("workflow", "list", "-j")
    assert listed.code == 0, listed.stderr
    [entry] = listed.json()
    assert set(entry) == {"name", "mainJob", "jobFunctions", "updatedAt"}
    assert (entry["name"], entry["mainJob"], entry["jobFunctions"]) == (
        "order-processing",
        "process-order",
        3,
    )
    assert run("workflow", "-j").json() == listed.json()

    got = run("workflow", "get", "order-processing", "-j")
    assert got.code == 0, got.stderr
    shape = got.json()
    assert set(shape) == {"name", "id", "mainJob", "jobFunctions", "createdAt", "updatedAt"}
    assert sorted(shape["jobFunctions"]) == ["fetch-customer", "process-order", "send-notification"]
    assert all(isinstance(v, str) and v for v in shape["jobFunctions"].values())


def test_list_and_get_as_tables(run: Run) -> None:
    listed = run("workflow")
    assert listed.code == 0 and "order-processing" in listed.stdout
    got = run("workflow", "get", "order-processing")
    assert got.code == 0 and "fetch-customer" in got.stdout and "mainJob" in got.stdout


def test_get_tells_which_executions_ran_another_job_version(run: Run, project: Path) -> None:
    start_ok(run)
    old = run("workflow", "get", "order-processing", "-j").json()["jobFunctions"]
    job_file = project / "workflows" / "jobs" / "fetch_customer.py"
    job_file.write_text(
        job_file.read_text().replace("fetching customer", "looking up customer"), encoding="utf-8"
    )

    shape = run("workflow", "get", "order-processing", "-j").json()

    assert shape["jobFunctions"]["fetch-customer"] != old["fetch-customer"]
    assert shape["otherVersions"] == {"fetch-customer": [old["fetch-customer"]]}


def test_get_unknown_workflow_is_a_usage_error(run: Run) -> None:
    done = run("workflow", "get", "nope")
    assert done.code == 2
    assert done.one_error_line() == (
        "Error: Unknown workflow 'nope'. Known workflows: order-processing."
    )


FLAKY_NOTIFICATION = '''\
"""send-notification, failing while the file `broken` exists."""

from pathlib import Path
from typing import Any

from stackflow import workflow_job

HERE = Path(__file__).resolve().parents[2]


@workflow_job("send-notification")
def send_notification(input: dict[str, Any]) -> dict[str, Any]:
    with open(HERE / "runs.txt", "a") as runs:
        runs.write("send-notification\\n")
    if (HERE / "broken").exists():
        raise RuntimeError("mail server down")
    return {"sent": True, "recipient": input["recipient"]}
'''

COUNTED_FETCH = '''\
"""fetch-customer, counting its runs."""

from pathlib import Path
from typing import Any

from stackflow import create_workflow_job

HERE = Path(__file__).resolve().parents[2]


def _fetch(input: dict[str, Any]) -> dict[str, Any]:
    with open(HERE / "runs.txt", "a") as runs:
        runs.write("fetch-customer\\n")
    return {"id": input["customerId"], "email": f"{input['customerId']}@example.com"}


fetch_customer = create_workflow_job(name="fetch-customer", body=_fetch)
'''


def test_failed_execution_resumes_without_rerunning_finished_jobs(run: Run, project: Path) -> None:
    jobs = project / "workflows" / "jobs"
    (jobs / "send_notification.py").write_text(FLAKY_NOTIFICATION, encoding="utf-8")
    (jobs / "fetch_customer.py").write_text(COUNTED_FETCH, encoding="utf-8")
    (project / "broken").touch()

    failed = run("workflow", "start", "order-processing", "-m", "admin", "-a", ORDER, "-W", "-j")
    assert failed.code == 1, failed.stderr
    failed.assert_clean()
    execution = failed.json()
    assert execution["status"] == "FAILED"
    assert "mail server down" in execution["error"]["message"]

    (project / "broken").unlink()  # the fix
    resumed = run("workflow", "resume", str(execution["id"]), "-W", "-j")
    assert resumed.code == 0, resumed.stderr
    assert resumed.json()["status"] == "SUCCESS"
    assert resumed.json()["id"] == execution["id"]
    assert resumed.json()["result"] == RESULT
    runs = (project / "runs.txt").read_text().split()
    assert runs.count("fetch-customer") == 1
    assert runs.count("send-notification") == 2

    again = run("workflow", "resume", str(execution["id"]))
    assert again.code == 1
    assert again.one_error_line() == (
        f"Error: Execution '{execution['id']}' is not in a resumable state. It is SUCCESS: "
        "only a FAILED or PENDING_RETRY execution can be resumed; `stackflow workflow restart` "
        "runs it again as a new execution."
    )


def test_failed_execution_as_text_exits_1(run: Run, project: Path) -> None:
    (project / "workflows" / "jobs" / "send_notification.py").write_text(
        FLAKY_NOTIFICATION, encoding="utf-8"
    )
    (project / "broken").touch()
    done = run("workflow", "start", "order-processing", "-m", "admin", "-a", ORDER, "-W")
    assert done.code == 1
    done.assert_clean()
    assert "FAILED" in done.stdout


def test_start_without_wait_and_without_worker_stays_pending(run: Run) -> None:
    done = run("workflow", "start", "order-processing", "-m", "admin", "-a", ORDER, "-j")

    assert done.code == 0, done.stderr
    shape = done.json()
    assert set(shape) == {"executionId"}
    assert f"Execution ID: {shape['executionId']}" in done.stderr
    assert "`stackflow worker`" in done.stderr
    pending = run("workflow", "executions", shape["executionId"], "-j").json()
    assert pending["status"] == "PENDING"
    assert pending["startedAt"] is None and pending["finishedAt"] is None

    waited = run("workflow", "wait", shape["executionId"], "-j", "-i", "50ms")
    assert waited.code == 0, waited.stderr
    assert waited.json()["status"] == "SUCCESS"


def test_machine_user_from_the_environment(run: Run) -> None:
    done = run(
        "workflow", "start", "order-processing", "-a", ORDER, "-W", "-j",
        STACKFLOW_MACHINE_USER="admin",
    )  # fmt: skip
    assert done.code == 0, done.stderr
    assert done.json()["invoker"]["id"] == "admin"


def test_machine_user_required_when_some_are_configured(run: Run, project: Path) -> None:
    done = run("workflow", "start", "order-processing", "-a", ORDER)
    assert done.code == 2
    assert "Missing -m/--machineuser" in done.one_error_line()


def test_no_machine_user_configured_starts_with_a_null_invoker(run: Run, project: Path) -> None:
    toml = project / "stackflow.toml"
    text = toml.read_text()
    toml.write_text(text[: text.index("[machine_users.admin]")], encoding="utf-8")

    done = run("workflow", "start", "order-processing", "-a", ORDER, "-W", "-j")

    assert done.code == 0, done.stderr
    assert done.json()["invoker"] is None


def test_arg_given_with_g_and_long_options(run: Run) -> None:
    done = run(
        "workflow", "start", "order-processing", "--machine-user", "admin", "-g", ORDER,
        "--wait", "--interval", "100ms", "--json",
    )  # fmt: skip
    assert done.code == 0, done.stderr
    assert done.json()["arg"] == {"orderId": "o1", "customerId": "c1"}


def test_job_output_stays_out_of_stdout(run: Run, project: Path) -> None:
    (project / "workflows" / "jobs" / "fetch_customer.py").write_text(
        textwrap.dedent(
            """\
            import logging
            import sys

            from stackflow import create_workflow_job


            def _fetch(input):
                print("to stdout")
                print("to stderr", file=sys.stderr)
                logging.getLogger("shop").warning("a warning")
                return {"id": input["customerId"], "email": "x@example.com"}


            fetch_customer = create_workflow_job(name="fetch-customer", body=_fetch)
            """
        ),
        encoding="utf-8",
    )
    done = run(
        "workflow", "start", "order-processing", "-m", "admin", "-a", ORDER, "-W", "-l", "-j"
    )
    assert done.code == 0, done.stderr
    logs = done.json()["jobDetails"][1]["logs"]
    for text in ("to stdout", "to stderr", "a warning"):
        assert text in logs
        assert text not in done.stderr


def test_cancel_a_pending_execution(run: Run) -> None:
    started = run("workflow", "start", "order-processing", "-m", "admin", "-a", ORDER, "-j")
    execution_id = started.json()["executionId"]

    canceled = run("workflow", "cancel", execution_id, "-j")

    assert canceled.code == 0, canceled.stderr
    shape = canceled.json()
    assert set(shape) == EXECUTION_KEYS
    assert shape["status"] == "CANCELED" and shape["finishedAt"] is not None
    again = run("workflow", "cancel", execution_id)
    assert again.code == 1
    assert again.one_error_line() == (
        f"Error: Execution '{execution_id}' cannot be canceled: it is CANCELED."
    )
    resumed = run("workflow", "resume", execution_id)
    assert resumed.code == 1 and "is not in a resumable state" in resumed.one_error_line()
