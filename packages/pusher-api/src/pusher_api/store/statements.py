"""The hot writes' SQL: a new command's row and its acknowledgement, for each driver.

The fast path is one statement per group of commands rather than one per row: on PostgreSQL
(asyncpg) one array per column through `unnest`, on SQLite a `VALUES` list of as many rows as
its bind-variable limit allows (`RowsStatement`). Each has a one-row form (`per_row`,
`insert_queued_sql`, `mark_sent_sql`) that writes the same rows one at a time; the tests hold
the two to the same result.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pusher_api.messages import CommandStatus

MULTI_ROW = sqlite3.sqlite_version_info >= (3, 33)
SQLITE_MAX_VARIABLES = 32_766
"""SQLite's bind variables per statement: a statement takes as many rows as fit."""


@dataclass(frozen=True)
class RowsStatement:
    """An SQLite statement over a `VALUES` list of `width`-column rows, and `per_row`, the same
    write for one row (what `executemany` runs where `UPDATE … FROM` is missing)."""

    template: str
    width: int
    per_row: str

    @functools.lru_cache(maxsize=64)  # noqa: B019 - two module-level instances, never freed
    def sql(self, rows: int) -> str:
        """The statement for `rows` rows (its text is also the key of sqlite3's statement
        cache)."""
        row = "(" + ", ".join("?" * self.width) + ")"
        return self.template.format(values=", ".join([row] * rows))


QUEUED_COLUMNS = (
    "request_id",
    "idempotency_key",
    "device_id",
    "command_type",
    "protocol",
    "priority",
    "status",
    "expires_at",
    "queued_at",
    "not_before",
    "command_value",
    "traceparent",
    "callback_url",
    "callback_events",
    "idempotency_fingerprint",
)
"""The columns of a new row, in the order they are bound."""

QUEUED_PG_TYPES = (
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "bytea",
    "varchar",
    "text",
    "varchar",
    "varchar",
)


def insert_queued_unnest_sql() -> str:
    """The insert of a whole group as one statement (asyncpg): one array per column."""
    arrays = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(QUEUED_PG_TYPES, start=1))
    return f"INSERT INTO commands ({', '.join(QUEUED_COLUMNS)}) SELECT * FROM unnest({arrays})"


MARK_SENT_UNNEST = (
    "UPDATE commands SET kafka_partition = sent.p, kafka_offset = sent.o, sent_at = sent.t, "
    "status = CASE WHEN commands.status = 'queued' THEN 'sent' ELSE commands.status END "
    "FROM unnest($1::int[], $2::bigint[], $3::timestamptz[], $4::varchar[]) AS sent(p, o, t, id) "
    "WHERE commands.request_id = sent.id"
)
"""The acknowledgements of a whole group as one statement (asyncpg): one statement, so the
change trigger fires once for the group, not once per row."""


def insert_queued_sql(paramstyle: str) -> str:
    """The insert of one new row, with the driver's bind markers."""
    marks = placeholders(paramstyle, len(QUEUED_COLUMNS))
    return f"INSERT INTO commands ({', '.join(QUEUED_COLUMNS)}) VALUES ({marks})"


def mark_sent_sql(paramstyle: str) -> str:
    """The acknowledgement of one row: (partition, offset, sent_at, request_id)."""
    partition, offset, sent_at, request_id = placeholders(paramstyle, 4).split(", ")
    return (
        f"UPDATE commands SET kafka_partition = {partition}, kafka_offset = {offset}, "
        f"sent_at = {sent_at}, status = CASE WHEN status = 'queued' THEN 'sent' "
        f"ELSE status END WHERE request_id = {request_id}"
    )


def placeholders(paramstyle: str, count: int) -> str:
    """Bind markers in the driver's own style, for statements run with `exec_driver_sql`."""
    if paramstyle == "qmark":
        return ", ".join("?" * count)
    if paramstyle in ("numeric_dollar", "numeric"):
        sign = "$" if paramstyle == "numeric_dollar" else ":"
        return ", ".join(f"{sign}{n}" for n in range(1, count + 1))
    if paramstyle == "format":
        return ", ".join(["%s"] * count)
    raise ValueError(f"unsupported database driver paramstyle {paramstyle!r}")


INSERT_QUEUED = RowsStatement(
    f"INSERT INTO commands ({', '.join(QUEUED_COLUMNS)}) VALUES {{values}}",
    len(QUEUED_COLUMNS),
    insert_queued_sql("qmark"),
)
MARK_SENT = RowsStatement(
    "UPDATE commands SET kafka_partition = sent.column1, kafka_offset = sent.column2, "
    "sent_at = sent.column3, status = CASE WHEN commands.status = 'queued' THEN 'sent' "
    "ELSE commands.status END FROM (VALUES {values}) AS sent "
    "WHERE commands.request_id = sent.column4",
    4,
    mark_sent_sql("qmark"),
)


def _apply_status_parts(status: CommandStatus, sources: Sequence[str]) -> tuple[str, str, str]:
    column = "delivered_at" if status is CommandStatus.delivered else "finished_at"
    listed = ", ".join(f"'{source}'" for source in sources)
    keep_detail = "FALSE" if status.is_final else "TRUE"
    return column, listed, keep_detail


def apply_status_unnest_sql(status: CommandStatus, sources: Sequence[str]) -> str:
    """Reports moving commands to `status` from one of `sources`, a whole group as one
    statement (asyncpg): arrays of (request_id, device_id, timestamp, detail); returns the
    request ids that moved. A report's NULL detail keeps the command's, unless final."""
    column, listed, keep_detail = _apply_status_parts(status, sources)
    return (
        f"UPDATE commands SET status = '{status.value}', {column} = r.t, "
        f"detail = CASE WHEN r.d IS NULL AND {keep_detail} THEN commands.detail "
        "ELSE r.d END "
        "FROM unnest($1::varchar[], $2::varchar[], $3::timestamptz[], $4::text[]) "
        "AS r(id, dev, t, d) WHERE commands.request_id = r.id "
        f"AND commands.device_id = r.dev AND commands.status IN ({listed}) "
        "RETURNING commands.request_id"
    )


def apply_status_values_sql(status: CommandStatus, sources: Sequence[str], rows: int) -> str:
    """The same for SQLite over a `VALUES` list of `rows` (request_id, device_id, timestamp,
    detail) rows (`UPDATE … FROM`, SQLite 3.33)."""
    column, listed, keep_detail = _apply_status_parts(status, sources)
    values = ", ".join(["(?, ?, ?, ?)"] * rows)
    return (
        f"UPDATE commands SET status = '{status.value}', {column} = r.column3, "
        f"detail = CASE WHEN r.column4 IS NULL AND {keep_detail} "
        "THEN commands.detail ELSE r.column4 END "
        f"FROM (VALUES {values}) AS r WHERE commands.request_id = r.column1 "
        f"AND commands.device_id = r.column2 AND commands.status IN ({listed}) "
        "RETURNING commands.request_id"
    )


def as_is(value: datetime | None) -> datetime | None:
    """Timestamps as they are (PostgreSQL's drivers bind aware datetimes themselves)."""
    return value
