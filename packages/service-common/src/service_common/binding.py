"""Secure by default: without API keys a service listens on loopback only.

Anyone who can reach an open service can read and write through it, so binding beyond loopback
(``0.0.0.0``, a LAN address, a host name) needs API keys, or an explicit ``--insecure`` /
``ALLOW_INSECURE=true`` from someone who put it behind their own protection.
"""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (a name other than localhost is not)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_refusal(
    host: str, *, keys_variable: str, has_keys: bool, insecure: bool
) -> str | None:
    """Why serving on ``host`` is refused, or None when it may go ahead."""
    if has_keys or insecure or is_loopback(host):
        return None
    return (
        f"refusing to listen on {host} without API keys: anyone who can reach it could use it. "
        f"Set {keys_variable}, listen on 127.0.0.1, or pass --insecure (ALLOW_INSECURE=true) "
        "if something else protects it."
    )
