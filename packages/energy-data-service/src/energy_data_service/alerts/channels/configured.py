"""The channels the settings switch on."""

from __future__ import annotations

from energy_data_service.alerts.channels.email import EmailChannel
from energy_data_service.alerts.channels.webhook import WebhookChannel
from energy_data_service.alerts.notice import Channel
from energy_data_service.alerts.settings import AlertSettings


def configured_channels(settings: AlertSettings) -> list[Channel]:
    """Webhook when a URL is set, email when an SMTP host (and recipients) are set."""
    channels: list[Channel] = []
    if settings.webhook_url:
        secret = settings.webhook_secret
        channels.append(
            WebhookChannel(
                settings.webhook_url,
                secret=secret.get_secret_value().encode() if secret else None,
                timeout_seconds=settings.timeout_seconds,
                retries=settings.retries,
                backoff_seconds=settings.retry_backoff_seconds,
            )
        )
    if settings.smtp_host:
        password = settings.smtp_password
        channels.append(
            EmailChannel(
                host=settings.smtp_host,
                port=settings.smtp_port,
                security=settings.smtp_security,
                ca_file=settings.smtp_ca_file,
                username=settings.smtp_username,
                password=password.get_secret_value() if password else None,
                sender=settings.email_from,
                recipients=settings.email_recipients,
                timeout_seconds=settings.timeout_seconds,
                retries=settings.retries,
                backoff_seconds=settings.retry_backoff_seconds,
            )
        )
    return channels
