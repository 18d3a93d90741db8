"""Errors as answers: the service's error tree mapped to HTTP status codes in one table.

``STATUS_BY_ERROR`` is that table: each branch of ``energy_data_service.errors`` answers with
its status and its message as ``detail``; the most specific entry in the class's MRO wins. A
missing ENTSO-E token (``ConfigurationError``) is a 409: the request is fine, the service's
state (collection off) stands in its way, as ``POST /api/v1/jobs/{id}/run`` already answers;
not a 503, which clients and load balancers read as "retry shortly" when only an operator can
help. An error of the tree that is not in the table is a fault: a logged 500.

Nothing reaches the client as a traceback. A request that fails validation gets a 422 listing
each problem; the offending input is echoed only when it can be written as JSON (NaN reads as
null; a value nested deeper than the encoder allows, or longer than 1 kB, is left out; pydantic's
context, which may hold exception objects, never), so describing bad input cannot itself fail.

A database outage (connection refused, connection lost, server shutting down, SQLite busy) is a
503 with ``Retry-After`` only when ``is_database_outage`` says so from the exception's cause
chain; any other database or OS error is a bug, a logged 500 that never hides behind "retry
later".
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from service_common import OrjsonResponse, is_database_outage
from sqlalchemy.exc import SQLAlchemyError

from energy_data_service.errors import (
    CollectionError,
    ConfigurationError,
    ConflictError,
    DeliveryError,
    EnergyDataError,
    InvalidInputError,
    NotFoundError,
)

log = structlog.get_logger(__name__)

STATUS_BY_ERROR: dict[type[EnergyDataError], int] = {
    InvalidInputError: status.HTTP_400_BAD_REQUEST,
    NotFoundError: status.HTTP_404_NOT_FOUND,
    ConflictError: status.HTTP_409_CONFLICT,
    ConfigurationError: status.HTTP_409_CONFLICT,
    CollectionError: status.HTTP_502_BAD_GATEWAY,
    DeliveryError: status.HTTP_502_BAD_GATEWAY,
}
"""The status of each branch of the error tree; what is not listed is a logged 500."""


def status_of(error: EnergyDataError) -> int | None:
    """The status of the most specific class of ``error`` in the table, or None (a fault)."""
    for cls in type(error).__mro__:
        code = STATUS_BY_ERROR.get(cls)
        if code is not None:
            return code
    return None


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


def _fault(request: Request, error: Exception) -> OrjsonResponse:
    """A bug: logged with its traceback, answered 500 without details."""
    log.error("request.failed", path=request.url.path, exc_info=error)
    return OrjsonResponse(
        {"detail": "internal error; it has been logged"},
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> OrjsonResponse:
        return OrjsonResponse(
            {"detail": [_problem(problem) for problem in error.errors()]},
            status_code=422,
        )

    @app.exception_handler(EnergyDataError)
    async def service_error(request: Request, error: EnergyDataError) -> OrjsonResponse:
        code = status_of(error)
        if code is None:
            return _fault(request, error)
        return OrjsonResponse({"detail": str(error)}, status_code=code)

    async def database_error(request: Request, error: Exception) -> OrjsonResponse:
        if is_database_outage(error):
            log.warning("database.unavailable", path=request.url.path, error=str(error)[:300])
            return OrjsonResponse(
                {"detail": "the database is unavailable; retry shortly"},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": "5"},
            )
        return _fault(request, error)

    app.add_exception_handler(SQLAlchemyError, database_error)
    app.add_exception_handler(OSError, database_error)
    app.add_exception_handler(TimeoutError, database_error)
