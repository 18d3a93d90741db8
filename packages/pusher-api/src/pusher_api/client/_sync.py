"""`PusherClient`: the blocking client, for scripts and threaded applications."""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import TracebackType
from typing import TypeVar

import httpx
from pydantic import BaseModel

from pusher_api.client import _protocol
from pusher_api.client._protocol import CommandLike, Health
from pusher_api.client.exceptions import StatusTimeoutError, TransportError
from pusher_api.schemas import BatchAccepted, CommandAccepted, CommandStatusView

Model = TypeVar("Model", bound=BaseModel)


class PusherClient:
    """Sends device commands to a Pusher API and follows their status; raises typed errors.

    ``with PusherClient("http://pusher:8080", api_key="…") as pusher: pusher.send_command(…)``.
    One client keeps its connections open: create one and reuse it.
    """

    def __init__(
        self,
        base_url: str = _protocol.DEFAULT_BASE_URL,
        *,
        api_key: str | None = None,
        client_id: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url, headers=_protocol.client_headers(api_key, client_id), timeout=timeout
        )

    def send_command(
        self, command: CommandLike, *, idempotency_key: str | None = None
    ) -> CommandAccepted:
        """Publish one command; returns once Kafka holds it (with its partition and offset).

        With an ``idempotency_key`` a retry (after a timeout or a 503) never publishes twice.
        """
        return self._call(_protocol.send_command_call(command, idempotency_key), CommandAccepted)

    def send_batch(
        self, commands: Iterable[CommandLike], *, idempotency_key: str | None = None
    ) -> BatchAccepted:
        """Publish many commands in one request; each has its own result (partial success)."""
        return self._call(_protocol.send_batch_call(commands, idempotency_key), BatchAccepted)

    def get_status(self, request_id: str) -> CommandStatusView:
        """Where the command is in its lifecycle; NotFoundError for an unknown request_id."""
        return self._call(_protocol.get_status_call(request_id), CommandStatusView)

    def wait_for_final_status(
        self, request_id: str, *, timeout: float = 30.0, poll_interval: float = 0.25
    ) -> CommandStatusView:
        """Poll until the command succeeded, failed or expired; StatusTimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.get_status(request_id)
            if view.status.is_final:
                return view
            if time.monotonic() >= deadline:
                raise StatusTimeoutError(request_id, view.status.value, timeout)
            time.sleep(poll_interval)

    def health(self) -> Health:
        """Liveness of the service and whether it can reach Kafka."""
        return self._call(_protocol.HEALTH_CALL, Health)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> PusherClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, call: _protocol.Call, model: type[Model]) -> Model:
        try:
            response = self._http.request(
                call.method, call.path, content=call.content, headers=call.headers
            )
        except httpx.TransportError as error:
            raise TransportError(
                f"{call.method} {self._http.base_url}{call.path.lstrip('/')} failed: "
                f"{error!r}; is the Pusher API running there?"
            ) from error
        return _protocol.read(response, model)
