"""Who may call the API: the bearer token, same-origin writes, the Host header."""

from __future__ import annotations

import httpx
import pytest
from test_api_reads import assert_error
from web_helpers import TOKEN, LiveServer, Project

from stackflow import Engine
from stackflow.network import LOOPBACK_HOSTS
from stackflow.web import create_app

API_ROUTES = [
    ("GET", "/api/workflows"),
    ("GET", "/api/workflows/restock"),
    ("GET", "/api/workflows/restock/graph"),
    ("GET", "/api/executions"),
    ("GET", "/api/executions/{failed}"),
    ("GET", "/api/executions/{failed}/wait-points"),
    ("GET", "/api/webhooks"),
    ("GET", "/api/events"),
    ("GET", "/api/nothing"),
    ("POST", "/api/workflows/restock/start"),
    ("POST", "/api/executions/{failed}/resume"),
    ("POST", "/api/executions/{pending}/cancel"),
    ("POST", "/api/executions/{failed}/restart"),
    ("POST", "/api/executions/{waiting}/wait-points/manager-approval"),
]
BAD_HEADERS = {
    "missing": ({}, "Missing token: send the header Authorization: Bearer <token>."),
    "wrong": ({"Authorization": f"Bearer {TOKEN}x"}, "Wrong token."),
    "prefix": ({"Authorization": f"Bearer {TOKEN[:-1]}"}, "Wrong token."),
    "basic": ({"Authorization": f"Basic {TOKEN}"}, "Missing token"),
    "bare": ({"Authorization": TOKEN}, "Missing token"),
}


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_every_api_route_needs_the_token(
    token_client: httpx.Client, engine: Engine, project: Project, method: str, path: str
) -> None:
    url = path.format(failed=project.failed, pending=project.pending, **project.ids)
    before = {e.id: e.status for e in engine.list_executions()}
    for headers, text in BAD_HEADERS.values():
        reply = token_client.request(method, url, headers=headers, json={"result": 1})
        assert_error(reply, 401, text)
        assert reply.headers["WWW-Authenticate"] == "Bearer"
    assert {e.id: e.status for e in engine.list_executions()} == before


def test_the_right_token_opens_the_api(token_client: httpx.Client, project: Project) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert token_client.get("/api/executions", headers=bearer).status_code == 200
    lowercase = {"Authorization": f"bearer {TOKEN}"}
    assert token_client.get("/api/workflows", headers=lowercase).status_code == 200
    cancel = token_client.post(f"/api/executions/{project.pending}/cancel", headers=bearer)
    assert cancel.json()["status"] == "CANCELED"


def test_the_page_and_webhooks_need_no_token(token_client: httpx.Client) -> None:
    assert token_client.get("/").status_code == 200
    assert token_client.get("/static/main.js").status_code == 200
    unsigned = token_client.post("/hooks/order-hook", json={"orderId": "o1"})
    assert_error(unsigned, 401, "Missing or wrong signature")


def test_cross_origin_writes_are_refused(client: httpx.Client, project: Project) -> None:
    url = f"/api/executions/{project.pending}/cancel"
    foreign = client.post(url, headers={"Origin": "http://evil.example"})
    assert_error(foreign, 403, "Cross-origin requests are refused.")
    cross_site = client.post(url, headers={"Sec-Fetch-Site": "cross-site"})
    assert_error(cross_site, 403, "Cross-origin requests are refused.")
    assert client.get(f"/api/executions/{project.pending}").json()["status"] == "PENDING"
    own = client.post(url, headers={"Origin": str(client.base_url).rstrip("/")})
    assert own.json()["status"] == "CANCELED"


def test_foreign_host_headers_are_refused_on_loopback(engine: Engine) -> None:
    app = create_app(engine, allowed_hosts=LOOPBACK_HOSTS)
    with LiveServer(app) as live, httpx.Client(base_url=live.url) as client:
        rebound = client.get("/api/executions", headers={"Host": "evil.example"})
        assert rebound.status_code == 400
        assert client.get("/api/executions", headers={"Host": "localhost:8765"}).is_success
        assert client.get("/api/executions").is_success
