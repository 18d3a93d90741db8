"""The typed clients against the real service (uvicorn, Kafka-protocol broker): models on success,
one typed error per failure the API can answer with."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pusher_api.client import (
    AsyncPusherClient,
    AuthenticationError,
    BrokerUnavailableError,
    CommandRequest,
    CommandStatus,
    InvalidCommandError,
    NotFoundError,
    PayloadTooLargeError,
    PusherClient,
    PusherError,
    RateLimitedError,
    StatusTimeoutError,
    TransportError,
    UnexpectedResponseError,
)
from pusher_api.messages import DeviceCommand, Priority
from pusher_api.testing.kafka import read_topic
from pusher_api.testing.server import free_port

from .conftest import RunningApi, command, unique_topic

pytestmark = pytest.mark.kafka

StartApi = Callable[..., AbstractContextManager[RunningApi]]


async def test_sync_client_sends_a_command_that_lands_on_kafka_and_reads_its_status(
    start_api: StartApi,
) -> None:
    topic = unique_topic()
    expires = datetime.now(UTC) + timedelta(hours=1)
    with start_api(kafka_command_topic=topic) as api, PusherClient(api.base_url) as pusher:
        health = pusher.health()
        accepted = pusher.send_command(
            CommandRequest(
                device_id="sensor-7",
                command_type="set_config",
                payload={"interval_s": 30},
                qos=2,
                priority=Priority.high,
                expires_at=expires,
            )
        )
        status = pusher.get_status(accepted.request_id)
        records = await read_topic(api.settings.kafka_bootstrap_servers, topic, expect=1)

    assert health.status == "ok"
    assert health.kafka_connected
    assert accepted.success
    assert accepted.kafka_partition is not None
    assert accepted.kafka_offset is not None
    assert status.request_id == accepted.request_id
    assert status.status is CommandStatus.sent
    assert status.kafka_offset == accepted.kafka_offset
    [record] = records
    on_kafka = DeviceCommand.from_kafka(record.value)
    assert (record.partition, record.offset) == (accepted.kafka_partition, accepted.kafka_offset)
    assert on_kafka.request_id == accepted.request_id
    assert (on_kafka.qos, on_kafka.priority, on_kafka.expires_at) == (2, Priority.high, expires)
    assert on_kafka.payload == {"interval_s": 30}


async def test_async_client_sends_batches_with_per_command_results(start_api: StartApi) -> None:
    with start_api() as api:
        async with AsyncPusherClient(api.base_url) as pusher:
            batch = await pusher.send_batch(
                [
                    CommandRequest(device_id="a-1", command_type="reboot"),
                    command(device_id="a-2"),
                    command(device_id="a 3 has spaces"),
                ]
            )
            status = await pusher.get_status(batch.results[0].request_id or "")

    assert (batch.total_commands, batch.successful, batch.failed) == (3, 2, 1)
    assert [result.success for result in batch.results] == [True, True, False]
    assert batch.results[2].errors
    assert status.device_id == "a-1"


async def test_idempotency_key_makes_a_retry_return_the_first_answer(start_api: StartApi) -> None:
    topic = unique_topic()
    with start_api(kafka_command_topic=topic) as api:
        async with AsyncPusherClient(api.base_url, client_id="test-client") as pusher:
            first = await pusher.send_command(command(), idempotency_key="order-1")
            retry = await pusher.send_command(command(), idempotency_key="order-1")
        records = await read_topic(api.settings.kafka_bootstrap_servers, topic, expect=1)
    assert retry.request_id == first.request_id
    assert len(records) == 1


def test_api_key_is_sent_and_a_missing_one_is_authentication_error(start_api: StartApi) -> None:
    with start_api(api_keys=["s3cret"]) as api:
        with PusherClient(api.base_url, api_key="s3cret") as pusher:
            accepted = pusher.send_command(command())
        with PusherClient(api.base_url) as anonymous, pytest.raises(AuthenticationError) as error:
            anonymous.send_command(command())
        with (
            PusherClient(api.base_url, api_key="wrong") as wrong,
            pytest.raises(AuthenticationError),
        ):
            wrong.get_status(accepted.request_id)
    assert error.value.status_code == 401
    assert "X-API-Key" in str(error.value)


def test_rejected_command_is_invalid_command_error_naming_each_field(
    start_api: StartApi,
) -> None:
    with start_api() as api, PusherClient(api.base_url) as pusher:
        with pytest.raises(InvalidCommandError) as error:
            pusher.send_command(command(protocol="zigbee", qos=7))
        with pytest.raises(InvalidCommandError) as past:
            pusher.send_command(command(expires_at="2020-01-01T00:00:00Z"))

    assert error.value.status_code == 422
    assert {field.loc for field in error.value.errors} == {("protocol",), ("qos",)}
    assert "mqtt" in str(error.value)  # the allowed protocols are listed
    assert isinstance(error.value, ValueError)
    assert [field.loc for field in past.value.errors] == [("expires_at",)]


def test_oversized_command_is_payload_too_large_error(start_api: StartApi) -> None:
    with (
        start_api(max_command_bytes=1000) as api,
        PusherClient(api.base_url) as pusher,
        pytest.raises(PayloadTooLargeError) as error,
    ):
        pusher.send_command(command(payload={"blob": "x" * 2000}))
    assert error.value.status_code == 413
    assert "1000 bytes" in error.value.message


def test_unknown_request_id_is_not_found_error(start_api: StartApi) -> None:
    with (
        start_api() as api,
        PusherClient(api.base_url) as pusher,
        pytest.raises(NotFoundError) as error,
    ):
        pusher.get_status("no-such-request")
    assert error.value.status_code == 404
    assert "no-such-request" in error.value.message


def test_unreachable_broker_is_broker_unavailable_error(start_api: StartApi) -> None:
    dead = f"127.0.0.1:{free_port()}"
    with (
        start_api(kafka_bootstrap_servers=dead, kafka_timeout_ms=500) as api,
        PusherClient(api.base_url) as pusher,
    ):
        health = pusher.health()
        started = time.monotonic()
        with pytest.raises(BrokerUnavailableError) as error:
            pusher.send_command(command())
    assert time.monotonic() - started < 5
    assert error.value.status_code == 503
    assert health.status == "degraded"
    assert not health.kafka_connected


def test_rate_limit_is_rate_limited_error_with_retry_after(start_api: StartApi) -> None:
    with (
        start_api(api_keys=["k"], rate_limit_per_minute=1) as api,
        PusherClient(api.base_url, api_key="k") as pusher,
    ):
        pusher.send_command(command())
        with pytest.raises(RateLimitedError) as error:
            pusher.send_command(command())
    assert error.value.status_code == 429
    assert error.value.retry_after is not None
    assert 0 < error.value.retry_after <= 60


def test_no_server_is_transport_error() -> None:
    with (
        PusherClient(f"http://127.0.0.1:{free_port()}", timeout=2) as pusher,
        pytest.raises(TransportError) as error,
    ):
        pusher.health()
    assert isinstance(error.value, PusherError)
    assert "is the Pusher API running there?" in str(error.value)


async def test_waiting_for_a_final_status_gives_up_with_the_last_status(
    start_api: StartApi,
) -> None:
    with start_api() as api:  # no connector runs: the command stays `sent`
        async with AsyncPusherClient(api.base_url) as pusher:
            accepted = await pusher.send_command(command())
            with pytest.raises(StatusTimeoutError) as error:
                await pusher.wait_for_final_status(
                    accepted.request_id, timeout=0.3, poll_interval=0.1
                )
    assert error.value.last_status == "sent"
    assert isinstance(error.value, TimeoutError)


def test_errors_carry_the_services_message_not_a_traceback(start_api: StartApi) -> None:
    with (
        start_api() as api,
        PusherClient(api.base_url) as pusher,
        pytest.raises(InvalidCommandError) as error,
    ):
        pusher.send_command({"device_id": "x"})
    assert str(error.value).startswith("HTTP 422: the command was rejected: command_type:")
    json.dumps([str(field) for field in error.value.errors])  # plain, printable values


class _NotPusher(BaseHTTPRequestHandler):
    """Some other HTTP service: answers 200 with JSON that is not the Pusher API's."""

    def do_GET(self) -> None:
        body = b'{"hello": "world"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_server_that_is_not_the_pusher_api_is_unexpected_response_error() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotPusher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with (
            PusherClient(f"http://127.0.0.1:{server.server_address[1]}") as pusher,
            pytest.raises(UnexpectedResponseError) as error,
        ):
            pusher.health()
    finally:
        server.shutdown()
        server.server_close()
    assert "not a Health" in str(error.value)
