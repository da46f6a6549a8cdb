"""Running executions: results, job executions, statuses, logs, invokers, the JSON boundary."""

from __future__ import annotations

import logging
import re
from datetime import datetime

import pytest

from stackflow import JobFailed, create_workflow, create_workflow_job, workflow_job
from stackflow.errors import ExecutionNotFound, InvalidArgument, UnknownWorkflow
from stackflow.testing import assert_job_executions, run_workflow

fetch_customer = create_workflow_job(
    name="fetch-customer",
    body=lambda input: (
        print(f"fetching {input['customerId']}"),
        {"id": input["customerId"], "email": f"{input['customerId']}@example.com"},
    )[1],
)


def _notify(input: dict[str, str]) -> dict[str, bool]:
    logging.getLogger("notifications").warning("sending to %s", input["recipient"])
    return {"sent": True}


send_notification = create_workflow_job(name="send-notification", body=_notify)


@workflow_job("process-order", deps=[fetch_customer, send_notification])
def process_order(input: dict[str, str], ctx: object) -> dict[str, object]:
    customer = ctx.jobs.fetch_customer.trigger({"customerId": input["customerId"]})  # type: ignore[attr-defined]
    note = ctx.jobs.send_notification.trigger(  # type: ignore[attr-defined]
        {"message": f"Order {input['orderId']} is being processed", "recipient": customer["email"]}
    )
    ctx.logger.info("order %s done", input["orderId"])  # type: ignore[attr-defined]
    return {
        "orderId": input["orderId"],
        "customerEmail": customer["email"],
        "notificationSent": note["sent"],
    }


order_processing = create_workflow(name="order-processing", main_job=process_order)


def test_seed_order_processing_runs_to_success(make_engine):
    engine = make_engine(order_processing)
    execution = run_workflow(engine, order_processing, {"orderId": "o1", "customerId": "c1"})
    assert execution.status == "SUCCESS"
    assert execution.result == {
        "orderId": "o1",
        "customerEmail": "c1@example.com",
        "notificationSent": True,
    }
    assert_job_executions(
        execution,
        [
            ("process-order", "SUCCESS"),
            ("process-order/fetch-customer", "SUCCESS"),
            ("process-order/send-notification", "SUCCESS"),
        ],
    )
    logs = {job.stacked_job_name: job.logs for job in execution.job_executions}
    assert "INFO fetching c1" in logs["process-order/fetch-customer"]
    assert "WARNING sending to c1@example.com" in logs["process-order/send-notification"]
    assert "INFO order o1 done" in logs["process-order"]
    assert "fetching" not in logs["process-order"]


def test_execution_record_fields(make_engine):
    engine = make_engine(order_processing, machine_users={"admin": {"role": "ADMIN"}})
    execution_id = engine.start(
        "order-processing", {"orderId": "o2", "customerId": "c2"}, invoker="admin"
    )
    pending = engine.get_execution(execution_id)
    assert pending.status == "PENDING"
    assert pending.started_at is None and pending.finished_at is None
    done = engine.wait(execution_id)
    assert done.id == execution_id
    assert done.workflow_name == "order-processing"
    assert done.arg == {"orderId": "o2", "customerId": "c2"}
    assert done.invoker == {"id": "admin", "type": "machine_user", "attributes": {"role": "ADMIN"}}
    assert done.error is None
    assert done.started_at is not None and done.finished_at is not None
    assert done.started_at <= done.finished_at
    child = done.job_executions[1]
    assert child.input == {"customerId": "c2"}
    assert child.result == {"id": "c2", "email": "c2@example.com"}
    assert child.attempt == 1 and child.job_name == "fetch-customer"


def test_invoker_and_env_reach_jobs(make_engine):
    seen = {}

    def body(input, ctx):
        seen.update(invoker=ctx.invoker, env=dict(ctx.env), execution_id=ctx.execution_id)
        return {}

    workflow = create_workflow(name="who", main_job=create_workflow_job(name="who-am-i", body=body))
    engine = make_engine(workflow, env={"region": "tokyo"}, machine_users={"bot": {"role": "BOT"}})
    execution = run_workflow(engine, workflow, invoker="bot")
    assert seen["invoker"]["attributes"] == {"role": "BOT"}
    assert seen["env"] == {"region": "tokyo"}
    assert seen["execution_id"] == execution.id


