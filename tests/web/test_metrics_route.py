"""`GET /metrics`: the engine's Prometheus metrics, behind the API token when one is set."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from test_api_reads import assert_error
from web_helpers import TOKEN, Project

from stackflow import Engine

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(reply: httpx.Response) -> Samples:
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def _key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return (name, frozenset(labels.items()))


def test_metrics_show_the_stores_pending_work_and_what_this_process_ran(
    client: httpx.Client, engine: Engine, project: Project
) -> None:
    first = samples(client.get("/metrics"))
    assert first[_key("stackflow_executions_pending", workflow="order-processing")] == 1
    assert first[_key("stackflow_executions_pending", workflow="restock")] == 0
    assert first[_key("stackflow_executions_pending_age_seconds", workflow="order-processing")] > 0
    assert first[_key("stackflow_store_up")] == 1
    started = _key("stackflow_executions_started_total", workflow="order-processing")
    assert started not in first

    # run in this thread (no timeout): its run has been counted when wait returns
    assert engine.wait(project.pending, run_here=True).status == "SUCCESS"
    after = samples(client.get("/metrics"))
    assert after[started] == 1
    finished = _key(
        "stackflow_executions_finished_total", workflow="order-processing", status="SUCCESS"
    )
    assert after[finished] == 1
    assert after[_key("stackflow_job_duration_seconds_count", job="fetch-customer")] == 1


def test_with_a_token_metrics_need_it_too(token_client: httpx.Client) -> None:
    assert_error(token_client.get("/metrics"), 401, "Missing token")
    assert_error(
        token_client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401, "Wrong token."
    )
    reply = token_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert _key("stackflow_store_up") in samples(reply)
