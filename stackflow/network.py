"""Addresses: which hosts only this machine can reach."""

from __future__ import annotations

import ipaddress

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
"""Host headers of a server bound to a loopback address (others are DNS rebinding)."""


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address (only this machine can connect)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
