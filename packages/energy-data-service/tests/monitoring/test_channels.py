"""Channels against real receivers: signed webhook with retries, SMTP with and without login."""

from __future__ import annotations

import hashlib
import hmac
import ssl
from datetime import UTC, datetime

import aiosmtplib
import httpx
import pytest
from energy_data_service.alerts.channels.email import EmailChannel
from energy_data_service.alerts.channels.webhook import SIGNATURE_HEADER, WebhookChannel
from energy_data_service.alerts.notice import Notice
from energy_data_service.errors import WebhookDeliveryError

from .conftest import WEBHOOK_SECRET
from .receivers import SmtpServer, WebhookReceiver, free_port, self_signed_certificate

NOTICE = Notice(
    kind="opened",
    alert_id=7,
    rule="consecutive_failures",
    subject="DE_LU/actual_load",
    message="3 collections of actual_load for DE_LU failed in a row",
    details={"failures": 3},
    opened_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
    resolved_at=None,
)


def webhook_channel(url: str, retries: int = 2) -> WebhookChannel:
    return WebhookChannel(
        url,
        secret=WEBHOOK_SECRET.encode(),
        timeout_seconds=2,
        retries=retries,
        backoff_seconds=0.01,
    )


async def test_webhook_body_is_json_signed_with_hmac_sha256(webhook: WebhookReceiver):
    await webhook_channel(webhook.url).send(NOTICE)
    [delivery] = webhook.deliveries
    expected = hmac.new(WEBHOOK_SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers[SIGNATURE_HEADER] == expected
    assert delivery.headers["Content-Type"] == "application/json"
    assert delivery.json() == {
        "event": "alert.opened",
        "alert_id": 7,
        "rule": "consecutive_failures",
        "subject": "DE_LU/actual_load",
        "message": NOTICE.message,
        "details": {"failures": 3},
        "opened_at": "2026-01-05T10:00:00+00:00",
        "resolved_at": None,
    }
    tampered = delivery.body.replace(b"DE_LU", b"FR")
    assert hmac.new(WEBHOOK_SECRET.encode(), tampered, hashlib.sha256).hexdigest() != expected


async def test_webhook_retries_server_errors_then_delivers(webhook: WebhookReceiver):
    webhook.fail_next = 2
    await webhook_channel(webhook.url, retries=2).send(NOTICE)
    assert webhook.attempts == 3
    assert len(webhook.deliveries) == 1


async def test_webhook_gives_up_after_its_retries(webhook: WebhookReceiver):
    webhook.fail_next = 10
    with pytest.raises(WebhookDeliveryError, match="HTTP 503"):
        await webhook_channel(webhook.url, retries=2).send(NOTICE)
    assert webhook.attempts == 3
    closed = f"http://127.0.0.1:{free_port()}/nobody-listens"
    with pytest.raises(httpx.ConnectError):
        await webhook_channel(closed, retries=1).send(NOTICE)


def email_channel(port: int, **overrides: object) -> EmailChannel:
    options: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "ca_file": None,
        "username": None,
        "password": None,
        "sender": "alerts@example.org",
        "recipients": ["ops@example.org", "trader@example.org"],
        "timeout_seconds": 5,
        "retries": 1,
        "backoff_seconds": 0.01,
    }
    options.update(overrides)
    return EmailChannel(**options)  # type: ignore[arg-type]


async def test_email_reaches_every_recipient(smtp_server: SmtpServer):
    await email_channel(smtp_server.port).send(NOTICE)
    [(_, recipients, message)] = smtp_server.mailbox.messages
    assert recipients == ["ops@example.org", "trader@example.org"]
    assert message["Subject"] == "[energy-data] ALERT consecutive_failures: DE_LU/actual_load"
    assert message["From"] == "alerts@example.org"
    assert NOTICE.message in message.get_payload()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_email_logs_in_and_a_wrong_password_fails_without_retry():
    with SmtpServer(credentials=("alerts", "s3cret")) as server:
        await email_channel(server.port, username="alerts", password="s3cret").send(NOTICE)
        assert len(server.mailbox.messages) == 1
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            await email_channel(server.port, username="alerts", password="wrong").send(NOTICE)
        assert len(server.mailbox.messages) == 1


async def test_email_to_a_closed_port_raises_after_retries():
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await email_channel(free_port()).send(NOTICE)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_email_over_starttls_and_implicit_tls_with_a_private_ca(tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with SmtpServer(tls_context=context, require_starttls=True) as server:
        await email_channel(server.port, security="starttls", ca_file=str(cert)).send(NOTICE)
        assert len(server.mailbox.messages) == 1
        # Plain SMTP to a server that requires STARTTLS is refused.
        with pytest.raises(aiosmtplib.SMTPException):
            await email_channel(server.port, security="none").send(NOTICE)
        # Without the CA the certificate is not trusted.
        with pytest.raises(ssl.SSLCertVerificationError):
            await email_channel(server.port, security="starttls").send(NOTICE)
        assert len(server.mailbox.messages) == 1
    with SmtpServer(ssl_context=context) as server:
        await email_channel(server.port, security="tls", ca_file=str(cert)).send(NOTICE)
        assert len(server.mailbox.messages) == 1
