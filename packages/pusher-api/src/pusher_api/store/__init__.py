"""The command status store (SQLite or PostgreSQL): `CommandStore` and what it answers.

- `schema`: the tables as the queries see them;
- `migrations/` and `migrate`: the Alembic revisions that create and evolve them (with the
  triggers that announce and outbox their changes), applied one replica at a time;
- `engine`: the async engine, SQLite tuned for concurrent writes, PostgreSQL with bounded waits;
- `statements`: the hot writes' SQL, many rows per statement (with a one-row form beside it);
- `sqlite_writer`: SQLite's hot writes on a connection of their own, in one thread;
- `records`: the rows the store answers with;
- `command_store`: `CommandStore`, all SQL about commands.
"""

from pusher_api.store.command_store import CommandStore
from pusher_api.store.records import CommandRecord, ReportsApplied, ScheduledRecord, WebhookDelivery
from pusher_api.store.schema import CHANGES_CHANNEL, metadata

__all__ = [
    "CHANGES_CHANNEL",
    "CommandRecord",
    "CommandStore",
    "ReportsApplied",
    "ScheduledRecord",
    "WebhookDelivery",
    "metadata",
]
