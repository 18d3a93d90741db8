"""The API's answers to errors: one handler for the service's error tree (its status code from
`errors.HTTP_STATUS`), one for the database's own exceptions, and one for invalid requests.

A database exception reaching a route is classified by `is_database_outage`: an outage becomes a
`StoreUnavailableError` (503 with `Retry-After`), anything else is a fault, logged with its
traceback and answered 500.
"""

from __future__ import annotations

import sqlite3

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from service_common import is_database_outage
from sqlalchemy.exc import SQLAlchemyError

from pusher_api.errors import PusherServiceError, StoreUnavailableError, http_status
from pusher_api.metrics import Metrics

log = structlog.get_logger(__name__)

RETRY_AFTER_S = 1
"""What a 503 asks the client to wait before retrying."""


def error_answer(error: PusherServiceError) -> JSONResponse:
    """The answer to one of the service's errors."""
    code = http_status(error)
    headers = {"Retry-After": str(RETRY_AFTER_S)} if code == 503 else None
    return JSONResponse(error.answer(), status_code=code, headers=headers)


def install_error_handlers(app: FastAPI, metrics: Metrics, commands_prefix: str) -> None:
    """Register the handlers on `app`; invalid bodies on `commands_prefix` count as rejected."""

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        if request.url.path.startswith(commands_prefix):
            metrics.rejected.inc()
        errors = [
            {key: value for key, value in item.items() if key not in ("ctx", "url")}
            for item in error.errors()
        ]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    @app.exception_handler(PusherServiceError)
    async def _service_error(request: Request, error: PusherServiceError) -> JSONResponse:
        if http_status(error) == 500:
            log.error("request.failed", path=request.url.path, exc_info=error)
        return error_answer(error)

    @app.exception_handler(SQLAlchemyError)
    @app.exception_handler(sqlite3.Error)
    @app.exception_handler(OSError)
    @app.exception_handler(TimeoutError)
    async def _database_error(request: Request, error: Exception) -> JSONResponse:
        if not is_database_outage(error):
            log.error("request.failed", path=request.url.path, exc_info=error)
            return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)
        log.warning("store.unavailable", path=request.url.path, error=repr(error)[:300])
        return error_answer(StoreUnavailableError(error))
