"""The dashboard page: static files, a strict policy, data only through the API as text."""

from __future__ import annotations

import re

import httpx
from web_helpers import SCRIPT_TEXT, Project

from stackflow.web.page import STATIC_DIRECTORY

SINKS = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function(")


def test_page_is_served_with_a_strict_policy(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    html = page.text
    assert re.findall(r"<script[^>]*>", html) == ['<script type="module" src="static/main.js">']
    assert "</script>" in html and "<script>" not in html
    assert " style=" not in html and "<style" not in html


def test_assets_are_served_with_the_same_policy(client: httpx.Client) -> None:
    for name in ("main.js", "api.js", "timeline.js", "app.css"):
        reply = client.get(f"/static/{name}")
        assert reply.status_code == 200, name
        assert "Content-Security-Policy" in reply.headers
    assert client.get("/static/main.js").headers["Content-Type"].startswith("text/javascript")
    assert client.get("/static/../app.py").status_code == 404


def test_scripts_put_data_in_as_text_only() -> None:
    scripts = {path.name: path.read_text() for path in STATIC_DIRECTORY.glob("*.js")}
    assert "textContent" in scripts["dom.js"]
    for name, text in scripts.items():
        for sink in SINKS:
            assert sink not in text, f"{sink} in {name}"
        assert 'fetch("/' not in text and "fetch(`/" not in text, f"absolute URL in {name}"


def test_the_page_holds_no_data(client: httpx.Client, project: Project) -> None:
    html = client.get("/").text
    assert SCRIPT_TEXT not in html
    assert project.succeeded not in html
