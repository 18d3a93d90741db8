"""Fixtures of the monitoring tests: a real SMTP server and a real webhook receiver on loopback,
and a container whose alerts go to both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from energy_data_service.container import Container
from energy_data_service.settings import Settings
from entsoe_client.testing import FakePlatform

from .receivers import SmtpServer, WebhookReceiver

WEBHOOK_SECRET = "webhook-test-secret"
TOKEN = "test-token"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def monitored_settings(
    database_url: str,
    platform: FakePlatform,
    webhook: WebhookReceiver,
    smtp: SmtpServer,
    **alerts: Any,
) -> Settings:
    """DE_LU actual load only, alerts to the loopback receivers with fast retries."""
    return Settings(
        database={"url": database_url},
        entsoe={"api_token": TOKEN, "base_url": platform.url, "requests_per_minute": None},
        collection={"areas": ["DE_LU"], "data_types": ["actual_load"], "lookback_days": 2},
        scheduler={"enabled": False},
        alerts={
            "rules": ["consecutive_failures", "invalid_token"],
            "consecutive_failures": 3,
            "webhook_url": webhook.url,
            "webhook_secret": WEBHOOK_SECRET,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "email_recipients": ["ops@example.org"],
            "timeout_seconds": 2,
            "retries": 1,
            "retry_backoff_seconds": 0.01,
            **alerts,
        },
    )


@pytest.fixture
async def monitored(
    database_url: str,
    fake_platform: FakePlatform,
    webhook: WebhookReceiver,
    smtp_server: SmtpServer,
) -> AsyncIterator[Container]:
    """The composition root on the test database with alerting to the loopback receivers."""
    settings = monitored_settings(database_url, fake_platform, webhook, smtp_server)
    async with Container(settings) as container:
        yield container
