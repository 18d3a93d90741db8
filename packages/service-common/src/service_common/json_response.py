"""JSON answers of both APIs, written by orjson, with one spelling of time.

A time is ISO 8601 with its offset, UTC written ``+00:00``
(``2026-01-02T03:04:00+00:00``, microseconds only when there are any): what orjson writes for
an aware datetime and what ``datetime.isoformat`` gives, so a client parses every time of either
service with ``datetime.fromisoformat`` alike. Pydantic would write ``Z`` for UTC, so response
models declare their times as ``Timestamp``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, PlainSerializer

_ISO_8601 = PlainSerializer(datetime.isoformat, when_used="json")

Timestamp = Annotated[datetime, _ISO_8601]
"""A datetime in a response model, written ``2025-10-26T00:00:00+00:00`` like orjson does."""

AwareTimestamp = Annotated[AwareDatetime, _ISO_8601]
"""The same for a model that also reads times from clients: one without an offset is refused."""


def json_bytes(content: Any) -> bytes:
    """``content`` as the JSON both APIs answer (times with ``+00:00``, any dict keys)."""
    return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class OrjsonResponse(JSONResponse):
    """The response class of both APIs: JSON by orjson, several times faster than the stdlib."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)
