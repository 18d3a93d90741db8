"""Listening beyond loopback needs API keys or an explicit ``--insecure``."""

from __future__ import annotations

from service_common import exposure_refusal, is_loopback


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "127.0.0.2", "[::1]"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.com"))


def test_binding_beyond_loopback_needs_keys_or_insecure() -> None:
    refusal = exposure_refusal("0.0.0.0", keys_variable="API_KEYS", has_keys=False, insecure=False)
    assert refusal is not None
    assert "refusing to listen on 0.0.0.0 without API keys" in refusal
    assert "Set API_KEYS" in refusal
    assert (
        exposure_refusal("0.0.0.0", keys_variable="API_KEYS", has_keys=True, insecure=False) is None
    )
    assert (
        exposure_refusal("0.0.0.0", keys_variable="API_KEYS", has_keys=False, insecure=True) is None
    )
    assert (
        exposure_refusal("127.0.0.1", keys_variable="API_KEYS", has_keys=False, insecure=False)
        is None
    )
