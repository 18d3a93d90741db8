"""The spliced record value against plain references, on generated commands: the same bytes as
the reference path, and the same document as orjson (and json) write of the same dict."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pusher_api.messages import AcceptedCommand, CommandRequest, DeviceCommand
from pusher_api.record_json import (
    NO_CALLBACK,
    plain_record_value,
    spliced_record_value,
    write_record,
)

FUTURE = datetime(2999, 1, 1, tzinfo=UTC)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)
offsets = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
)
moments = st.builds(
    lambda seconds, micro, tz: (FUTURE - timedelta(seconds=seconds, microseconds=micro)).astimezone(
        tz
    ),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=999_999),
    offsets,
)


@st.composite
def commands(draw: st.DrawFn) -> CommandRequest:
    body: dict[str, Any] = {
        "device_id": draw(st.from_regex(r"\A[A-Za-z0-9_.:@-]{1,20}\Z")),
        "command_type": draw(st.text(min_size=1, max_size=20)),
        "payload": draw(json_objects),
        "metadata": draw(json_objects),
        "protocol": draw(st.sampled_from(["mqtt", "coap"])),
        "priority": draw(st.sampled_from(["low", "normal", "high"])),
        "qos": draw(st.integers(0, 2)),
        "retain": draw(st.booleans()),
    }
    if draw(st.booleans()):
        body["parser_script_ref"] = draw(st.text(max_size=30))
    expires_at = draw(st.none() | moments)
    if expires_at is not None:
        body["expires_at"] = expires_at.isoformat()
        if draw(st.booleans()):
            body["not_before"] = (expires_at - timedelta(seconds=1)).isoformat()
    if draw(st.booleans()):
        body["callback_url"] = "https://example.test/hook"
        body["callback_events"] = draw(st.sampled_from([None, "all", "final"]))
    return CommandRequest.model_validate(body)


def _pydantic(fields: dict[str, Any]) -> bytes:
    return DeviceCommand.model_validate(fields).model_dump_json().encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command=commands(), request_id=st.uuids().map(str), timestamp=moments)
def test_the_spliced_value_is_the_plain_value(
    command: CommandRequest, request_id: str, timestamp: datetime
) -> None:
    fields = command.__dict__
    spliced = spliced_record_value(fields, request_id, timestamp, _pydantic)
    assert spliced == plain_record_value(fields, request_id, timestamp, _pydantic)
    assert spliced == AcceptedCommand(command, request_id, timestamp).kafka_value()

    # the plain reference of the same dict, written by orjson and read back by json
    document = {
        **{k: v for k, v in fields.items() if k not in ("callback_url", "callback_events")},
        "request_id": request_id,
        "timestamp": timestamp,
    }
    assert spliced == orjson.dumps(document)
    read = json.loads(spliced)
    assert list(read) == list(DeviceCommand.model_fields)
    assert read["payload"] == json.loads(json.dumps(command.payload))
    assert (
        DeviceCommand.from_kafka(spliced).model_dump()
        == DeviceCommand.model_validate(document).model_dump()
    )


def test_equal_instants_in_other_offsets_are_written_in_their_own() -> None:
    command = CommandRequest(device_id="d-1", command_type="reboot")
    utc = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    paris = utc.astimezone(timezone(timedelta(hours=1)))
    assert utc == paris
    for at in (utc, paris, utc):
        assert spliced_record_value(command.__dict__, "id", at, _pydantic) == plain_record_value(
            command.__dict__, "id", at, _pydantic
        )


def test_the_splice_is_taken_for_a_command_without_a_callback() -> None:
    command = CommandRequest(device_id="d-1", command_type="reboot")
    assert orjson.dumps(command.__dict__).endswith(NO_CALLBACK)  # the tail the splice cuts


def test_what_orjson_cannot_write_goes_to_the_fallback() -> None:
    command = CommandRequest(device_id="d", command_type="c", payload={"big": 2**70})
    at = datetime(2026, 1, 1, tzinfo=UTC)
    spliced = spliced_record_value(command.__dict__, "id", at, _pydantic)
    assert spliced == plain_record_value(command.__dict__, "id", at, _pydantic)
    assert json.loads(spliced)["payload"] == {"big": 2**70}
    assert write_record({"x": 1}, _pydantic) == b'{"x":1}'
