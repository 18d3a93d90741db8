"""The error tree and its HTTP answers: an outage is a 503 to retry, a fault a logged 500.

The outage over real HTTP (PostgreSQL refused and black-holed through the fault proxy) is in
`test_store_outage.py`; here a fault of the store's own making, a statement the database
rejects, must not be dressed up as "retry later".
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pusher_api.errors as errors
import pytest
import structlog
from pusher_api.errors import (
    HTTP_STATUS,
    BrokerUnavailableError,
    CancelUnavailableError,
    DuplicateIdempotencyKeyError,
    IdempotencyConflictError,
    PusherServiceError,
    StoreUnavailableError,
    http_status,
)

from .conftest import RunningApi, command

StartApi = Callable[..., AbstractContextManager[RunningApi]]

ERROR_CLASSES = [
    value
    for value in vars(errors).values()
    if inspect.isclass(value)
    and issubclass(value, BaseException)
    and value.__module__ == errors.__name__
]


def test_one_root_every_name_ends_in_error_and_the_tree_is_drawn() -> None:
    assert len(ERROR_CLASSES) >= 12
    drawn = errors.__doc__ or ""
    for cls in ERROR_CLASSES:
        assert issubclass(cls, PusherServiceError), cls
        assert cls.__name__.endswith("Error"), cls
        assert f" {cls.__name__}" in drawn, f"{cls.__name__} is not drawn in the tree"


def test_the_status_codes_come_from_one_table() -> None:
    assert set(HTTP_STATUS.values()) == {503, 409}
    assert http_status(BrokerUnavailableError("Kafka away", "r-1")) == 503
    assert http_status(CancelUnavailableError("Kafka away")) == 503
    assert http_status(StoreUnavailableError(ConnectionRefusedError())) == 503
    assert http_status(IdempotencyConflictError("r-1")) == 409
    assert http_status(DuplicateIdempotencyKeyError("taken")) == 500  # never reaches a client
    assert BrokerUnavailableError("Kafka away", "r-1").answer() == {
        "detail": "Kafka away",
        "request_id": "r-1",
    }


def _database_file(api: RunningApi) -> str:
    return api.settings.database_url.removeprefix("sqlite+aiosqlite:///")


@pytest.mark.parametrize(
    ("fault", "ask"),
    [
        # a statement the database refuses: the table is gone
        ("DROP TABLE commands", lambda: ("GET", "/api/v1/commands/no-such/status", None)),
        # a constraint the code does not expect, on the hot insert path
        (
            "CREATE TRIGGER refuse BEFORE INSERT ON commands "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
            lambda: ("POST", "/api/v1/commands", command()),
        ),
    ],
    ids=["no-such-table", "constraint"],
)
async def test_a_database_fault_is_a_logged_500_not_a_503(
    start_api: StartApi, fault: str, ask: Callable[[], tuple[str, str, Any]]
) -> None:
    with start_api() as api:
        async with api.client() as http:
            assert (await http.post("/api/v1/commands", json=command())).status_code == 202
            with sqlite3.connect(_database_file(api)) as connection:
                connection.execute(fault)
            method, path, body = ask()
            with structlog.testing.capture_logs() as logged:
                answer = await http.request(method, path, json=body)
            assert answer.status_code == 500, answer.text
            assert "retry" not in answer.text
            assert "Retry-After" not in answer.headers
            failures = [entry for entry in logged if entry["event"] == "request.failed"]
            assert failures, logged
            assert failures[0]["log_level"] == "error"
            assert failures[0]["path"] == path
