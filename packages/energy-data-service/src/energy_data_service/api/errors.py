"""Errors as answers: a bad value is a 400 that says what is wrong, a database outage a 503.

Nothing reaches the client as a traceback. A request that fails validation gets a 422 listing
each problem; the offending input is echoed only when it can be written as JSON (NaN reads as
null; a value nested deeper than the encoder allows, or longer than 1 kB, is left out; pydantic's
context, which may hold exception objects, never), so describing bad input cannot itself fail.

An outage (connection refused, connection lost, server shutting down, SQLite busy) is told apart
from a bug by the exception's cause chain, so a faulty query is still a logged 500 and never
hides behind "retry later".
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError

from energy_data_service.api.formats import OrjsonResponse
from energy_data_service.db.outage import is_database_outage
from energy_data_service.domain import UnknownChoiceError

log = structlog.get_logger(__name__)


def _problem(error: Any) -> dict[str, Any]:
    """One validation problem as JSON-safe data: location, message, type, input when safe."""
    shown: dict[str, Any] = {
        "loc": [part if isinstance(part, int | str) else str(part) for part in error["loc"]],
        "msg": str(error["msg"]),
        "type": str(error["type"]),
    }
    if "input" in error:
        try:
            encoded = orjson.dumps(error["input"])
        except (TypeError, orjson.JSONEncodeError):
            return shown
        if len(encoded) <= 1000:
            shown["input"] = orjson.loads(encoded)
    return shown


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> OrjsonResponse:
        return OrjsonResponse(
            {"detail": [_problem(problem) for problem in error.errors()]},
            status_code=422,
        )

    @app.exception_handler(UnknownChoiceError)
    async def unknown_choice(_: Request, error: UnknownChoiceError) -> OrjsonResponse:
        return OrjsonResponse({"detail": str(error)}, status_code=status.HTTP_400_BAD_REQUEST)

    async def database_error(request: Request, error: Exception) -> OrjsonResponse:
        if is_database_outage(error):
            log.warning("database.unavailable", path=request.url.path, error=str(error)[:300])
            return OrjsonResponse(
                {"detail": "the database is unavailable; retry shortly"},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": "5"},
            )
        log.exception("request.failed", path=request.url.path)
        return OrjsonResponse(
            {"detail": "internal error; it has been logged"},
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    app.add_exception_handler(SQLAlchemyError, database_error)
    app.add_exception_handler(OSError, database_error)
    app.add_exception_handler(TimeoutError, database_error)
