"""Structured logs on stderr, so stdout stays clean for data (an export to a pipe, JSON output).

Text for people, JSON lines for log shippers; both services and their CLIs call this once at
start-up with their own settings. Standard-library loggers (uvicorn, httpx, alembic, aiokafka)
go through the same renderer: uvicorn's own handlers are removed so its lines are not printed
twice in two styles.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping

import structlog


def configure_logging(
    *, level: str, log_format: str, quieter: Mapping[str, int] | None = None
) -> None:
    """Route structlog and the standard library through one stderr handler.

    ``log_format`` is ``json`` or ``text``; ``level`` a level name. ``quieter`` raises the
    level of chatty libraries (logger name → lowest level shown) without hiding what the root
    level already hides. Keyword-only, so no caller can swap level and format.
    """
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a CLI (and a test) may configure again with another level or format.
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    for name, lowest in (quieter or {}).items():
        logging.getLogger(name).setLevel(max(root.level, lowest))
