"""Fixtures of the monitoring tests: a real SMTP server and a real webhook receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .receivers import SmtpServer, WebhookReceiver

WEBHOOK_SECRET = "webhook-test-secret"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver
