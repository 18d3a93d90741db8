"""Email channel: one plain-text message per notice to every recipient, through aiosmtplib."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from energy_data_service.alerts.channels.retrying import with_retries
from energy_data_service.alerts.notice import Notice


class EmailChannel:
    """Sends through one SMTP server with STARTTLS, implicit TLS or (trusted relays) neither.

    Connection problems, timeouts and 4xx (temporary) SMTP replies are retried; a 5xx reply such
    as a refused login, or a certificate that is not trusted, is permanent and fails at once.
    """

    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        ca_file: str | None,
        username: str | None,
        password: str | None,
        sender: str,
        recipients: list[str],
        timeout_seconds: float,
        retries: int,
        backoff_seconds: float,
    ) -> None:
        self._host = host
        self._port = port
        self._security = security
        self._ca_file = ca_file
        self._username = username
        self._password = password
        self._sender = sender
        self._recipients = recipients
        self._timeout = timeout_seconds
        self._retries = retries
        self._backoff = backoff_seconds

    def render(self, notice: Notice) -> EmailMessage:
        """The message for ``notice``."""
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(self._recipients)
        message["Subject"] = notice.title
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="energy-data-service")
        message.set_content(notice.as_text())
        return message

    async def send(self, notice: Notice) -> None:
        """Deliver or raise the last ``aiosmtplib`` error after the retries."""
        message = self.render(notice)

        async def attempt() -> None:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._security == "tls",
                start_tls=self._security == "starttls",
                cert_bundle=self._ca_file,
                timeout=self._timeout,
            )

        await with_retries(
            attempt, retries=self._retries, backoff_seconds=self._backoff, retryable=_retryable
        )


def _retryable(error: BaseException) -> bool:
    if isinstance(error, ssl.SSLCertVerificationError):
        return False  # an untrusted certificate stays untrusted
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return 400 <= error.code < 500
    return isinstance(error, aiosmtplib.SMTPException | OSError | TimeoutError)
