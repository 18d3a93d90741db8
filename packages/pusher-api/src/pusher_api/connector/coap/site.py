"""The CoAP resources devices talk to, under ``/devices/{device_id}/``.

- ``GET commands`` (check-in): 2.05 with the device's due commands, oldest first, as one list
  encoded by their encoder (Content-Format says which); an empty list when none is due.
- ``POST uplink`` (a measurement): the same commands in the 2.04 answer, so a device that
  wakes to report gets its commands in the same exchange. The measurement itself is not
  forwarded anywhere by this reference connector.
- ``POST responses``: a device's result (`pusher_api.connector.device_protocol.DeviceReply`,
  JSON or CBOR): 2.04, or 4.04 for a command the connector does not know, 4.03 for another
  device's command, 4.00 for a body that breaks the contract; none of these changes anything.

Cancelled commands never go (`cancel_gate`). Handing over is recorded only after Kafka
acknowledged the ``delivered`` records; when Kafka (or the cancel topic) cannot be reached the
device gets 5.03 with Max-Age and nothing changes, so it simply checks in again. A check-in
answers the leading run of due commands that share an encoder (a device normally has one); the
others wait for its next check-in. Answers over 1 KiB go block-wise
(RFC 7959), and so may uploads: aiocoap assembles and splits them.
"""

from __future__ import annotations

import re
import time
from typing import Any

import cbor2
import orjson
import structlog
from aiocoap import Code, Message, resource
from aiokafka.errors import KafkaError

from pusher_api.connector.coap.cancel_gate import CancelGate
from pusher_api.connector.coap.locks import DeviceLocks
from pusher_api.connector.coap.queue import DeviceQueues, QueuedCommand, QueueState
from pusher_api.connector.coap.reporter import Report, StatusReporter
from pusher_api.connector.device_protocol import parse_reply
from pusher_api.encoders import DEFAULT_ENCODER, Encoder, encoder_for
from pusher_api.errors import InvalidReplyError
from pusher_api.messages import DEVICE_ID_PATTERN, CommandStatus

log = structlog.get_logger(__name__)

JSON_FORMAT = 50
CBOR_FORMAT = 60
_RETRY_AFTER_S = 5


def _answer(code: Code, text: str = "") -> Message:
    """An answer whose payload is CoAP's diagnostic text (UTF-8), for people reading logs."""
    return Message(code=code, payload=text.encode())


