"""The command store's Alembic migrations on SQLite and PostgreSQL: a new store, a store the
pusher created before it had migrations (upgraded in place, every row kept), and replicas that
start together on one database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from pusher_api.cli import app as cli
from pusher_api.kafka_producer import Published
from pusher_api.messages import AcceptedCommand, CommandRequest, CommandStatus, StatusReport
from pusher_api.store import CommandStore
from pusher_api.store.migrate import current_revision, head
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from typer.testing import CliRunner

from .conftest import POSTGRES_SERVER

TABLES = {"commands", "webhook_deliveries", "status_offsets", "pusher_alembic_version"}
INDEXES = {
    "ux_commands_idempotency_key",
    "ix_commands_expires_at",
    "ix_commands_scheduled",
    "ix_commands_queued",
}
TRIGGERS = {"commands_webhook_on_insert", "commands_webhook_on_update"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/store.db"
        return
    name = f"pusher_migrate_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"{POSTGRES_SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _schema(url: str) -> tuple[set[str], set[str], set[str]]:
    """Tables, indexes of `commands`, and triggers on `commands`."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            tables, indexes = await connection.run_sync(
                lambda sync: (
                    set(inspect(sync).get_table_names()),
                    {index["name"] for index in inspect(sync).get_indexes("commands")},
                )
            )
            if engine.dialect.name == "sqlite":
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            else:
                query = (
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'commands'::regclass "
                    "AND NOT tgisinternal"
                )
            triggers = {row[0] for row in await connection.execute(text(query))}
    finally:
        await engine.dispose()
    return tables, indexes, triggers


async def test_a_new_store_is_created_by_the_migrations(database_url: str) -> None:
    store = await CommandStore.open(database_url)
    try:
        assert await current_revision(store.engine) == head()
    finally:
        await store.close()
    tables, indexes, triggers = await _schema(database_url)
    assert tables >= TABLES
    assert "alembic_version" not in tables  # the pusher's version table has a name of its own
    assert indexes >= INDEXES
    assert triggers >= TRIGGERS
    if "postgresql" in database_url:
        assert {"commands_notify_on_insert", "commands_notify_on_update"} <= triggers


_FIRST_VERSION_COLUMNS = (
    "request_id",
    "idempotency_key",
    "device_id",
    "command_type",
    "protocol",
    "priority",
    "status",
    "detail",
    "kafka_partition",
    "kafka_offset",
    "expires_at",
    "queued_at",
    "sent_at",
    "delivered_at",
    "finished_at",
)


async def _first_version_store(engine: AsyncEngine) -> None:
    """The `commands` table as the first version of the pusher created it (no migrations, no
    scheduling, webhooks or status offsets)."""
    time = "DATETIME" if engine.dialect.name == "sqlite" else "TIMESTAMP WITH TIME ZONE"
    async with engine.begin() as connection:
        await connection.execute(
            text(
                f"""CREATE TABLE commands (
                request_id VARCHAR(36) PRIMARY KEY, idempotency_key VARCHAR(300),
                device_id VARCHAR(128) NOT NULL, command_type VARCHAR(128) NOT NULL,
                protocol VARCHAR(16) NOT NULL, priority VARCHAR(16) NOT NULL,
                status VARCHAR(16) NOT NULL, detail TEXT, kafka_partition INTEGER,
                kafka_offset BIGINT, expires_at {time}, queued_at {time} NOT NULL,
                sent_at {time}, delivered_at {time}, finished_at {time})"""
            )
        )
        await connection.execute(
            text(
                "CREATE UNIQUE INDEX ux_commands_idempotency_key ON commands (idempotency_key) "
                "WHERE idempotency_key IS NOT NULL"
            )
        )


