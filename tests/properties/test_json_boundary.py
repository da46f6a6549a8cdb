"""Values crossing the JSON boundary through real jobs: round trips, conversions, clear refusals."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from values import (
    DATETIMES,
    JSON_OBJECTS,
    JSON_VALUES,
    LONE_SURROGATES,
    embed,
    json_text_of_datetime,
)

from stackflow import Engine, create_workflow, create_workflow_job
from stackflow.errors import InvalidArgument

PRODUCED: dict[str, Any] = {}
_keys = itertools.count()


def _echo(input: Any) -> Any:
    return input


def _produce(input: Any) -> Any:
    return PRODUCED.pop(input["key"])


echo = create_workflow_job(name="echo", body=_echo)
produce = create_workflow_job(name="produce", body=_produce)


def _echo_main(input: Any, ctx: Any) -> Any:
    return {"main": ctx.jobs.echo(input)}


def _produce_main(input: Any, ctx: Any) -> Any:
    return {"main": ctx.jobs.produce(input)}


echo_main = create_workflow_job(name="echo-main", body=_echo_main, deps=[echo])
produce_main = create_workflow_job(name="produce-main", body=_produce_main, deps=[produce])
boundary = create_workflow(name="boundary", main_job=echo_main)
producing = create_workflow(name="producing", main_job=produce_main)

EXAMPLES = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
CONTAINERS = st.lists(JSON_VALUES, max_size=3) | st.dictionaries(st.text(max_size=5), JSON_VALUES)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    with Engine(store_url, [boundary, producing]) as running:
        yield running


def _run_producing(engine: Engine, value: Any) -> Any:
    key = f"v{next(_keys)}"
    PRODUCED[key] = value
    execution_id = engine.start(producing, {"key": key})
    return engine.wait(execution_id, run_here=True)


def _executions(engine: Engine) -> int:
    return len(engine.list_executions())


@EXAMPLES
@given(arg=JSON_OBJECTS)
def test_json_values_cross_jobs_unchanged(engine: Engine, arg: dict[str, Any]) -> None:
    done = engine.wait(engine.start(boundary, arg), run_here=True)

    assert done.status == "SUCCESS", done.error
    assert done.arg == arg
    assert done.result == {"main": arg}
    child = next(j for j in done.job_executions if j.job_name == "echo")
    assert child.input == arg and child.result == arg


@EXAMPLES
@given(container=CONTAINERS, moment=DATETIMES)
def test_datetimes_come_back_as_utc_text(engine: Engine, container: Any, moment: Any) -> None:
    done = _run_producing(engine, embed(container, moment))

    assert done.status == "SUCCESS", done.error
    assert done.result == {"main": embed(container, json_text_of_datetime(moment))}


@EXAMPLES
@given(container=CONTAINERS, bad=st.sampled_from([float("nan"), float("inf"), -float("inf")]))
def test_non_finite_floats_fail_the_job_naming_it(
    engine: Engine, container: Any, bad: float
) -> None:
    done = _run_producing(engine, embed(container, bad))

    assert done.status == "FAILED"
    failed = next(j for j in done.job_executions if j.job_name == "produce")
    assert failed.status == "FAILED" and failed.error is not None
    assert "produce" in failed.error["message"] and "float" in failed.error["message"]


@EXAMPLES
@given(container=CONTAINERS, surrogate=LONE_SURROGATES)
def test_a_result_with_a_lone_surrogate_fails_the_job(
    engine: Engine, container: Any, surrogate: str
) -> None:
    done = _run_producing(engine, embed(container, f"a{surrogate}b"))

    assert done.status == "FAILED"
    assert "UTF-8" in str(done.error)


@EXAMPLES
@given(
    arg=JSON_OBJECTS,
    bad=st.sampled_from([float("nan"), float("inf"), {1, 2}, b"bytes", object()]),
)
def test_an_argument_that_is_not_json_is_refused(engine: Engine, arg: Any, bad: Any) -> None:
    before = _executions(engine)

    with pytest.raises(InvalidArgument):
        engine.start(boundary, embed(arg, bad))

    assert _executions(engine) == before


@EXAMPLES
@given(arg=JSON_OBJECTS, surrogate=LONE_SURROGATES)
def test_an_argument_with_a_lone_surrogate_is_refused(
    engine: Engine, arg: Any, surrogate: str
) -> None:
    before = _executions(engine)

    with pytest.raises(InvalidArgument):
        engine.start(boundary, embed(arg, surrogate))

    assert _executions(engine) == before
