"""Commands pushed to devices that listen (``metadata.coap_uri``): one POST at a time per device,
in queue order.

A confirmable POST is retransmitted by CoAP's message layer (ACK_TIMEOUT, MAX_RETRANSMIT) and
given up after MAX_TRANSMIT_WAIT. The device's answer decides the status: 2.xx → ``delivered``
then ``succeeded``; 4.xx/5.xx → ``delivered`` then ``failed`` with the code (the device got the
command and refused it); no answer in time, a reset or an unreachable host → ``failed``. The
usual answer rides on the ACK (piggybacked), so delivery and result arrive together; a device
that sends an empty ACK and answers later is reported when its answer comes, within the same
wait. ``confirmable: false`` sends a NON: nothing comes back that could be trusted, so nothing
beyond ``sent`` is reported.

A cancelled command is never pushed (`cancel_gate`). A command leaves the queue only after its
status records were acknowledged by Kafka; when Kafka is away, or the connector stopped
mid-push, the push is tried again later (at least once, as everywhere in the pusher).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiocoap
import aiocoap.error
import orjson
import structlog
from aiocoap import Code, Message
from aiocoap.numbers.constants import TransportTuning
from aiokafka.errors import KafkaError

from pusher_api.connector.coap.cancel_gate import CancelGate
from pusher_api.connector.coap.queue import DeviceQueues, QueuedCommand, QueueState
from pusher_api.connector.coap.reporter import Report, StatusReporter
from pusher_api.encoders import encoder_for
from pusher_api.messages import CommandStatus

log = structlog.get_logger(__name__)

_KAFKA_RETRY_S = 2.0
_MAX_DETAIL_CHARS = 200


def transport_tuning(
    ack_timeout_s: float, max_retransmit: int, *, confirmable: bool
) -> TransportTuning:
    """RFC 7252 transmission parameters for one push."""

    class Tuning(TransportTuning):  # type: ignore[misc]
        ACK_TIMEOUT = ack_timeout_s
        MAX_RETRANSMIT = max_retransmit
        reliability = confirmable

    return Tuning()


class Pusher:
    """One task per device with push commands waiting; it ends when the device has none."""

    def __init__(
        self,
        context: aiocoap.Context,
        queues: DeviceQueues,
        reporter: StatusReporter,
        gate: CancelGate,
        *,
        ack_timeout_s: float,
        max_retransmit: int,
        max_transmit_wait_s: float,
    ) -> None:
        self._context = context
        self._queues = queues
        self._reporter = reporter
        self._gate = gate
        self._ack_timeout_s = ack_timeout_s
        self._max_retransmit = max_retransmit
        self._wait_s = max_transmit_wait_s
        self._devices: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self._unanswered: set[asyncio.Task[None]] = set()

    def wake(self, device_id: str) -> None:
        """New push commands for the device: serve it (again)."""
        if device_id in self._devices:
            self._devices[device_id][1].set()
            return
        woken = asyncio.Event()
        task = asyncio.create_task(self._serve(device_id, woken), name=f"coap-push-{device_id}")
        self._devices[device_id] = (task, woken)

    async def close(self) -> None:
        tasks = [task for task, _ in self._devices.values()] + list(self._unanswered)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._devices.clear()

    async def _serve(self, device_id: str, woken: asyncio.Event) -> None:
        while True:
            woken.clear()
            now = time.time()
            due = self._queues.due(device_id, now, push=True)
            if not due:
                held_until = self._queues.next_not_before(device_id, now, push=True)
                if held_until is None:
                    del self._devices[device_id]
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), held_until - now)
                continue
            try:
                due = await self._gate.pass_through(due[:1])
                # Claimed with no await since the gate: a cancellation from here on is too late.
                claimed = self._queues.claim(due, time.time())
                if claimed:
                    await self._push(claimed[0])
            except KafkaError as error:
                log.warning("connector.kafka_unavailable", device_id=device_id, error=str(error))
                await asyncio.sleep(_KAFKA_RETRY_S)

    async def _push(self, command: QueuedCommand) -> None:
        assert command.push_uri is not None
        uri = command.push_uri
        encoder = encoder_for(command.encoder)
        try:
            payload = encoder.encode(orjson.loads(command.message))
            message = Message(
                code=Code.POST,
                uri=uri,
                payload=payload,
                content_format=encoder.content_format,
                transport_tuning=transport_tuning(
                    self._ack_timeout_s, self._max_retransmit, confirmable=command.confirmable
                ),
            )
        except Exception as error:
            await self._end(command, [(CommandStatus.failed, f"cannot push to {uri}: {error}")])
            return
        request = self._context.request(message)
        if not command.confirmable:
            self._ignore_answer(request)
            self._queues.move([command.request_id], QueueState.done, time.time())
            log.info("connector.command_pushed", request_id=command.request_id, uri=uri, type="NON")
            return
        outcome: list[tuple[CommandStatus, str | None]]
        try:
            async with asyncio.timeout(self._wait_s):
                response = await request.response
        except (TimeoutError, aiocoap.error.TimeoutError):
            outcome = [
                (CommandStatus.failed, f"no answer from {uri} within {self._wait_s:g} s"),
            ]
        except aiocoap.error.Error as error:
            # aiocoap's str() of its network errors is only the class name; args say why.
            reason = error.args[0] if error.args else type(error).__name__
            outcome = [(CommandStatus.failed, f"no answer from {uri}: {reason}")]
        else:
            code = response.code
            if code.is_successful():
                outcome = [(CommandStatus.delivered, None), (CommandStatus.succeeded, None)]
            else:
                text = response.payload.decode("utf-8", errors="replace")[:_MAX_DETAIL_CHARS]
                detail = f"the device answered {code}" + (f": {text}" if text else "")
                outcome = [(CommandStatus.delivered, None), (CommandStatus.failed, detail)]
        await self._end(command, outcome)

    async def _end(
        self, command: QueuedCommand, outcome: list[tuple[CommandStatus, str | None]]
    ) -> None:
        try:
            await self._reporter.report_many(
                [
                    Report(
                        command.device_id, command.request_id, status, detail, command.traceparent
                    )
                    for status, detail in outcome
                ]
            )
        except KafkaError:
            self._queues.give_back([command])  # pushed again later: at least once
            raise
        self._queues.move([command.request_id], QueueState.done, time.time())

    def _ignore_answer(self, request: aiocoap.protocol.Request) -> None:
        """A NON may still be answered; wait for it in the background, then drop it."""

        async def drain() -> None:
            with contextlib.suppress(TimeoutError, aiocoap.error.Error):
                async with asyncio.timeout(self._wait_s):
                    await request.response

        task = asyncio.create_task(drain())
        self._unanswered.add(task)
        task.add_done_callback(self._unanswered.discard)
