"""Settings of the alerting service (``ALERTS__…``).

They live next to the code that reads them; ``settings.Settings`` holds the section, so the
environment names nest like every other section (``ALERTS__WEBHOOK_URL``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from service_common import CommaSeparated

RULE_NAMES = (
    "consecutive_failures",
    "success_rate",
    "stale_series",
    "quality_score",
    "invalid_token",
)


class AlertSettings(BaseModel):
    """When an alert opens and where its notices go.

    A channel is active when it is configured: the webhook when ``webhook_url`` is set, email when
    ``smtp_host`` and ``email_recipients`` are set. With neither, alerts are still recorded and
    visible under ``/api/v1/alerts``.
    """

    rules: CommaSeparated[str] = Field(default_factory=lambda: list(RULE_NAMES))
    """Rules that are evaluated; the others never open alerts."""
    consecutive_failures: int = Field(default=3, ge=1, le=100)
    """Failed runs in a row (per area × data type) that open an alert."""
    success_rate_percent: float = Field(default=90.0, ge=0, le=100)
    """An alert opens when the share of successful runs in the window falls below this."""
    success_rate_window_minutes: int = Field(default=360, ge=5)
    success_rate_min_runs: int = Field(default=4, ge=1)
    """Fewer runs than this in the window say nothing about a rate."""
    quality_score_min: float = Field(default=80.0, ge=0, le=100)
    """A series whose latest daily quality score is below this opens an alert."""
    evaluation_interval_seconds: int = Field(default=60, ge=5, le=3600)
    """How often the scheduler evaluates every rule (runs also trigger an evaluation)."""

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    """Key of the ``X-Signature-SHA256`` HMAC over the request body; no header when unset."""
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    """Per delivery attempt, for the webhook and for SMTP."""
    retries: int = Field(default=3, ge=0, le=10)
    """Extra attempts after a failed delivery, with exponential backoff."""
    retry_backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    """First pause between attempts; doubled each time."""

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    """``starttls`` (port 587), ``tls`` (implicit TLS, port 465) or ``none`` (trusted relay)."""
    smtp_ca_file: str | None = None
    """PEM file of the CA that signed a private relay's certificate (system CAs otherwise)."""
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    email_from: str = "energy-data@localhost"
    email_recipients: CommaSeparated[str] = Field(default_factory=list)

    channel_max_per_hour: int = Field(default=30, ge=1)
    """Notices each channel sends per rolling hour; the rest wait for the next evaluation."""

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, names: list[str]) -> list[str]:
        unknown = [name for name in names if name not in RULE_NAMES]
        if unknown:
            raise ValueError(f"unknown rule(s) {unknown}; valid: {', '.join(RULE_NAMES)}")
        return names

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url in (None, ""):
            return None
        assert url is not None
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"must be an http:// or https:// URL (got {url!r})")
        return url

    @model_validator(mode="after")
    def _email_complete(self) -> AlertSettings:
        if self.smtp_host and not self.email_recipients:
            raise ValueError("ALERTS__SMTP_HOST is set but ALERTS__EMAIL_RECIPIENTS is empty")
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("set both ALERTS__SMTP_USERNAME and ALERTS__SMTP_PASSWORD, or neither")
        return self
