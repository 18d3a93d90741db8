"""The device queues of the CoAP connector: one SQLite file the connector owns.

Why its own file and not the service's status store: the connector talks to the service only
through Kafka (the contract every connector keeps), runs where the devices can reach it, and
must keep queueing while the service or its database is down. The queue holds what the status
store does not: the exact document a device will be handed, the encoder, the push address.

A command is ``waiting`` until it is claimed to be handed over or pushed (``handed_over``) or
ends (``done``: a device result, expired, cancelled, the push answered). Rows stay after they
end, for a day, so a device that repeats a result gets the same answer and a result for someone
else's command is told apart from an unknown one. Every change is one transaction with
``synchronous=FULL``: a Kafka offset is committed only after the commands it covers are on
disk, so a restart loses nothing.

Calls are synchronous and short: an indexed read, or a small transaction that waits for one
fsync (about a millisecond on a local SSD). Being synchronous is what makes a claim atomic
with respect to everything else on the event loop (see `claim`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queued_commands (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL UNIQUE,
    device_id TEXT NOT NULL,
    state TEXT NOT NULL,
    message BLOB NOT NULL,
    encoder TEXT NOT NULL,
    push_uri TEXT,
    confirmable INTEGER NOT NULL,
    expires_at REAL,
    not_before REAL,
    ended_at REAL,
    traceparent TEXT
);
CREATE INDEX IF NOT EXISTS queued_commands_by_device
    ON queued_commands (device_id, state, seq);
CREATE INDEX IF NOT EXISTS queued_commands_by_state ON queued_commands (state, expires_at);
"""

_KEEP_ENDED_S = 86_400.0


class QueueState(StrEnum):
    """Where a command is in the connector (not its status in the service)."""

    waiting = "waiting"
    handed_over = "handed_over"
    done = "done"


@dataclass(frozen=True, slots=True)
class QueuedCommand:
    """One command as the connector keeps it.

    ``message`` is the JSON document the device receives (the MQTT connector's fields);
    ``push_uri`` is set when the device listens (``metadata.coap_uri``): then the connector
    sends it there instead of waiting for a check-in. Times are Unix seconds.
    """

    request_id: str
    device_id: str
    message: bytes
    encoder: str
    push_uri: str | None = None
    confirmable: bool = True
    expires_at: float | None = None
    not_before: float | None = None
    traceparent: str | None = None
    state: QueueState = QueueState.waiting


_COLUMNS = (
    "request_id, device_id, message, encoder, push_uri, confirmable, expires_at, not_before, "
    "traceparent, state"
)


def _from_row(row: sqlite3.Row) -> QueuedCommand:
    return QueuedCommand(
        request_id=row["request_id"],
        device_id=row["device_id"],
        message=bytes(row["message"]),
        encoder=row["encoder"],
        push_uri=row["push_uri"],
        confirmable=bool(row["confirmable"]),
        expires_at=row["expires_at"],
        not_before=row["not_before"],
        traceparent=row["traceparent"],
        state=QueueState(row["state"]),
    )


class DeviceQueues:
    """Per-device queues in one SQLite file, oldest first."""

    def __init__(self, path: Path, max_waiting: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._max_waiting = max_waiting
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed transaction survives a power cut, not only a process crash.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(queued_commands)")}
        if "traceparent" not in columns:  # a queue file written before traces were carried
            self._db.execute("ALTER TABLE queued_commands ADD COLUMN traceparent TEXT")

    def close(self) -> None:
        self._db.close()

    def add(self, commands: Sequence[QueuedCommand]) -> list[QueuedCommand]:
        """Queue new commands in one transaction; returns those refused for a full queue.

        A command already known (a Kafka record read again after a restart) is left as it is.
        """
        refused: list[QueuedCommand] = []
        with self._transaction():
            for command in commands:
                known = self._db.execute(
                    "SELECT 1 FROM queued_commands WHERE request_id = ?", (command.request_id,)
                ).fetchone()
                if known:
                    continue
                (waiting,) = self._db.execute(
                    "SELECT count(*) FROM queued_commands WHERE device_id = ? AND state = ?",
                    (command.device_id, QueueState.waiting.value),
                ).fetchone()
                if waiting >= self._max_waiting:
                    refused.append(command)
                    continue
                self._db.execute(
                    f"INSERT INTO queued_commands ({_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        command.request_id,
                        command.device_id,
                        command.message,
                        command.encoder,
                        command.push_uri,
                        int(command.confirmable),
                        command.expires_at,
                        command.not_before,
                        command.traceparent,
                        QueueState.waiting.value,
                    ),
                )
        return refused

    def due(self, device_id: str, now: float, *, push: bool = False) -> list[QueuedCommand]:
        """The device's waiting commands that may go now, oldest first: not expired, past
        ``not_before``; check-in commands, or with ``push`` those the connector pushes."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM queued_commands WHERE device_id = ? AND state = ? "
            f"AND push_uri IS {'NOT ' if push else ''}NULL "
            "AND (expires_at IS NULL OR expires_at > ?) "
            "AND (not_before IS NULL OR not_before <= ?) "
            "ORDER BY seq",
            (device_id, QueueState.waiting.value, now, now),
        ).fetchall()
        return [_from_row(row) for row in rows]

    def next_not_before(self, device_id: str, now: float, *, push: bool) -> float | None:
        """When the device's next held-back command becomes due (None: none is held back)."""
        (moment,) = self._db.execute(
            "SELECT min(not_before) FROM queued_commands WHERE device_id = ? AND state = ? "
            f"AND push_uri IS {'NOT ' if push else ''}NULL AND not_before > ?",
            (device_id, QueueState.waiting.value, now),
        ).fetchone()
        return float(moment) if moment is not None else None

    def devices_with_pushes(self) -> list[str]:
        """Devices that have push commands waiting (to resume them after a restart)."""
        rows = self._db.execute(
            "SELECT DISTINCT device_id FROM queued_commands "
            "WHERE state = ? AND push_uri IS NOT NULL",
            (QueueState.waiting.value,),
        ).fetchall()
        return [row[0] for row in rows]

    def overdue(self, now: float) -> list[QueuedCommand]:
        """Waiting commands whose ``expires_at`` has passed: they will never be handed over."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM queued_commands "
            "WHERE state = ? AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY seq",
            (QueueState.waiting.value, now),
        ).fetchall()
        return [_from_row(row) for row in rows]

    def get(self, request_id: str) -> QueuedCommand | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM queued_commands WHERE request_id = ?", (request_id,)
        ).fetchone()
        return _from_row(row) if row else None

    def move(self, request_ids: Iterable[str], state: QueueState, now: float) -> None:
        """Set the state of these commands, stamping when they left the queue."""
        ended = None if state is QueueState.waiting else now
        with self._transaction():
            self._db.executemany(
                "UPDATE queued_commands SET state = ?, ended_at = ? WHERE request_id = ?",
                [(state.value, ended, request_id) for request_id in request_ids],
            )

    def withdraw(self, request_id: str, device_id: str, now: float) -> QueuedCommand | None:
        """End the device's command if it has not been handed over yet (cancelled); returns it,
        or None when it is unknown, another device's, or already on its way."""
        with self._transaction():
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM queued_commands "
                "WHERE request_id = ? AND device_id = ? AND state = ?",
                (request_id, device_id, QueueState.waiting.value),
            ).fetchone()
            if row is None:
                return None
            self._db.execute(
                "UPDATE queued_commands SET state = ?, ended_at = ? WHERE request_id = ?",
                (QueueState.done.value, now, request_id),
            )
        return _from_row(row)

    def claim(self, commands: Sequence[QueuedCommand], now: float) -> list[QueuedCommand]:
        """Take waiting commands to hand them over: from now on a cancellation cannot withdraw
        them. Returns those that were still waiting (the ones the caller may hand over)."""
        claimed: list[QueuedCommand] = []
        with self._transaction():
            for command in commands:
                cursor = self._db.execute(
                    "UPDATE queued_commands SET state = ?, ended_at = ? "
                    "WHERE request_id = ? AND state = ?",
                    (
                        QueueState.handed_over.value,
                        now,
                        command.request_id,
                        QueueState.waiting.value,
                    ),
                )
                if cursor.rowcount:
                    claimed.append(command)
        return claimed

    def give_back(self, commands: Iterable[QueuedCommand]) -> None:
        """Return claimed commands to the queue (handing over failed before it happened)."""
        with self._transaction():
            self._db.executemany(
                "UPDATE queued_commands SET state = ?, ended_at = NULL WHERE request_id = ?",
                [(QueueState.waiting.value, c.request_id) for c in commands],
            )

    def requeue_interrupted_pushes(self) -> int:
        """Pushes that were on their way when the connector stopped go again (at least once)."""
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE queued_commands SET state = ?, ended_at = NULL "
                "WHERE state = ? AND push_uri IS NOT NULL",
                (QueueState.waiting.value, QueueState.handed_over.value),
            )
        return cursor.rowcount

    def forget_ended(self, now: float) -> int:
        """Drop commands that left the queue more than a day ago; returns how many."""
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM queued_commands WHERE state != ? AND ended_at < ?",
                (QueueState.waiting.value, now - _KEEP_ENDED_S),
            )
        return cursor.rowcount

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK when the block raised."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")
