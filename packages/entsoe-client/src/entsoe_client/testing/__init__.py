"""Test support shipped with the client: a fake platform on loopback (like httpx.MockTransport,
but real HTTP), and the generator of valid documents it answers with."""

from entsoe_client.testing._documents import (
    a03_value_at,
    acknowledgement,
    calendar_value_at,
    generate_document,
    parse_period,
    value_at,
)
from entsoe_client.testing._fake_platform import FakePlatform, RecordedRequest, Reply

__all__ = [
    "FakePlatform",
    "RecordedRequest",
    "Reply",
    "a03_value_at",
    "acknowledgement",
    "calendar_value_at",
    "generate_document",
    "parse_period",
    "value_at",
]
