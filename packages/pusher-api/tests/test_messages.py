"""The command record's building blocks: request ids, the record value, validation messages."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import orjson
import pytest
from pusher_api.messages import (
    AcceptedCommand,
    CommandRequest,
    DeviceCommand,
    new_request_ids,
    validation_errors,
)
from pydantic import ValidationError


def test_request_ids_are_unique_version_7_uuids_carrying_the_time() -> None:
    before_ms = time.time_ns() // 1_000_000
    ids = new_request_ids(5000)
    after_ms = time.time_ns() // 1_000_000

    assert len(set(ids)) == 5000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert before_ms <= parsed.int >> 80 <= after_ms
    assert new_request_ids(0) == []


def test_later_ids_sort_after_earlier_ones() -> None:
    first = new_request_ids(3)
    time.sleep(0.002)
    later = new_request_ids(3)
    assert max(first) < min(later)


def test_the_record_value_is_the_device_command_document() -> None:
    command = CommandRequest.model_validate(
        {
            "device_id": "meter-1",
            "command_type": "set_config",
            "payload": {"interval_s": 60, "nested": {"a": [1, 2]}},
            "protocol": "coap",
            "priority": "high",
            "expires_at": "2999-01-01T00:00:00+02:00",
        }
    )
    accepted = AcceptedCommand(command, "0190-id", datetime(2026, 12, 1, 12, 0, 0, 123, UTC))
    value = orjson.loads(accepted.kafka_value())
    expected = orjson.loads(
        DeviceCommand.model_validate(
            {**command.model_dump(), "request_id": "0190-id", "timestamp": accepted.timestamp}
        ).model_dump_json()
    )
    assert value == expected
    assert list(value) == list(DeviceCommand.model_fields)  # same field order
    assert value["timestamp"] == "2026-12-01T12:00:00.000123+00:00"
    assert accepted.kafka_key() == b"meter-1"
    assert accepted.kafka_headers() == [
        ("request_id", b"0190-id"),
        ("command_type", b"set_config"),
    ]
    assert DeviceCommand.from_kafka(accepted.kafka_value()).expires_at == command.expires_at


def test_a_payload_orjson_cannot_write_falls_back_to_pydantic() -> None:
    command = CommandRequest(device_id="d", command_type="c", payload={"big": 2**70})
    accepted = AcceptedCommand(command, "id", datetime(2026, 1, 1, tzinfo=UTC))
    assert DeviceCommand.from_kafka(accepted.kafka_value()).payload == {"big": 2**70}


def test_validation_errors_say_what_is_wrong_with_json_safe_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        CommandRequest.model_validate({"device_id": "a b", "timestamp": "now", "qos": 7})
    errors = validation_errors(caught.value, ("body",))
    by_field = {error["loc"][-1]: error for error in errors}
    assert set(by_field) == {"device_id", "command_type", "qos", "timestamp"}
    assert by_field["timestamp"]["msg"] == "timestamp is assigned by the service: omit it"
    assert by_field["qos"]["loc"] == ["body", "qos"]
    assert all(set(error) == {"type", "loc", "msg", "input"} for error in errors)
    orjson.dumps(errors)  # JSON-safe
