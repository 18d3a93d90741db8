"""Errors as answers: a bad value is a 400 that says what is wrong, a database outage a 503.

Nothing reaches the client as a traceback; an unexpected error is logged with its traceback and
answered as a 500 with a short message.
"""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request, status
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from energy_data_service.api.formats import OrjsonResponse
from energy_data_service.domain import UnknownChoiceError

log = structlog.get_logger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError, DBAPIError, OSError, TimeoutError)


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers on ``app``."""

    @app.exception_handler(UnknownChoiceError)
    async def unknown_choice(_: Request, error: UnknownChoiceError) -> OrjsonResponse:
        return OrjsonResponse({"detail": str(error)}, status_code=status.HTTP_400_BAD_REQUEST)

    for kind in DATABASE_DOWN:

        @app.exception_handler(kind)
        async def database_down(request: Request, error: Exception) -> OrjsonResponse:
            log.warning("database.unavailable", path=request.url.path, error=str(error)[:300])
            return OrjsonResponse(
                {"detail": "the database is unavailable; retry shortly"},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": "5"},
            )
