"""The dashboard's HTTP server: routes requests to the page and the JSON API."""

from __future__ import annotations

import json
import re
import socket
import sys
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from stackflow.engine.engine import Engine
from stackflow.ui import api
from stackflow.ui.page import CONTENT_SECURITY_POLICY, PAGE

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MAX_BODY_BYTES = 64 * 1024
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

Route = Callable[[Engine, str], Any]

GET_ROUTES: dict[str, Route] = {"workflows": api.get_workflow, "executions": api.get_execution}
POST_ACTIONS: dict[str, Route] = {"resume": api.resume, "cancel": api.cancel}
EXECUTION_ACTION = re.compile(r"^/api/executions/(?P<id>[^/]+)/(?P<action>[^/]+)$")
ONE_ITEM = re.compile(r"^/api/(?P<kind>workflows|executions)/(?P<key>[^/]+)$")
JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


class DashboardServer(ThreadingHTTPServer):
    """A threading HTTP server holding the engine its handlers read from."""

    daemon_threads = True

    def __init__(self, engine: Engine, host: str, port: int) -> None:
        self.engine = engine
        self.bound_host = host
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), DashboardHandler)

    @property
    def url(self) -> str:
        """`http://HOST:PORT` as bound (the real port when 0 was asked for)."""
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"


def json_bytes(value: Any) -> bytes:
    """JSON with `<`, `>` and `&` escaped, so job data never reads as markup."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    for raw, escaped in JSON_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text.encode("utf-8")


class DashboardHandler(BaseHTTPRequestHandler):
    """One request: `/` is the page, `/api/...` the JSON API."""

    server: DashboardServer
    server_version = "stackflow-ui"

    def do_GET(self) -> None:
        """The page or a JSON read."""
        if not self._allowed_host():
            return
        path, query = self._target()
        if path == "/":
            self._send(HTTPStatus.OK, PAGE.encode("utf-8"), "text/html; charset=utf-8")
        elif path.startswith("/api/"):
            self._answer(lambda: self._get(path, query))
        else:
            self._send_error(HTTPStatus.NOT_FOUND, f"Nothing at {path}.")

    def do_POST(self) -> None:
        """Resume or cancel an execution."""
        self._discard_body()
        if not self._allowed_host() or not self._same_origin():
            return
        path, _ = self._target()
        self._answer(lambda: self._post(path))

    def do_PUT(self) -> None:
        """Not allowed."""
        self._method_not_allowed()

    do_DELETE = do_PATCH = do_PUT

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the page polls every 2 s (errors are reported by `_answer`)."""

    # routing ----------------------------------------------------------------------------

    def _get(self, path: str, query: dict[str, str]) -> Any:
        if path == "/api/workflows":
            return api.list_workflows(self.server.engine)
        if path == "/api/executions":
            return api.list_executions(self.server.engine, query)
        found = ONE_ITEM.match(path)
        if found is None:
            raise self._no_route(path)
        route = GET_ROUTES[found["kind"]]
        return route(self.server.engine, unquote(found["key"]))

    def _post(self, path: str) -> Any:
        found = EXECUTION_ACTION.match(path)
        if found is None or found["action"] not in POST_ACTIONS:
            raise self._no_route(path)
        action = POST_ACTIONS[found["action"]]
        return action(self.server.engine, unquote(found["id"]))

    def _answer(self, produce: Callable[[], Any]) -> None:
        try:
            value = produce()
        except api.ApiError as refused:
            self._send_error(refused.status, refused.message)
            return
        except Exception as error:
            mapped = api.api_error_for(error)
            if mapped is None:
                self._report(error)
                self._send_error(HTTPStatus.INTERNAL_SERVER_ERROR, api.one_line(error))
            else:
                self._send_error(mapped.status, mapped.message)
            return
        self._send(HTTPStatus.OK, json_bytes(value), "application/json; charset=utf-8")

    def _no_route(self, path: str) -> api.ApiError:
        return api.ApiError(HTTPStatus.NOT_FOUND, f"No API endpoint at {path}.")

    def _target(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        return path, dict(parse_qsl(parts.query))

    # guards -----------------------------------------------------------------------------

    def _allowed_host(self) -> bool:
        """On a loopback address, only loopback Host headers (no DNS rebinding)."""
        if self.server.bound_host not in LOOPBACK_HOSTS:
            return True
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
        if not host or host in LOOPBACK_HOSTS:
            return True
        self._send_error(HTTPStatus.FORBIDDEN, f"Host '{host}' is not served here.")
        return False

    def _same_origin(self) -> bool:
        """A browser's POST must come from this dashboard's own page."""
        origin = self.headers.get("Origin")
        if origin is None or urlsplit(origin).netloc == self.headers.get("Host"):
            return True
        self._send_error(HTTPStatus.FORBIDDEN, "Cross-origin requests are refused.")
        return False

    def _discard_body(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if 0 < length <= MAX_BODY_BYTES:
            self.rfile.read(length)
        elif length > MAX_BODY_BYTES:
            self.close_connection = True

    # responses --------------------------------------------------------------------------

    def _method_not_allowed(self) -> None:
        self._send_error(HTTPStatus.METHOD_NOT_ALLOWED, f"{self.command} is not supported.")

    def _send_error(self, status: int, message: str) -> None:
        body = json_bytes({"error": message})
        self._send(status, body, "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, POST")
        self.end_headers()
        self.wfile.write(body)

    def _report(self, error: Exception) -> None:
        detail = api.one_line(error)
        print(
            f"stackflow ui: {self.command} {self.path}: {type(error).__name__}: {detail}",
            file=sys.stderr,
        )


def create_server(
    engine: Engine, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> DashboardServer:
    """Bind the dashboard (OSError when the port is in use); `serve_forever()` runs it."""
    return DashboardServer(engine, host, port)