class DeviceSite(resource.Resource, resource.PathCapable):  # type: ignore[misc]
    """Everything under ``/devices``; the remaining path is ``{device_id}/{action}``."""

    def __init__(
        self, queues: DeviceQueues, reporter: StatusReporter, gate: CancelGate, locks: DeviceLocks
    ) -> None:
        super().__init__()
        self._queues = queues
        self._reporter = reporter
        self._gate = gate
        # One exchange per device at a time: two check-ins never hand over one command twice.
        self._locks = locks

    async def needs_blockwise_assembly(self, request: Message) -> bool:
        return True

    async def render(self, request: Message) -> Message:
        path = request.opt.uri_path
        if len(path) != 2:
            return _answer(Code.NOT_FOUND, "use /devices/{device_id}/commands|uplink|responses")
        device_id, action = path
        if not re.fullmatch(DEVICE_ID_PATTERN, device_id):
            return _answer(
                Code.BAD_REQUEST,
                f"{device_id!r} is not a device id: letters, digits and _ . : @ -, 1 to 128",
            )
        allowed = {"commands": Code.GET, "uplink": Code.POST, "responses": Code.POST}
        if action not in allowed:
            return _answer(Code.NOT_FOUND, f"no resource {action!r}: commands, uplink, responses")
        if request.code != allowed[action]:
            return _answer(Code.METHOD_NOT_ALLOWED, f"{action} takes {allowed[action]}")
        async with self._locks.hold(device_id):
            try:
                if action == "responses":
                    return await self._record_result(device_id, request)
                return await self._hand_over(device_id, request, action)
            except KafkaError as error:
                log.warning("connector.kafka_unavailable", device_id=device_id, error=str(error))
                answer = _answer(
                    Code.SERVICE_UNAVAILABLE,
                    "the command service cannot be reached; nothing changed, try again",
                )
                answer.opt.max_age = _RETRY_AFTER_S
                return answer

    async def _hand_over(self, device_id: str, request: Message, action: str) -> Message:
        code = Code.CONTENT if action == "commands" else Code.CHANGED
        if action == "uplink":
            log.info("connector.uplink", device_id=device_id, bytes=len(request.payload))
        now = time.time()
        due = await self._gate.pass_through(self._queues.due(device_id, now))
        # A device's commands normally share one encoder; a change of encoder waits for the
        # next check-in, so the list the device gets is in one format.
        run = next((i for i, c in enumerate(due) if c.encoder != due[0].encoder), len(due))
        # Claimed with no await since the gate: a cancellation read from here on is too late.
        batch = self._queues.claim(due[:run], now)
        encoder = _empty_answer_encoder(request) if not batch else encoder_for(batch[0].encoder)
        try:
            payload = encoder.encode([orjson.loads(c.message) for c in batch])
        except Exception as error:  # a vendor encoder that accepted the command at admission
            if not batch:
                raise
            await self._fail(batch, f"encoder {batch[0].encoder!r} failed at check-in: {error}")
            return await self._hand_over(device_id, request, action)
        try:
            await self._reporter.report_many(
                [
                    Report(c.device_id, c.request_id, CommandStatus.delivered, None, c.traceparent)
                    for c in batch
                ]
            )
        except KafkaError:
            self._queues.give_back(batch)  # not handed over: the device checks in again
            raise
        log.info("connector.check_in", device_id=device_id, commands=len(batch))
        return Message(code=code, payload=payload, content_format=encoder.content_format)

    async def _fail(self, commands: list[QueuedCommand], detail: str) -> None:
        await self._reporter.report_many(
            [
                Report(c.device_id, c.request_id, CommandStatus.failed, detail, c.traceparent)
                for c in commands
            ]
        )
        self._queues.move((c.request_id for c in commands), QueueState.done, time.time())

    async def _record_result(self, device_id: str, request: Message) -> Message:
        try:
            reply = parse_reply(_as_json(request.payload, request.opt.content_format))
        except InvalidReplyError as error:
            return _answer(Code.BAD_REQUEST, str(error))
        command = self._queues.get(reply.request_id)
        if command is None:
            return _answer(Code.NOT_FOUND, f"no command {reply.request_id!r} is known here")
        if command.device_id != device_id:
            log.warning(
                "connector.result_refused",
                request_id=reply.request_id,
                device_id=device_id,
                reason="another device's command",
            )
            return _answer(Code.FORBIDDEN, f"command {reply.request_id!r} is not {device_id}'s")
        await self._reporter.report(
            Report(
                device_id,
                reply.request_id,
                CommandStatus(reply.status),
                reply.detail,
                command.traceparent,
            )
        )
        self._queues.move([reply.request_id], QueueState.done, time.time())
        return Message(code=Code.CHANGED)


def _empty_answer_encoder(request: Message) -> Encoder:
    """No command is due: answer in CBOR when the device asked for it, JSON otherwise."""
    return encoder_for("cbor" if request.opt.accept == CBOR_FORMAT else DEFAULT_ENCODER)


def _as_json(payload: bytes, content_format: Any) -> bytes:
    """A result body as JSON: CBOR results are read into the same contract."""
    if content_format != CBOR_FORMAT:
        return payload
    try:
        return orjson.dumps(cbor2.loads(payload))
    except (cbor2.CBORDecodeError, TypeError) as error:
        raise InvalidReplyError(f"reply is not CBOR ({error})") from error
