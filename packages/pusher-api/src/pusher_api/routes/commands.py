"""`/api/v1/commands`: publish one command or a batch, and read a command's status."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from pusher_api.deps import Caller, DispatcherDep, IdempotencyKey, StoreDep
from pusher_api.dispatcher import CommandDispatcher
from pusher_api.messages import CommandRequest
from pusher_api.schemas import BatchAccepted, BatchRequest, CommandAccepted, CommandStatusView

router = APIRouter(prefix="/api/v1/commands", tags=["commands"])

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "missing or invalid X-API-Key"},
    413: {"description": "request body too large"},
    429: {"description": "rate limit exceeded; see Retry-After"},
    503: {"description": "Kafka did not acknowledge in time (KAFKA_TIMEOUT_MS); retry"},
}


@router.post("", status_code=status.HTTP_202_ACCEPTED, responses=_ERRORS)
async def publish_command(
    command: CommandRequest,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> CommandAccepted:
    """Validate one command and publish it to Kafka; 202 once the broker acknowledged it."""
    # The hot path: the dispatcher straight from the app's state (what `DispatcherDep` does),
    # one dependency fewer for FastAPI to solve on every request.
    dispatcher: CommandDispatcher = request.app.state.dispatcher
    scoped_key = f"{caller}:{idempotency_key}" if idempotency_key else None
    return await dispatcher.submit(command, scoped_key)


@router.post("/batch", responses=_ERRORS)
async def publish_batch(
    batch: BatchRequest,
    caller: Caller,
    dispatcher: DispatcherDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> BatchAccepted:
    """Publish many commands at once; each is validated and reported on its own."""
    limit = dispatcher.max_batch_size
    if len(batch.commands) > limit:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"batch of {len(batch.commands)} commands exceeds MAX_BATCH_SIZE={limit}: split it",
        )
    scoped_key = f"{caller}:{idempotency_key}" if idempotency_key else None
    result = await dispatcher.submit_batch(batch.commands, scoped_key)
    response.status_code = status.HTTP_202_ACCEPTED if result.successful else status.HTTP_200_OK
    return result


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
