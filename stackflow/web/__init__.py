"""The web server: the dashboard, the JSON API and webhooks as one ASGI app (Starlette)."""

from stackflow.web.app import create_app

__all__ = ["create_app"]
