"""The command store's hot writes on both backends: many rows per statement, acknowledgements,
refusals, and idempotency keys taken twice."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from pusher_api.errors import DuplicateIdempotencyKeyError
from pusher_api.kafka_producer import Published
from pusher_api.messages import AcceptedCommand, CommandRequest, CommandStatus, new_request_ids
from pusher_api.store import CommandStore

SERVER = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CommandStore]:
    if request.param == "sqlite":
        opened = await CommandStore.open(f"sqlite+aiosqlite:///{tmp_path}/store.db")
        try:
            yield opened
        finally:
            await opened.close()
        return
    name = f"pusher_store_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    opened = await CommandStore.open(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    try:
        yield opened
    finally:
        await opened.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def accepted(count: int, **fields: object) -> list[AcceptedCommand]:
    received = datetime.now(UTC)
    command = CommandRequest.model_validate(
        {"device_id": "dev-1", "command_type": "reboot", **fields}
    )
    return [AcceptedCommand(command, rid, received) for rid in new_request_ids(count)]


async def test_rows_acknowledgements_and_refusals_land_row_by_row(store: CommandStore) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    commands = accepted(7000, protocol="coap", priority="high", expires_at=expires.isoformat())
    await store.add_queued(commands)  # several multi-row statements on SQLite
    sent_at = datetime.now(UTC)
    acks = [(c.request_id, Published(n % 4, 10_000 + n)) for n, c in enumerate(commands[:6500])]
    await store.mark_sent(acks, sent_at)
    await store.mark_unpublished(
        [(c.request_id, f"refused {c.request_id}") for c in commands[6500:]]
    )

    assert await store.count_by_status() == {"sent": 6500, "failed": 500}
    first, last_sent, refused = (
        await store.get(commands[0].request_id),
        await store.get(commands[6499].request_id),
        await store.get(commands[6999].request_id),
    )
    assert first is not None
    assert last_sent is not None
    assert refused is not None
    assert (first.status, first.kafka_partition, first.kafka_offset) == (
        CommandStatus.sent,
        0,
        10_000,
    )
    assert (last_sent.kafka_partition, last_sent.kafka_offset) == (6499 % 4, 16_499)
    assert (first.protocol, first.priority, first.expires_at) == ("coap", "high", expires)
    assert first.queued_at == commands[0].timestamp
    assert first.sent_at == sent_at
    assert (refused.status, refused.detail) == (
        CommandStatus.failed,
        f"refused {commands[6999].request_id}",
    )


async def test_an_acknowledgement_never_moves_a_command_back(store: CommandStore) -> None:
    [command] = accepted(1)
    await store.add_queued([command])
    await store.mark_unpublished([(command.request_id, "broker gone")])
    await store.mark_sent([(command.request_id, Published(1, 5))], datetime.now(UTC))
    record = await store.get(command.request_id)
    assert record is not None
    assert record.status is CommandStatus.failed  # the offset is recorded, the state kept


async def test_a_taken_idempotency_key_writes_nothing(store: CommandStore) -> None:
    await store.add_queued(accepted(1), ["caller:key-1"])
    again = accepted(2)
    with pytest.raises(DuplicateIdempotencyKeyError):
        await store.add_queued(again, ["caller:key-2", "caller:key-1"])
    assert await store.get(again[0].request_id) is None  # the whole insert was rolled back
    assert await store.count_by_status() == {"queued": 1}
