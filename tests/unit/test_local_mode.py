"""Local mode, as the TypeScript SDK's unit tests use it: bodies, triggers, mocks, env, JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from unittest.mock import patch

import pytest

from stackflow import (
    JobContext,
    WorkflowJob,
    create_workflow,
    create_workflow_job,
    workflow_job,
)
from stackflow.errors import ConfigError, JsonValueError

add = create_workflow_job(name="add", body=lambda input: input["a"] + input["b"])
mul = create_workflow_job(name="mul", body=lambda input: input["x"] * input["y"])


@workflow_job("calculate", deps=[add, mul])
def calculate(input: dict, ctx: JobContext) -> int:
    total = ctx.jobs.add.trigger({"a": input["a"], "b": input["b"]})
    product: int = ctx.jobs.mul.trigger({"x": total, "y": input["c"]})
    return product


@workflow_job("calculate-call", deps=[add, mul])
def calculate_call(input: dict, ctx: JobContext) -> int:
    total = ctx.jobs.add({"a": input["a"], "b": input["b"]})
    product: int = ctx.jobs.mul({"x": total, "y": input["c"]})
    return product


@workflow_job("calculate-async", deps=[add, mul])
async def calculate_async(input: dict, ctx: JobContext) -> int:
    total = await ctx.jobs.add({"a": input["a"], "b": input["b"]})
    product: int = await ctx.jobs.mul({"x": total, "y": input["c"]})
    return product


@workflow_job("calculate-async-trigger", deps=[add, mul])
async def calculate_async_trigger(input: dict, ctx: JobContext) -> int:
    total = ctx.jobs.add.trigger({"a": input["a"], "b": input["b"]})
    product: int = ctx.jobs.mul.trigger({"x": total, "y": input["c"]})
    return product


PARENTS = [calculate, calculate_call, calculate_async, calculate_async_trigger]


@pytest.fixture(autouse=True)
def _no_test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACKFLOW_TEST_ENV", raising=False)


def test_body_is_callable_directly() -> None:
    assert add.body({"a": 2, "b": 3}) == 5


@pytest.mark.parametrize("parent", PARENTS, ids=lambda job: job.name)
def test_trigger_runs_the_real_chain(parent: WorkflowJob) -> None:
    assert parent.trigger({"a": 2, "b": 3, "c": 4}) == 20


@pytest.mark.parametrize("parent", PARENTS, ids=lambda job: job.name)
def test_mocked_children(parent: WorkflowJob) -> None:
    with (
        patch.object(add, "trigger", return_value=5) as add_mock,
        patch.object(mul, "trigger", return_value=10) as mul_mock,
    ):
        assert parent.trigger({"a": 2, "b": 3, "c": 4}) == 10
    add_mock.assert_called_once_with({"a": 2, "b": 3})
    mul_mock.assert_called_once_with({"x": 5, "y": 4})


def test_body_with_a_hand_made_context() -> None:
    @workflow_job("greet")
    def greet(input: dict, ctx: JobContext) -> str:
        return f"{ctx.env['greeting']}, {input['name']}"

    assert greet.body({"name": "Ada"}, JobContext(env={"greeting": "Hello"})) == "Hello, Ada"


def test_env_comes_from_stackflow_test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    job = create_workflow_job(name="env", body=lambda input, ctx: dict(ctx.env))
    assert job.trigger() == {}
    monkeypatch.setenv("STACKFLOW_TEST_ENV", '{"foo": 1, "region": "eu"}')
    assert job.trigger() == {"foo": 1, "region": "eu"}


@pytest.mark.parametrize("raw", ["[1, 2]", "3", '"text"'])
def test_env_must_be_a_json_object(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    job = create_workflow_job(name="env", body=lambda input, ctx: dict(ctx.env))
    monkeypatch.setenv("STACKFLOW_TEST_ENV", raw)
    with pytest.raises(ConfigError, match="STACKFLOW_TEST_ENV must hold a JSON object"):
        job.trigger()


def test_env_that_is_not_json(monkeypatch: pytest.MonkeyPatch) -> None:
    job = create_workflow_job(name="env", body=lambda input, ctx: dict(ctx.env))
    monkeypatch.setenv("STACKFLOW_TEST_ENV", "{oops")
    with pytest.raises(ConfigError, match="STACKFLOW_TEST_ENV is not valid JSON"):
        job.trigger()


# The JSON round trip --------------------------------------------------------------------


def echo_job(value: object) -> object:
    return create_workflow_job(name="echo", body=lambda: value).trigger()


def test_datetimes_and_dates_come_back_as_strings() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert echo_job(datetime(2025, 1, 15, 10, 30)) == "2025-01-15T10:30:00.000Z"
    assert echo_job(datetime(2025, 1, 15, 10, 30, 0, 123456, UTC)) == "2025-01-15T10:30:00.123Z"
    assert echo_job(datetime(2025, 1, 15, 19, 30, tzinfo=tokyo)) == "2025-01-15T10:30:00.000Z"
    assert echo_job({"on": date(2025, 1, 15)}) == {"on": "2025-01-15"}


def test_tuples_come_back_as_lists() -> None:
    assert echo_job((1, (2, 3))) == [1, [2, 3]]


def test_none_input_becomes_an_empty_object() -> None:
    job = create_workflow_job(name="input", body=lambda input: input)
    assert job.trigger() == {}
    assert job.trigger(None) == {}
    assert job.trigger({"k": (1,)}) == {"k": [1]}


@pytest.mark.parametrize(
    ("value", "path", "found"),
    [
        ({1, 2}, "<root>", "set"),
        ({"items": [1, {"at": {3}}]}, "items[1].at", "set"),
        ({"blob": b"x"}, "blob", "bytes"),
        ([float("nan")], "[0]", "float nan"),
        ({"n": float("inf")}, "n", "float inf"),
        ({"o": object()}, "o", "object"),
    ],
)
def test_non_json_output_is_rejected(value: object, path: str, found: str) -> None:
    with pytest.raises(JsonValueError) as caught:
        echo_job(value)
    message = str(caught.value)
    assert "job 'echo'" in message
    assert f"at {path}: {found}" in message


def test_non_json_input_is_rejected() -> None:
    job = create_workflow_job(name="input", body=lambda input: input)
    with pytest.raises(JsonValueError, match=r"Input of job 'input' .* at tags: set"):
        job.trigger({"tags": {"a"}})


# ctx.jobs -------------------------------------------------------------------------------

fetch_customer = create_workflow_job(name="fetch-customer", body=lambda input: {"id": 1})
send_notification = create_workflow_job(name="send notification", body=lambda: {"sent": True})


def test_ctx_jobs_attribute_and_item_access() -> None:
    @workflow_job("process", deps=[fetch_customer, send_notification])
    def process(input: dict, ctx: JobContext) -> list[object]:
        return [
            ctx.jobs.fetch_customer.trigger({}),
            ctx.jobs["fetch-customer"].trigger({}),
            ctx.jobs.send_notification(),
            ctx.jobs["send notification"].start().result(),
            "fetch-customer" in ctx.jobs,
            sorted(ctx.jobs),
        ]

    assert process.trigger() == [
        {"id": 1},
        {"id": 1},
        {"sent": True},
        {"sent": True},
        True,
        ["fetch-customer", "send notification"],
    ]


def test_unknown_dep_lists_the_deps() -> None:
    @workflow_job("process", deps=[fetch_customer, send_notification])
    def by_attribute(input: dict, ctx: JobContext) -> object:
        return ctx.jobs.fetch_order.trigger({})

    @workflow_job("process-item", deps=[fetch_customer])
    def by_item(input: dict, ctx: JobContext) -> object:
        return ctx.jobs["fetch-order"].trigger({})

    with pytest.raises(AttributeError) as caught:
        by_attribute.trigger()
    assert str(caught.value) == (
        "'fetch_order' is not a dep of job 'process'; its deps are: "
        "fetch_customer (fetch-customer), send_notification (send notification)"
    )
    with pytest.raises(KeyError, match=r"'fetch-order' is not a dep of job 'process-item'"):
        by_item.trigger()


# Definition-time rules ------------------------------------------------------------------


def test_string_deps_raise_type_error() -> None:
    with pytest.raises(TypeError) as caught:
        create_workflow_job(name="x", deps=["fetch-customer"], body=lambda: 1)  # type: ignore[list-item]
    message = str(caught.value)
    assert "'fetch-customer'" in message
    assert "pass the job object" in message


def test_workflow_without_main_job_raises() -> None:
    with pytest.raises(TypeError, match="main_job"):
        create_workflow(name="x")
