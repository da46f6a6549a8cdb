"""Headless Chromium (Debian's, driven by Playwright for Python) for the dashboard tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("STACKFLOW_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS_VARIABLE = "STACKFLOW_SCREENSHOTS"
"""When set, the browser tests save the documentation's screenshots in that directory."""
MISSING = (
    f"{CHROMIUM} not found: run scripts/browser-up (it installs Debian's chromium), "
    "or set STACKFLOW_TEST_CHROMIUM"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def require_chromium() -> None:
    """Skip (fail in CI) when the browser is not installed."""
    if CHROMIUM.is_file():
        return
    if in_ci():
        pytest.fail(f"CI=true but {MISSING}")
    pytest.skip(MISSING)


def screenshot_path(name: str) -> Path | None:
    """Where to save the screenshot `name`, or None when not asked to."""
    directory = os.environ.get(SCREENSHOTS_VARIABLE)
    if not directory:
        return None
    Path(directory).mkdir(parents=True, exist_ok=True)
    return Path(directory) / name
