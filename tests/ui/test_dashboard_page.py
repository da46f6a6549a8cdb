"""The dashboard's HTML page: static markup, data only through the API and textContent."""

from __future__ import annotations

import json

from ui_helpers import SCRIPT_TEXT, Project, request


def test_page_is_served_with_a_strict_policy(dashboard: str) -> None:
    page = request(f"{dashboard}/")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'sha256-" in policy
    assert "unsafe-inline" not in policy
    html = page.body.decode("utf-8")
    assert html.count("<script>") == 1
    assert "/api/executions" in html
    assert "setInterval" in html


def test_page_renders_data_as_text_only(dashboard: str) -> None:
    html = request(f"{dashboard}/").body.decode("utf-8")
    assert "textContent" in html
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in html


def test_script_in_job_logs_is_data(dashboard: str, project: Project) -> None:
    html = request(f"{dashboard}/").body.decode("utf-8")
    assert SCRIPT_TEXT not in html
    assert project.succeeded not in html
    reply = request(f"{dashboard}/api/executions/{project.succeeded}")
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script" not in reply.body
    assert b"\\u003cscript\\u003e" in reply.body
    jobs = {job["stackedJobName"]: job for job in json.loads(reply.body)["jobDetails"]}
    logs = jobs["process-order/fetch-customer"]["logs"]
    assert f"fetching customer {SCRIPT_TEXT}" in logs
