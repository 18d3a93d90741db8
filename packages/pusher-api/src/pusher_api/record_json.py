"""A command record's value as JSON, two ways that give the same bytes.

`plain_record_value` is the reference: a copy of the command's fields without the service's own
(`callback_url`, `callback_events`, which connectors never see), plus `request_id` and
`timestamp`, written by orjson. `spliced_record_value` is what the hot path uses: orjson writes
the command's fields as they are, and since the callback fields come last, a command without
them ends in `NO_CALLBACK`; that tail is cut off and the two service fields spliced in its
place. No dict is copied per record, and the timestamp, shared by a group's commands, is
formatted once (`json_time`). A command with a callback, or with a payload orjson cannot write,
takes the reference path.

Both write times as orjson does, UTC as `+00:00` (the spelling of both APIs' answers, which
connectors read like any ISO 8601 offset). `fallback` writes
what orjson refuses (an integer beyond 64 bits); the tests hold the two paths to equal bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson

NO_CALLBACK = b',"callback_url":null,"callback_events":null}'
"""How a command without callback fields ends when orjson writes it."""

SERVICE_ONLY = frozenset({"callback_url", "callback_events"})
"""The request's fields that stay with the service."""

Fallback = Callable[[dict[str, Any]], bytes]


def write_record(fields: dict[str, Any], fallback: Fallback) -> bytes:
    """`fields` written by orjson (`+00:00` for UTC, enums as their values), or by `fallback` when
    orjson cannot write them."""
    try:
        return orjson.dumps(fields)
    except TypeError:
        return fallback(fields)


def plain_record_value(
    fields: dict[str, Any], request_id: str, timestamp: datetime, fallback: Fallback
) -> bytes:
    """The record value built the ordinary way: a new dict, written whole."""
    kept = {key: value for key, value in fields.items() if key not in SERVICE_ONLY}
    return write_record({**kept, "request_id": request_id, "timestamp": timestamp}, fallback)


def spliced_record_value(
    fields: dict[str, Any], request_id: str, timestamp: datetime, fallback: Fallback
) -> bytes:
    """The same bytes as `plain_record_value`, the callback tail cut and the service fields
    spliced in."""
    try:
        written = orjson.dumps(fields)
    except TypeError:
        written = b""
    if not written.endswith(NO_CALLBACK):
        return plain_record_value(fields, request_id, timestamp, fallback)
    return b"".join(
        (
            written[: -len(NO_CALLBACK)],
            b',"request_id":',
            orjson.dumps(request_id),
            b',"timestamp":',
            json_time(timestamp),
            b"}",
        )
    )


def json_time(moment: datetime) -> bytes:
    """A time as orjson writes it in a record (`+00:00` for UTC), cached: a group shares one.

    The cache is keyed by the offset too: equal instants in different offsets are equal (and
    hash alike) as datetimes, but are written differently."""
    return _json_time(moment, moment.utcoffset())


@functools.lru_cache(maxsize=64)
def _json_time(moment: datetime, _offset: timedelta | None) -> bytes:
    return orjson.dumps(moment)
