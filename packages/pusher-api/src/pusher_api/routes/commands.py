"""`/api/v1/commands`: publish one command or a batch, read a command's status, cancel it.

The two POST routes are the service's hot path, so they read the body and write the answer
themselves (orjson, one pydantic-core validation per command) instead of through FastAPI's
parameter machinery, which costs more per request than publishing the command. What FastAPI
would have documented is declared for the OpenAPI schema: bodies (`REQUEST_BODIES`), headers
and answers.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from service_common import json_bytes

from pusher_api.cancellation import cancel_command
from pusher_api.deps import (
    Caller,
    DispatcherDep,
    SettingsDep,
    StoreDep,
    authorize,
    header,
    services_of,
)
from pusher_api.dispatcher import fingerprint
from pusher_api.messages import CommandRequest, valid_traceparent, validation_errors
from pusher_api.schemas import (
    BatchAccepted,
    BatchRequest,
    CancelRefused,
    CommandAccepted,
    CommandStatusView,
)
from pusher_api.views import status_view

router = APIRouter(prefix="/api/v1/commands", tags=["commands"])

REQUEST_BODIES = (CommandRequest, BatchRequest)
"""Models the POST routes read by hand; the app adds their schemas to the OpenAPI components."""

_ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "Idempotency-Key without X-Client-Id while API_KEYS is unset"},
    401: {"description": "missing or invalid X-API-Key"},
    409: {"description": "Idempotency-Key already used with a different body"},
    413: {"description": "request body too large"},
    422: {"description": "invalid body or header: `detail` lists each failing field"},
    429: {"description": "rate limit exceeded; see Retry-After"},
    503: {"description": "Kafka did not acknowledge in time (KAFKA_TIMEOUT_MS); retry"},
}

_HEADERS = [
    {
        "name": "X-API-Key",
        "in": "header",
        "required": False,
        "description": "required when API_KEYS is set",
        "schema": {"type": "string"},
    },
    {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "a repeat with the same key and body returns the first answer and "
        "publishes nothing; another body with the key is refused (409)",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    {
        "name": "X-Client-Id",
        "in": "header",
        "required": False,
        "description": "who is calling, to scope Idempotency-Key: required with one when "
        "API_KEYS is unset",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:@-]{1,100}$"},
    },
    {
        "name": "traceparent",
        "in": "header",
        "required": False,
        "description": "W3C Trace Context: carried to Kafka, the device and back",
        "schema": {"type": "string"},
    },
]


def _documented(body: type) -> dict[str, Any]:
    return {
        "parameters": _HEADERS,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{body.__name__}"}}
            },
        },
    }


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CommandAccepted,
    responses=_ERRORS,
    openapi_extra=_documented(CommandRequest),
)
async def publish_command(request: Request) -> Response:
    """Validate one command and publish it to Kafka; 202 once the broker acknowledged it."""
    caller = authorize(request)
    key = _idempotency_key(request, caller)
    body = _json_body(await request.body())
    try:
        command = CommandRequest.model_validate(body)
    except ValidationError as error:
        raise RequestValidationError(validation_errors(error, ("body",))) from None
    dispatcher = services_of(request).dispatcher
    traceparent = header(request, b"traceparent")
    answer = await dispatcher.submit(
        command,
        key,
        valid_traceparent(traceparent) if traceparent is not None else None,
        fingerprint(body) if key is not None else None,
    )
    return _json_response(answer, status.HTTP_202_ACCEPTED)


@router.post(
    "/batch",
    response_model=BatchAccepted,
    responses={202: {"description": "at least one command was published"}, **_ERRORS},
    openapi_extra=_documented(BatchRequest),
)
async def publish_batch(request: Request) -> Response:
    """Publish many commands at once; each is validated and reported on its own (200 when
    none was published)."""
    caller = authorize(request)
    key = _idempotency_key(request, caller)
    body = await request.body()
    dispatcher = services_of(request).dispatcher
    items = _batch_items(_json_body(body), dispatcher.max_batch_size)
    traceparent = header(request, b"traceparent")
    answer = await dispatcher.submit_batch(
        items, key, len(body), valid_traceparent(traceparent) if traceparent else None
    )
    code = status.HTTP_202_ACCEPTED if answer["successful"] else status.HTTP_200_OK
    return _json_response(answer, code)


@router.get("/{request_id}/status", responses={401: _ERRORS[401], 404: {"description": "unknown"}})
async def command_status(request_id: str, caller: Caller, store: StoreDep) -> CommandStatusView:
    """Where the command is in its lifecycle (scheduled, queued, sent, delivered, succeeded,
    …), with its webhook deliveries."""
    view = await status_view(store, request_id)
    if view is None:
        raise not_found(request_id)
    return view


@router.post(
    "/{request_id}/cancel",
    responses={
        202: {
            "model": CommandStatusView,
            "description": "cancellation recorded; the connector has not confirmed it yet",
        },
        401: _ERRORS[401],
        404: {"description": "unknown"},
        409: {"model": CancelRefused, "description": "too late: the command is in `status`"},
        503: {"description": "Kafka away: the cancellation could not be recorded; retry"},
    },
)
async def cancel(
    request_id: str,
    caller: Caller,
    store: StoreDep,
    dispatcher: DispatcherDep,
    settings: SettingsDep,
) -> Response:
    """Cancel a command that has not reached its device: 200 with the status `cancelled`, or
    409 naming the state it is in when that is too late (delivered, or final)."""
    outcome = await cancel_command(
        request_id, store, dispatcher.publisher, settings.cancel_wait_ms / 1000
    )
    if outcome.record is None:
        raise not_found(request_id)
    if outcome.code == status.HTTP_409_CONFLICT:
        refused = CancelRefused(
            detail=f"too late to cancel: the command is {outcome.record.status.value}",
            request_id=request_id,
            status=outcome.record.status,
        )
        return _json_response(refused.model_dump(mode="json"), status.HTTP_409_CONFLICT)
    view = await status_view(store, request_id)
    assert view is not None
    return _json_response(view.model_dump(mode="json"), outcome.code)


def not_found(request_id: str) -> HTTPException:
    """The 404 of a request id the service does not know."""
    return HTTPException(
        status.HTTP_404_NOT_FOUND,
        f"no command with request_id {request_id!r}: use the request_id a POST returned",
    )


def _json_body(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ["body", error.pos],
                    "msg": f"JSON decode error: {error.msg}",
                    "input": {},
                }
            ]
        ) from None


def _batch_items(body: Any, limit: int) -> list[Any]:
    """The batch's `commands` list, or a 422 that says what is wrong with the body's shape."""
    commands = body.get("commands") if isinstance(body, dict) else None
    problem: tuple[str, list[str], str, Any] | None = None
    if not isinstance(body, dict):
        problem = ("model_attributes_type", [], "Input should be an object with `commands`", body)
    elif "commands" not in body:
        problem = ("missing", ["commands"], "Field required", body)
    elif not isinstance(commands, list):
        problem = ("list_type", ["commands"], "Input should be a valid list", commands)
    elif not commands:
        problem = ("too_short", ["commands"], "List should have at least 1 item, not 0", [])
    if problem is not None:
        kind, loc, message, given = problem
        raise RequestValidationError(
            [{"type": kind, "loc": ["body", *loc], "msg": message, "input": given}]
        )
    assert isinstance(commands, list)
    if len(commands) > limit:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"batch of {len(commands)} commands exceeds MAX_BATCH_SIZE={limit}: split it",
        )
    return commands


def _idempotency_key(request: Request, caller: str) -> str | None:
    """The `Idempotency-Key` header scoped to the caller, or None without one.

    The scope is the API key and, when given, `X-Client-Id`. Without API keys the client must
    name itself with `X-Client-Id` (a 400 says so): an address is no identity behind a proxy,
    and one client must never get another's answer.
    """
    key = header(request, b"idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= 200:
        raise RequestValidationError(
            [
                {
                    "type": "string_length",
                    "loc": ["header", "Idempotency-Key"],
                    "msg": "Idempotency-Key must be 1 to 200 characters",
                    "input": key,
                }
            ]
        )
    client_id = header(request, b"x-client-id")
    if client_id is not None and not _CLIENT_ID.fullmatch(client_id):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "X-Client-Id must be 1 to 100 letters, digits or `_ . : @ -`",
        )
    settings = services_of(request).settings
    if not settings.api_keys:
        if client_id is None:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                "Idempotency-Key needs X-Client-Id when the service has no API keys: send a "
                "stable id of your application (e.g. X-Client-Id: billing-worker-1) so your "
                "keys are not mixed with another client's",
            )
        caller = "client"
    if client_id is not None:
        caller = f"{caller}/{client_id}"
    return f"{caller}:{key}"


_CLIENT_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,100}")


def _json_response(answer: dict[str, Any], status_code: int) -> Response:
    return Response(
        json_bytes(answer),
        status_code=status_code,
        media_type="application/json",
    )