async def _rows(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with engine.connect() as connection:
        result = await connection.execute(
            text(f"SELECT {', '.join(_FIRST_VERSION_COLUMNS)} FROM commands ORDER BY request_id")
        )
        return [tuple(row) for row in result]


@pytest.mark.parametrize("made_by", ["first version", "last version without migrations"])
async def test_a_store_made_before_migrations_is_upgraded_without_losing_a_row(
    database_url: str, made_by: str
) -> None:
    engine = create_async_engine(database_url)
    received = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    try:
        if made_by == "first version":
            await _first_version_store(engine)
        else:  # every table and trigger there, but no version row: the schema `open` made
            store = await CommandStore.open(database_url)
            await store.close()
            async with engine.begin() as connection:
                await connection.execute(text("DROP TABLE pusher_alembic_version"))
        async with engine.begin() as connection:
            for n, (status, key) in enumerate(
                [("queued", None), ("sent", "caller:k-1"), ("succeeded", "caller:k-2")]
            ):
                await connection.execute(
                    text(
                        "INSERT INTO commands (request_id, idempotency_key, device_id, "
                        "command_type, protocol, priority, status, detail, kafka_partition, "
                        "kafka_offset, queued_at, finished_at) VALUES (:id, :key, 'dev-1', "
                        "'reboot', 'mqtt', 'normal', :status, :detail, 0, :offset, :at, :done)"
                    ),
                    {
                        "id": f"req-{n}",
                        "key": key,
                        "status": status,
                        "detail": f"detail {n}",
                        "offset": 100 + n,
                        "at": received + timedelta(seconds=n),
                        "done": received + timedelta(minutes=1) if status == "succeeded" else None,
                    },
                )
        before = await _rows(engine)
        assert len(before) == 3

        store = await CommandStore.open(database_url)
        try:
            assert await current_revision(store.engine) == head()
            assert await _rows(engine) == before
            kept = await store.get("req-2")
            assert kept is not None
            assert (kept.status, kept.kafka_offset, kept.not_before) == (
                CommandStatus.succeeded,
                102,
                None,
            )
            # the upgraded store works: new columns, the webhook trigger, the status offsets
            [new] = [
                AcceptedCommand(
                    CommandRequest.model_validate(
                        {
                            "device_id": "dev-2",
                            "command_type": "reboot",
                            "callback_url": "https://example.test/hook",
                        }
                    ),
                    "req-new",
                    datetime.now(UTC),
                )
            ]
            await store.add_queued([new])
            await store.mark_sent([("req-new", Published(1, 7))], datetime.now(UTC))
            applied = await store.apply_reports(
                [
                    StatusReport(
                        request_id="req-0", device_id="dev-1", status=CommandStatus.delivered
                    )
                ],
                "device_command_status",
                {0: 5},
            )
            assert applied.changed == 1
            assert await store.status_offsets("device_command_status") == {0: 5}
            assert [d.status for d in await store.webhooks_of("req-new")] == ["sent"]
            assert await store.count_by_status() == {
                "delivered": 1,
                "sent": 2,
                "succeeded": 1,
            }
        finally:
            await store.close()
    finally:
        await engine.dispose()
    tables, indexes, triggers = await _schema(database_url)
    assert tables >= TABLES
    assert indexes >= INDEXES
    assert triggers >= TRIGGERS


_OPEN_AND_CLOSE = """
import asyncio, sys
from pusher_api.store import CommandStore

async def main() -> None:
    store = await CommandStore.open(sys.argv[1])
    await store.close()

asyncio.run(main())
"""


async def test_replicas_starting_together_migrate_one_at_a_time(database_url: str) -> None:
    replicas = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _OPEN_AND_CLOSE,
            database_url,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outcomes = await asyncio.gather(*[replica.communicate() for replica in replicas])
    for replica, (_, stderr) in zip(replicas, outcomes, strict=True):
        assert replica.returncode == 0, stderr.decode()
    engine = create_async_engine(database_url)
    try:
        assert await current_revision(engine) == head()
        async with engine.connect() as connection:
            versions = (
                await connection.execute(text("SELECT version_num FROM pusher_alembic_version"))
            ).all()
        assert [row[0] for row in versions] == [head()]
    finally:
        await engine.dispose()
    _, _, triggers = await _schema(database_url)
    assert triggers >= TRIGGERS


def test_migrate_creates_the_store_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "migrated to the newest revision" in result.output
    tables, _, _ = asyncio.run(_schema(url))
    assert tables >= TABLES


def test_migrate_names_the_database_it_cannot_reach_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://postgres:s3cret@127.0.0.1:1/pusher")
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 1, result.output
    where = "postgresql+asyncpg://postgres:***@127.0.0.1:1/pusher"
    assert f"cannot migrate the command store at {where}" in result.output
    assert "s3cret" not in result.output
    assert "Traceback" not in result.output
