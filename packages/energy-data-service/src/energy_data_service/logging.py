"""Structured logs on stderr, so stdout stays clean for data (`export` to a pipe, `quality` JSON).

Text for people, JSON lines for log shippers (`LOG__FORMAT=json`); the level comes from
`LOG__LEVEL`. Standard-library loggers (uvicorn, httpx, alembic) go through the same renderer.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "WARNING", log_format: str = "text") -> None:
    """Route structlog and the standard library through one stderr handler."""
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
    # APScheduler narrates every job it adds and runs at INFO; our scheduler logs outcomes itself.
    logging.getLogger("apscheduler").setLevel(max(root.level, logging.WARNING))