def test_child_failure_fails_the_execution_with_the_origin(make_engine):
    def explode(input):
        raise ValueError("card declined")

    charge = create_workflow_job(name="charge-card", body=explode)
    checkout = create_workflow_job(
        name="checkout", body=lambda input, ctx: ctx.jobs.charge_card({}), deps=[charge]
    )
    workflow = create_workflow(name="checkout-flow", main_job=checkout)
    execution = run_workflow(make_engine(workflow), workflow)
    assert execution.status == "FAILED"
    assert execution.error["type"] == "JobFailed"
    assert "charge-card" in execution.error["message"]
    assert "ValueError" in execution.error["message"]
    assert "card declined" in execution.error["message"]
    assert execution.error["stackedJobName"] == "checkout/charge-card"
    assert "raise ValueError" in execution.error["traceback"]
    assert_job_executions(execution, [("checkout", "FAILED"), ("checkout/charge-card", "FAILED")])
    child = execution.job_executions[1]
    assert child.error["type"] == "ValueError" and child.error["message"] == "card declined"


def test_json_boundary_of_child_results(make_engine):
    when = create_workflow_job(
        name="when", body=lambda input: {"at": datetime(2025, 1, 15, 10, 30), "pair": (1, 2)}
    )
    parent = create_workflow_job(
        name="parent", body=lambda input, ctx: ctx.jobs.when({}), deps=[when]
    )
    workflow = create_workflow(name="json-boundary", main_job=parent)
    execution = run_workflow(make_engine(workflow), workflow)
    assert execution.result == {"at": "2025-01-15T10:30:00.000Z", "pair": [1, 2]}


def test_a_set_in_an_output_fails_that_job_with_path_and_type(make_engine):
    bad = create_workflow_job(name="bad-output", body=lambda input: {"items": [1, 2, {"at": {3}}]})
    parent = create_workflow_job(
        name="parent", body=lambda input, ctx: ctx.jobs.bad_output({}), deps=[bad]
    )
    workflow = create_workflow(name="bad-json", main_job=parent)
    execution = run_workflow(make_engine(workflow), workflow)
    assert execution.status == "FAILED"
    child = execution.job_executions[1]
    assert child.stacked_job_name == "parent/bad-output" and child.status == "FAILED"
    assert "bad-output" in child.error["message"]
    assert "items[2].at" in child.error["message"]
    assert "set" in child.error["message"]


def test_parent_can_catch_a_child_failure(make_engine):
    def fail(input):
        raise RuntimeError("nope")

    flaky = create_workflow_job(name="flaky", body=fail)

    def parent_body(input, ctx):
        try:
            ctx.jobs.flaky({})
        except JobFailed as failed:
            return {"caught": failed.job_name, "type": failed.error_type}
        return {"caught": None}

    parent = create_workflow_job(name="careful", body=parent_body, deps=[flaky])
    workflow = create_workflow(name="catching", main_job=parent)
    execution = run_workflow(make_engine(workflow), workflow)
    assert execution.status == "SUCCESS"
    assert execution.result == {"caught": "flaky", "type": "RuntimeError"}


def test_the_same_job_with_the_same_input_at_two_positions_runs_twice(make_engine):
    runs = []
    tick = create_workflow_job(name="tick", body=lambda input: runs.append(1) or {"n": len(runs)})
    parent = create_workflow_job(
        name="twice", body=lambda input, ctx: [ctx.jobs.tick({}), ctx.jobs.tick({})], deps=[tick]
    )
    workflow = create_workflow(name="twice-flow", main_job=parent)
    execution = run_workflow(make_engine(workflow), workflow)
    assert execution.result == [{"n": 1}, {"n": 2}]
    assert len(runs) == 2


def test_job_trigger_on_the_job_object_is_durable_inside_an_execution(make_engine):
    leaf = create_workflow_job(name="leaf", body=lambda input: {"leaf": input["x"]})
    root = create_workflow_job(name="root", body=lambda input: leaf.trigger({"x": 1}))
    workflow = create_workflow(name="newer-style", main_job=root)
    execution = run_workflow(make_engine(workflow), workflow)
    assert execution.result == {"leaf": 1}
    assert [j.stacked_job_name for j in execution.job_executions] == ["root", "root/leaf"]


def test_none_argument_becomes_an_empty_object(make_engine):
    echo = create_workflow_job(name="echo", body=lambda input: {"got": input})
    workflow = create_workflow(name="echo-flow", main_job=echo)
    assert run_workflow(make_engine(workflow), workflow, None).result == {"got": {}}


