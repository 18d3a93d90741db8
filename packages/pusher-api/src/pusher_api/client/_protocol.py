"""What the sync and async clients share: how a call becomes an HTTP request, and how an answer
becomes a model or a typed error. The clients only add the I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as ModelValidationError

from pusher_api.client.exceptions import (
    APIError,
    AuthenticationError,
    BrokerUnavailableError,
    FieldError,
    InvalidCommandError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    ServerError,
    UnexpectedResponseError,
)
from pusher_api.messages import CommandRequest

Model = TypeVar("Model", bound=BaseModel)
CommandLike = CommandRequest | Mapping[str, Any]
"""A command as a `CommandRequest` (checked before sending) or a plain mapping (checked by the
service, which answers 422 with every failing field)."""

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


class Health(BaseModel):
    """`GET /health`: the process answers; ``kafka_connected`` says whether commands can go out."""

    model_config = ConfigDict(extra="allow")

    status: Literal["ok", "degraded"]
    kafka_connected: bool


@dataclass(frozen=True)
class Call:
    """One HTTP request, ready for either client."""

    method: str
    path: str
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _command_body(command: CommandLike) -> dict[str, Any]:
    if isinstance(command, CommandRequest):
        # Unset fields are left to the service's defaults.
        return command.model_dump(mode="json", exclude_unset=True)
    return dict(command)


def _json_call(path: str, body: Any, idempotency_key: str | None) -> Call:
    headers = {"Content-Type": "application/json"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return Call("POST", path, orjson.dumps(body), headers)


def send_command_call(command: CommandLike, idempotency_key: str | None) -> Call:
    """`POST /api/v1/commands`."""
    return _json_call("/api/v1/commands", _command_body(command), idempotency_key)


def send_batch_call(commands: Iterable[CommandLike], idempotency_key: str | None) -> Call:
    """`POST /api/v1/commands/batch`."""
    body = {"commands": [_command_body(command) for command in commands]}
    return _json_call("/api/v1/commands/batch", body, idempotency_key)


def get_status_call(request_id: str) -> Call:
    """`GET /api/v1/commands/{request_id}/status`."""
    return Call("GET", f"/api/v1/commands/{quote(request_id, safe='')}/status")


HEALTH_CALL = Call("GET", "/health")


def client_headers(api_key: str | None, client_id: str | None = None) -> dict[str, str]:
    """Headers sent with every request. `client_id` (X-Client-Id) scopes idempotency keys; the
    service requires it with an Idempotency-Key when it has no API keys."""
    headers = {"Accept": "application/json", "User-Agent": "pusher-api-client"}
    if api_key is not None:
        headers["X-API-Key"] = api_key
    if client_id is not None:
        headers["X-Client-Id"] = client_id
    return headers


def read(response: httpx.Response, model: type[Model]) -> Model:
    """The answer as ``model``, or the typed error the status code stands for."""
    if response.is_error:
        raise error_for(response)
    try:
        return model.model_validate_json(response.content)
    except ModelValidationError as error:
        raise UnexpectedResponseError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code} with a body that is not a {model.__name__} "
            f"({error.error_count()} problems): is {response.request.url.host} a Pusher API "
            "of this version?"
        ) from error


_ERROR_BY_STATUS: dict[int, type[APIError]] = {
    401: AuthenticationError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    503: BrokerUnavailableError,
}


def error_for(response: httpx.Response) -> APIError:
    """The typed error for an error answer, carrying the service's own explanation."""
    status = response.status_code
    detail = _detail(response)
    message = detail if isinstance(detail, str) else response.reason_phrase or "error"
    if status == 422:
        errors = [_field_error(item) for item in detail] if isinstance(detail, list) else []
        return InvalidCommandError(
            "the command was rejected" if errors else message, status_code=status, errors=errors
        )
    if status == 429:
        return RateLimitedError(
            message, status_code=status, retry_after=_retry_after(response.headers)
        )
    if status in _ERROR_BY_STATUS:
        return _ERROR_BY_STATUS[status](message, status_code=status)
    if status >= 500:
        return ServerError(message, status_code=status)
    return APIError(message, status_code=status)


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or None
    return body.get("detail") if isinstance(body, dict) else body


def _field_error(item: Any) -> FieldError:
    if not isinstance(item, dict):
        return FieldError(loc=(), msg=str(item))
    loc = tuple(part for part in item.get("loc", ()) if part != "body")
    return FieldError(loc=loc, msg=str(item.get("msg", "")), type=str(item.get("type", "")))


def _retry_after(headers: httpx.Headers) -> float | None:
    try:
        return float(headers["Retry-After"])
    except (KeyError, ValueError):
        return None  # absent, or an HTTP date (the service sends seconds)
