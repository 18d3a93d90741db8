"""`/api/v1/commands`: publish one command or a batch, and read a command's status.

The two POST routes are the service's hot path, so they read the body and write the answer
themselves (orjson, one pydantic-core validation per command) instead of through FastAPI's
parameter machinery, which costs more per request than publishing the command. What FastAPI
would have documented is declared for the OpenAPI schema: bodies (`REQUEST_BODIES`), headers
and answers.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from pusher_api.deps import Caller, StoreDep, authorize
from pusher_api.dispatcher import CommandDispatcher
from pusher_api.messages import CommandRequest, validation_errors
from pusher_api.schemas import BatchAccepted, BatchRequest, CommandAccepted, CommandStatusView

router = APIRouter(prefix="/api/v1/commands", tags=["commands"])

REQUEST_BODIES = (CommandRequest, BatchRequest)
"""Models the POST routes read by hand; the app adds their schemas to the OpenAPI components."""

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "missing or invalid X-API-Key"},
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
        "description": "a repeat with the same key returns the first answer and publishes nothing",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
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
    try:
        command = CommandRequest.model_validate(_json_body(await request.body()))
    except ValidationError as error:
        raise RequestValidationError(validation_errors(error, ("body",))) from None
    dispatcher: CommandDispatcher = request.app.state.dispatcher
    answer = await dispatcher.submit(command, _idempotency_key(request, caller))
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
    body = await request.body()
    dispatcher: CommandDispatcher = request.app.state.dispatcher
    items = _batch_items(_json_body(body), dispatcher.max_batch_size)
    answer = await dispatcher.submit_batch(items, _idempotency_key(request, caller), len(body))
    code = status.HTTP_202_ACCEPTED if answer["successful"] else status.HTTP_200_OK
    return _json_response(answer, code)


@router.get("/{request_id}/status", responses={401: _ERRORS[401], 404: {"description": "unknown"}})
async def command_status(request_id: str, caller: Caller, store: StoreDep) -> CommandStatusView:
    """Where the command is in its lifecycle (queued, sent, delivered, succeeded, …)."""
    record = await store.get(request_id)
    if record is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no command with request_id {request_id!r}: use the request_id a POST returned",
        )
    return CommandStatusView.model_validate(record, from_attributes=True)


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
    """The `Idempotency-Key` header scoped to the caller, or None without one."""
    key = request.headers.get("idempotency-key")
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
    return f"{caller}:{key}"


def _json_response(answer: dict[str, Any], status_code: int) -> Response:
    return Response(
        orjson.dumps(answer, option=orjson.OPT_UTC_Z),
        status_code=status_code,
        media_type="application/json",
    )
