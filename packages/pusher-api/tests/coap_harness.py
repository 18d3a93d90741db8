"""A harness for tests of the CoAP connector: the connector serving on an ephemeral UDP port,
devices played by aiocoap clients (check-in) and aiocoap servers (push), over loopback."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiocoap
import orjson
from aiocoap import Code, Message, resource
from aiokafka import AIOKafkaProducer
from pusher_api.connector.coap.connector import CoapConnector, bound_port
from pusher_api.connector.settings import CoapConnectorSettings

from .connector_harness import TIMEOUT_S, CommandWriter

HOST = "127.0.0.1"


def coap_settings(
    bootstrap_servers: str, queue_file: Path, **overrides: Any
) -> CoapConnectorSettings:
    """Settings with topics and a group of their own, a free port, fast CoAP retransmissions."""
    suffix = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": bootstrap_servers,
        "kafka_command_topic": f"coap-commands-{suffix}",
        "kafka_status_topic": f"coap-status-{suffix}",
        "kafka_cancel_topic": f"coap-cancel-{suffix}",
        "kafka_connector_group": f"coap-connector-{suffix}",
        "coap_host": HOST,
        "coap_port": 0,
        "coap_queue_file": queue_file,
        # MAX_TRANSMIT_WAIT = 0.1 x (2^2 - 1) x 1.5 = 0.45 s instead of 93 s.
        "coap_ack_timeout_s": 0.1,
        "coap_max_retransmit": 1,
    }
    values.update(overrides)
    return CoapConnectorSettings(_env_file=None, **values)  # type: ignore[call-arg]


@contextlib.contextmanager
def coap_connector_in_thread(settings: CoapConnectorSettings) -> Iterator[int]:
    """The connector in a thread of this process; yields its UDP port once it serves.

    Serving means a warm-up command went from Kafka through the queue to a device's check-in.
    Stopped the way SIGTERM stops it; whatever ended it early is re-raised here.
    """
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    connector = CoapConnector(settings)
    outcome: concurrent.futures.Future[None] = concurrent.futures.Future()

    def serve() -> None:
        try:
            loop.run_until_complete(connector.run(stop))
            outcome.set_result(None)
        except BaseException as error:
            outcome.set_exception(error)
        finally:
            loop.close()

    thread = threading.Thread(target=serve, name="coap-connector", daemon=True)
    thread.start()
    try:
        asyncio.run(_wait_until_serving(settings, connector, outcome))
        assert connector.port is not None
        yield connector.port
    finally:
        with contextlib.suppress(RuntimeError):  # the loop already ended
            loop.call_soon_threadsafe(stop.set)
        thread.join(TIMEOUT_S)
    outcome.result(timeout=0)


async def _wait_until_serving(
    settings: CoapConnectorSettings,
    connector: CoapConnector,
    outcome: concurrent.futures.Future[None],
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        device_id = f"warm-up-{uuid.uuid4().hex[:8]}"
        sent = await CommandWriter(producer, settings.kafka_command_topic).send(
            device_id, protocol="coap"
        )
        async with asyncio.timeout(60), CoapDevice.client() as client:
            while True:
                if outcome.done():
                    outcome.result()  # re-raises why the connector ended
                if connector.port is not None:
                    commands = await client.check_in(connector.port, device_id)
                    if any(c["request_id"] == sent.request_id for c in commands):
                        return
                await asyncio.sleep(0.1)
    finally:
        await producer.stop()


@dataclass
class CoapAnswer:
    code: Code
    payload: bytes
    content_format: int | None


class CoapDevice:
    """A device's CoAP client: check-ins and results, as a sensor's firmware sends them."""

    def __init__(self, context: aiocoap.Context) -> None:
        self.context = context

    @classmethod
    @contextlib.asynccontextmanager
    async def client(cls) -> AsyncIterator[CoapDevice]:
        context = await aiocoap.Context.create_client_context(transports=["udp6"])
        try:
            yield cls(context)
        finally:
            await context.shutdown()

    async def request(
        self, code: Code, port: int, path: str, payload: bytes = b"", **options: Any
    ) -> CoapAnswer:
        message = Message(code=code, uri=f"coap://{HOST}:{port}{path}", payload=payload, **options)
        async with asyncio.timeout(TIMEOUT_S):
            response = await self.context.request(message).response
        fmt = response.opt.content_format
        return CoapAnswer(response.code, response.payload, None if fmt is None else int(fmt))

    async def check_in(self, port: int, device_id: str) -> list[dict[str, Any]]:
        answer = await self.request(Code.GET, port, f"/devices/{device_id}/commands")
        assert answer.code == Code.CONTENT, answer
        assert answer.content_format == 50
        commands: list[dict[str, Any]] = orjson.loads(answer.payload)
        return commands

    async def result(self, port: int, device_id: str, body: dict[str, Any]) -> CoapAnswer:
        return await self.request(
            Code.POST,
            port,
            f"/devices/{device_id}/responses",
            orjson.dumps(body),
            content_format=50,
        )


@dataclass
class ListeningDevice:
    """A device that listens (push mode): an aiocoap server answering each POST with ``code``."""

    port: int
    received: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    code: Code = Code.CHANGED
    received_at: list[float] = field(default_factory=list)

    def uri(self, path: str = "/cmd") -> str:
        return f"coap://{HOST}:{self.port}{path}"

    async def next_command(self) -> Message:
        async with asyncio.timeout(TIMEOUT_S):
            return await self.received.get()


class _CommandInbox(resource.Resource):  # type: ignore[misc]
    def __init__(self, device: ListeningDevice) -> None:
        super().__init__()
        self._device = device

    async def render_post(self, request: Message) -> Message:
        self._device.received_at.append(time.time())
        self._device.received.put_nowait(request)
        return Message(
            code=self._device.code, payload=b"" if self._device.code.is_successful() else b"busy"
        )


@contextlib.asynccontextmanager
async def listening_device() -> AsyncIterator[ListeningDevice]:
    device = ListeningDevice(port=0)
    site = resource.Site()
    site.add_resource(["cmd"], _CommandInbox(device))
    context = await aiocoap.Context.create_server_context(site, bind=(HOST, 0), transports=["udp6"])
    try:
        port = bound_port(context)
        assert port
        device.port = port
        yield device
    finally:
        await context.shutdown()


@contextlib.contextmanager
def listening_device_in_thread() -> Iterator[tuple[ListeningDevice, asyncio.AbstractEventLoop]]:
    """A listening device that outlives the event loops of a test (e.g. across a restart);
    read what it received with ``asyncio.run_coroutine_threadsafe(device.next_command(), loop)``."""
    loop = asyncio.new_event_loop()
    ready: concurrent.futures.Future[ListeningDevice] = concurrent.futures.Future()
    stop = asyncio.Event()

    async def serve() -> None:
        async with listening_device() as device:
            ready.set_result(device)
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        yield ready.result(timeout=TIMEOUT_S), loop
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(TIMEOUT_S)
        loop.close()
