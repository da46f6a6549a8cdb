"""Who may call the API: the bearer token, same-origin writes, and the security headers."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    SimpleUser,
)
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stackflow.web.responses import (
    CONTENT_TOO_LARGE,
    FORBIDDEN,
    UNAUTHORIZED,
    error_response,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""The page's own scripts and styles only; data is fetched from this server only."""
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


class BearerToken(AuthenticationBackend):
    """`Authorization: Bearer <token>` must carry the token (compared in constant time)."""

    def __init__(self, token: str) -> None:
        self.token = token.encode("utf-8")

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser]:
        scheme, _, given = conn.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise AuthenticationError(
                "Missing token: send the header Authorization: Bearer <token>."
            )
        if not hmac.compare_digest(given.strip().encode("utf-8"), self.token):
            raise AuthenticationError("Wrong token.")
        return AuthCredentials(["api"]), SimpleUser("token")


def refuse_unauthenticated(conn: HTTPConnection, error: AuthenticationError) -> Response:
    """401 with the reason, asking for a bearer token."""
    return error_response(UNAUTHORIZED, str(error), {"WWW-Authenticate": "Bearer"})


class SameOriginWrites:
    """A write from a browser must come from this app's own page (no cross-site requests)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = Headers(scope=scope)
            if _cross_site(headers):
                response = error_response(FORBIDDEN, "Cross-origin requests are refused.")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _cross_site(headers: Headers) -> bool:
    if headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
        return True
    origin = headers.get("Origin")
    if origin is None:
        return False  # not sent by a browser's cross-site request
    return origin == "null" or urlsplit(origin).netloc != headers.get("Host")


class SecurityHeaders:
    """Adds the Content-Security-Policy and its companions to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses a request body over `max_bytes` with 413 as JSON, declared or streamed.

    (Starlette's own `max_body_size` answers a declared oversize body in plain text.)
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(Headers(scope=scope)) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(CONTENT_TOO_LARGE)
            return message

        await self.app(scope, receive_within_limit, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"Request body too large: at most {self.max_bytes} bytes."
        await error_response(CONTENT_TOO_LARGE, message)(scope, receive, send)


def _declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("Content-Length", "0"))
    except ValueError:
        return 0
