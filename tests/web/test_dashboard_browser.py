"""The dashboard in a real browser: filter, open, timeline, resume live, resolve, the token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, screenshot_path
from playwright.sync_api import expect, sync_playwright
from web_helpers import LiveServer, Project

from stackflow import Engine
from stackflow.web import create_app

pytestmark = pytest.mark.browser
LIVE_SECONDS = 10_000  # milliseconds Playwright waits for the page to follow a change
TOKEN = "browser-token"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab (no stored token); any script error fails the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.set_default_timeout(LIVE_SECONDS)
    yield opened
    context.close()
    assert errors == []
    assert dialogs == []


@pytest.fixture
def url(engine: Engine) -> Iterator[str]:
    with LiveServer(create_app(engine)) as live:
        yield live.url


def shoot(page: Any, name: str, *, full_page: bool = False) -> None:
    path = screenshot_path(name)
    if path is not None:
        page.screenshot(path=str(path), full_page=full_page)


def rows(page: Any) -> list[str]:
    return list(
        page.locator(".execution-rows .erow").evaluate_all("rs => rs.map(r => r.dataset.id)")
    )


def status_shown(page: Any) -> str:
    return str(page.locator("#execution-status").get_attribute("data-status"))


def test_filter_open_and_see_a_bar_per_job_execution(
    url: str, page: Any, project: Project, engine: Engine
) -> None:
    page.goto(f"{url}/")
    page.wait_for_selector(f".erow[data-id='{project.succeeded}']")
    assert rows(page) == [
        project.pending,
        project.ids["waiting"],
        project.ids["restock"],
        project.failed,
        project.succeeded,
    ]
    page.select_option("#status-filter", "FAILED")
    expect(page.locator(".execution-rows .erow")).to_have_count(2)
    assert rows(page) == [project.ids["restock"], project.failed]
    page.select_option("#workflow-filter", "restock")
    expect(page.locator(".execution-rows .erow")).to_have_count(1)
    page.click(f".erow[data-id='{project.ids['restock']}']")
    page.wait_for_selector("#execution-status")
    assert status_shown(page) == "FAILED"
    jobs = engine.get_execution(project.ids["restock"]).job_executions
    bars = page.locator(".timeline .bar")
    assert bars.count() == len(jobs) == 2
    assert sorted(bars.evaluate_all("bs => bs.map(b => b.dataset.jobId)")) == sorted(
        j.id for j in jobs
    )
    assert "s-FAILED" in (bars.first.get_attribute("class") or "")
    failed_job = next(job for job in jobs if job.stacked_job_name == "restock/check-gate")
    page.click(f".row[data-job-id='{failed_job.id}']")
    panel = page.locator(f".job[data-job-id='{failed_job.id}']")
    assert "is closed" in panel.inner_text()
    assert "checking " in panel.inner_text()
    panel.locator("summary").click()
    assert "Traceback (most recent call last)" in panel.inner_text()
    shoot(page, "dashboard-executions.png", full_page=True)


def test_paging(url: str, page: Any, project: Project, engine: Engine) -> None:
    page.goto(f"{url}/?limit=50")
    page.wait_for_selector(f".erow[data-id='{project.succeeded}']")
    for _ in range(50):
        engine.start("restock", {"gate": "g"}, invoker="admin")
    page.reload()
    expect(page.locator(".execution-rows")).to_have_attribute("data-count", "50")
    first = rows(page)
    page.click("text=Older ›")
    page.wait_for_selector(f".erow[data-id='{project.succeeded}']")
    expect(page.locator(".execution-rows")).to_have_attribute("data-count", "5")
    assert len(rows(page)) == 5 and not set(rows(page)) & set(first)
    page.click("text=‹ Newer")
    expect(page.locator(".execution-rows")).to_have_attribute("data-count", "50")
    assert rows(page)[:20] == first[:20]


def test_resume_a_failed_execution_and_watch_it_live(
    url: str, page: Any, project: Project, engine: Engine
) -> None:
    failed = project.ids["restock"]
    page.goto(f"{url}/#/executions/{failed}")
    page.wait_for_selector("#execution-status[data-status='FAILED']")
    page.wait_for_selector("#live.on")
    page.evaluate("window.notReloaded = true")
    Path(project.ids["gate"]).write_text("open", encoding="utf-8")
    page.click("button[data-action='resume']")
    page.wait_for_selector("#execution-status[data-status='PENDING_RESUME']")
    assert engine.wait(failed, timeout=30, run_here=True).status == "SUCCESS"
    page.wait_for_selector("#execution-status[data-status='SUCCESS']")
    row_status = page.locator(f".erow[data-id='{failed}'] .status")
    expect(row_status).to_have_text("SUCCESS")
    assert page.evaluate("window.notReloaded") is True
    assert page.locator(".timeline .bar.s-SUCCESS").count() >= 3


def test_an_execution_started_elsewhere_appears_live(
    url: str, page: Any, project: Project, engine: Engine
) -> None:
    page.goto(f"{url}/")
    page.wait_for_selector("#live.on")
    started = engine.start("approval", {"amount": 3}, invoker="admin")
    page.wait_for_selector(f".erow[data-id='{started}']")
    assert rows(page)[0] == started


def test_resolve_a_waiting_execution(url: str, page: Any, project: Project, engine: Engine) -> None:
    waiting = project.ids["waiting"]
    page.goto(f"{url}/#/executions/{waiting}")
    page.wait_for_selector("#execution-status[data-status='WAITING']")
    waiting_for = page.locator("h3", has_text="Waiting for")
    assert waiting_for.inner_text() == "Waiting for manager-approval"
    page.click("button[data-action='resolve']")
    page.wait_for_selector("#resolve-dialog[open]")
    assert json.loads(page.locator("#resolve-payload").inner_text()) == {"amount": 120}
    page.fill("#resolve-result", '{"approved": tru')
    page.click("#resolve-send")
    assert page.locator("#resolve-error").inner_text().startswith("Invalid JSON")
    page.fill("#resolve-result", '{\n  "approved": true\n}')
    shoot(page, "dashboard-resolve.png")
    page.click("#resolve-send")
    page.wait_for_selector("#execution-status[data-status='PENDING_RESUME']")
    assert not page.locator("#resolve-dialog").is_visible()
    assert engine.wait(waiting, timeout=30, run_here=True).result == {"approved": True}
    page.wait_for_selector("#execution-status[data-status='SUCCESS']")


def test_cancel(url: str, page: Any, project: Project) -> None:
    page.goto(f"{url}/#/executions/{project.pending}")
    page.wait_for_selector("#execution-status[data-status='PENDING']")
    assert page.locator("button[data-action='resume']").is_disabled()
    page.click("button[data-action='cancel']")
    page.wait_for_selector("#execution-status[data-status='CANCELED']")
    assert page.locator("button[data-action='cancel']").is_disabled()


def test_refused_without_the_token(page: Any, engine: Engine, project: Project) -> None:
    with LiveServer(create_app(engine, TOKEN)) as live:
        page.goto(f"{live.url}/")
        page.wait_for_selector("#token-dialog[open]")
        assert rows(page) == []
        page.fill("#token-input", "wrong")
        page.press("#token-input", "Enter")
        expect(page.locator("#token-error")).to_have_text("Wrong token.")
        assert rows(page) == []
        page.fill("#token-input", TOKEN)
        page.click("#token-save")
        page.wait_for_selector(f".erow[data-id='{project.succeeded}']")
        page.wait_for_selector("#live.on")
        page.reload()  # the token is kept while the tab is open
        page.wait_for_selector(f".erow[data-id='{project.succeeded}']")
        assert not page.locator("#token-dialog").is_visible()
        page.goto("about:blank")


def test_user_data_is_shown_as_text(url: str, page: Any, project: Project, engine: Engine) -> None:
    page.goto(f"{url}/#/executions/{project.succeeded}")
    fetch = next(
        job
        for job in engine.get_execution(project.succeeded).job_executions
        if job.stacked_job_name == "process-order/fetch-customer"
    )
    page.click(f".row[data-job-id='{fetch.id}']")
    panel = page.locator(f".job[data-job-id='{fetch.id}']")
    assert "fetching customer <script>alert('x')</script>" in panel.inner_text()
    assert page.locator("main script").count() == 0


def test_workflow_graph(url: str, page: Any) -> None:
    page.goto(f"{url}/#/workflows")
    page.click("tr[data-name='restock']")
    page.wait_for_selector(".graph svg")
    nodes = page.locator(".graph .node")
    assert nodes.count() == 3
    assert page.locator(".graph .edge").count() == 2
    assert page.locator(".graph .node.main").get_attribute("data-job") == "restock"
    shoot(page, "dashboard-workflow.png")


def test_an_execution_of_a_thousand_jobs_stays_usable(url: str, page: Any, engine: Engine) -> None:
    big = engine.start("fanout", {"count": 1000}, invoker="admin")
    assert engine.wait(big, timeout=120).status == "SUCCESS"
    page.goto(f"{url}/#/executions/{big}")
    page.wait_for_selector(".timeline .bar")
    assert page.locator(".timeline .label").inner_text() == "1001 job executions"
    drawn = page.locator(".timeline .row").count()
    assert 10 < drawn < 100
    page.locator(".timeline .rows").evaluate("rows => { rows.scrollTop = rows.scrollHeight; }")
    last = page.locator(".timeline .row[style*='top: 24000px'] .name[title='fan-out/square']")
    expect(last).to_have_count(1)
    page.locator(".timeline .rows").evaluate("rows => { rows.scrollTop = 0; }")
    page.locator(".timeline .toggle").first.click()
    expect(page.locator(".timeline .row")).to_have_count(1)


def test_mounted_under_a_prefix(page: Any, engine: Engine, project: Project) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    outer = Starlette(routes=[Mount("/workflows", create_app(engine, TOKEN))])
    with LiveServer(outer) as live:
        page.goto(f"{live.url}/workflows/")
        page.wait_for_selector("#token-dialog[open]")
        page.fill("#token-input", TOKEN)
        page.click("#token-save")
        page.click(f".erow[data-id='{project.failed}']")
        page.wait_for_selector("#execution-status[data-status='FAILED']")
        page.wait_for_selector("#live.on")
        page.goto("about:blank")