def test_argument_must_be_a_json_object(make_engine):
    echo = create_workflow_job(name="echo", body=lambda input: input)
    workflow = create_workflow(name="echo-flow", main_job=echo)
    engine = make_engine(workflow)
    with pytest.raises(InvalidArgument, match="JSON object"):
        engine.start(workflow, [1, 2])
    with pytest.raises(InvalidArgument, match="set"):
        engine.start(workflow, {"tags": {"a"}})
    assert engine.list_executions() == []


def test_unknown_workflow_and_execution(make_engine):
    engine = make_engine(order_processing)
    with pytest.raises(UnknownWorkflow, match="order-processing"):
        engine.start("no-such-flow", {})
    with pytest.raises(ExecutionNotFound, match=re.escape("Execution 'nope' not found.")):
        engine.get_execution("nope")
    assert engine.find_execution("nope") is None


def test_idempotency_key_returns_the_same_execution(make_engine):
    engine = make_engine(order_processing)
    first = engine.start(
        order_processing, {"orderId": "o", "customerId": "c"}, idempotency_key="k1"
    )
    again = engine.start(
        order_processing, {"orderId": "o", "customerId": "c"}, idempotency_key="k1"
    )
    other = engine.start(
        order_processing, {"orderId": "o", "customerId": "c"}, idempotency_key="k2"
    )
    assert first == again != other
    assert len(engine.list_executions()) == 2


def test_list_executions_newest_first_and_filtered(make_engine):
    fail_job = create_workflow_job(name="always-fails", body=lambda: 1 / 0)
    failing = create_workflow(name="failing", main_job=fail_job)
    engine = make_engine(order_processing, failing)
    first = run_workflow(engine, order_processing, {"orderId": "a", "customerId": "c"})
    second = run_workflow(engine, failing)
    third = engine.start(order_processing, {"orderId": "b", "customerId": "c"})
    assert [e.id for e in engine.list_executions()] == [third, second.id, first.id]
    assert [e.id for e in engine.list_executions(status="FAILED")] == [second.id]
    assert [e.id for e in engine.list_executions(status="failed")] == [second.id]
    assert [e.id for e in engine.list_executions("order-processing")] == [third, first.id]
    assert engine.list_executions("unknown") == []
    listed = engine.list_executions(status=["SUCCESS", "PENDING"])
    assert {e.id for e in listed} == {first.id, third}
    assert listed[1].job_execution_count == 3


def test_payload_limit_fails_the_job(make_engine):
    big = create_workflow_job(name="big", body=lambda input: {"blob": "x" * 2000})
    parent = create_workflow_job(
        name="parent", body=lambda input, ctx: ctx.jobs.big({}), deps=[big]
    )
    workflow = create_workflow(name="big-flow", main_job=parent)
    execution = run_workflow(make_engine(workflow, payload_limit_bytes=1000), workflow)
    assert execution.status == "FAILED"
    child = execution.job_executions[1]
    assert child.error["type"] == "PayloadTooLarge"
    assert "1000 bytes" in child.error["message"]


def test_stack_depth_limit(make_engine):
    def dive(input):
        return recurse.trigger({"depth": input["depth"] + 1})

    recurse = create_workflow_job(name="recurse", body=dive)
    workflow = create_workflow(name="deep", main_job=recurse)
    execution = run_workflow(make_engine(workflow), workflow, {"depth": 1})
    assert execution.status == "FAILED"
    assert "StackDepthExceeded" in execution.error["message"] or (
        execution.error["type"] == "StackDepthExceeded"
    )
    assert "64" in execution.error["message"]
    assert len(execution.job_executions) == 64


def test_logs_of_parallel_children_are_kept_apart(make_engine):
    def talk(input):
        for n in range(20):
            print(f"child {input['i']} line {n}")
        return input

    talker = create_workflow_job(name="talker", body=talk)

    def fan_out(input, ctx):
        handles = [ctx.jobs.talker.start({"i": i}) for i in range(4)]
        return [h.result() for h in handles]

    parent = create_workflow_job(name="fan-out", body=fan_out, deps=[talker])
    workflow = create_workflow(name="chatty", main_job=parent)
    execution = run_workflow(make_engine(workflow), workflow)
    for job in execution.job_executions[1:]:
        mine = f"child {job.input['i']} "
        lines = job.logs.splitlines()
        assert len(lines) == 20
        assert all(mine in line for line in lines)
