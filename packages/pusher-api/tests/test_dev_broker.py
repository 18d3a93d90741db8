"""The dev broker and the Kafka-aware proxy that the other tests and `serve --dev-broker` use."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pusher_api.dev_broker import DevBroker
from pusher_api.testing.kafka import read_topic
from pusher_api.testing.tcp_proxy import KafkaProxy

pytestmark = pytest.mark.kafka


async def test_proxy_keeps_clients_on_its_port_and_cuts_them() -> None:
    with DevBroker() as broker, KafkaProxy(broker.bootstrap_servers) as proxy:
        producer = AIOKafkaProducer(
            bootstrap_servers=proxy.bootstrap_servers, acks="all", request_timeout_ms=1000
        )
        await producer.start()
        try:
            await producer.send_and_wait("device_commands", b"before", key=b"k")
            proxy.cut()  # if clients had bypassed the proxy, this send would still succeed
            with pytest.raises((KafkaError, TimeoutError)):
                await asyncio.wait_for(
                    producer.send_and_wait("device_commands", b"during", key=b"k"), 1.5
                )
            proxy.restore()
            await asyncio.wait_for(
                producer.send_and_wait("device_commands", b"after", key=b"k"), 10
            )
        finally:
            await producer.stop()
        values = [r.value for r in await read_topic(proxy.bootstrap_servers, "device_commands")]
    assert values[0] == b"before"
    assert values[-1] == b"after"


def test_killed_broker_refuses_connections() -> None:
    broker = DevBroker()
    host, port = broker.start().rsplit(":", 1)
    broker.kill()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=1)
