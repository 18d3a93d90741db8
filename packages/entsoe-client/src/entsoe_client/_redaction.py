"""Keeping the security token out of logs, messages and reprs.

The platform takes the token as a query parameter, so any URL that is logged, raised or printed
carries it. Two layers keep it out: the client never puts it into the URLs that httpx logs and
hands to event hooks (it is added on the way to the wire), and a logging filter on our own, the
httpx and the httpcore loggers masks any ``securityToken=...`` and any registered token that
still shows up in a record.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
_TOKEN_PARAM = re.compile(r"(securityToken=)[^&\s'\"<>]+", re.IGNORECASE)
_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_LOGGERS = (
    "entsoe_client",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def register_secret(secret: str) -> None:
    """Mask ``secret`` wherever it appears in text passed through ``redact`` or logged."""
    if secret:
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str, *secrets: str) -> str:
    """``text`` with every ``securityToken=`` value and every known token replaced by ``***``."""
    text = _TOKEN_PARAM.sub(rf"\g<1>{MASK}", text)
    with _secrets_lock:
        known = [*_secrets, *secrets]
    for secret in sorted(known, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message with the token masked (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Attach the filter to our, httpx's and httpcore's loggers (idempotent).

    Logger filters do not apply to records of child loggers, hence the explicit list of the
    httpcore children that log.
    """
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
