"""Cancellations in the CoAP connector, by the rules every connector follows
(`pusher_api.connector.cancellations`).

The connector holds commands until their device wakes, so a cancellation finds it in one of two
places. A command still waiting is withdrawn when the cancellation record is read (`on_cancel`)
and reported ``cancelled``. Before commands go to a device, the gate reads the cancel topic to
its end of that moment (`pass_through`) and withdraws any cancelled one there too: a cancel the
service saw acknowledged before a check-in began never reaches the device. Handing over claims
commands first (`DeviceQueues.claim`, synchronously), so a cancellation read while a check-in is
under way finds them claimed and leaves them: the connector reports ``delivered`` and the
service answers the cancel 409. A withdrawal whose ``cancelled`` record Kafka did not take goes
back to the queue; the next check-in's gate withdraws it again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import structlog
from aiokafka.errors import KafkaError

from pusher_api.connector.cancellations import CancellationView
from pusher_api.connector.coap.queue import DeviceQueues, QueuedCommand
from pusher_api.connector.coap.reporter import Report, StatusReporter
from pusher_api.messages import CommandCancellation, CommandStatus

log = structlog.get_logger(__name__)

CANCELLED_DETAIL = "cancelled before it was handed to the device"


class CancelGate:
    """Withdraws cancelled commands from the device queues and reports them."""

    def __init__(self, queues: DeviceQueues, reporter: StatusReporter) -> None:
        self._queues = queues
        self._reporter = reporter
        self._view: CancellationView | None = None

    def watch(self, view: CancellationView) -> None:
        """The view whose ``on_cancel`` is `on_cancel` (it is built with this gate's callback)."""
        self._view = view

    def is_cancelled(self, request_id: str) -> bool:
        return self._view is not None and self._view.is_cancelled(request_id)

    async def on_cancel(self, cancellation: CommandCancellation) -> None:
        """A cancellation record was read: withdraw the command if it still waits."""
        command = self._queues.withdraw(
            cancellation.request_id, cancellation.device_id, time.time()
        )
        if command is not None:
            await self._report_withdrawn([command])

    async def pass_through(self, commands: Sequence[QueuedCommand]) -> list[QueuedCommand]:
        """Those of ``commands`` that are not cancelled, once every cancellation on the topic at
        this moment is known; cancelled ones are withdrawn. Raises KafkaError when the cancel
        topic cannot be read: then nothing may be handed over."""
        if not commands:
            return []  # nothing would be handed over: no cancellation to wait for
        if self._view is None:
            raise KafkaError("the cancellation view is not started")
        await self._view.catch_up()
        now = time.time()
        cancelled = [c for c in commands if self._view.is_cancelled(c.request_id)]
        withdrawn = [
            found
            for c in cancelled
            if (found := self._queues.withdraw(c.request_id, c.device_id, now)) is not None
        ]
        if withdrawn:
            await self._report_withdrawn(withdrawn)
        gone = {c.request_id for c in cancelled}
        return [c for c in commands if c.request_id not in gone]

    async def _report_withdrawn(self, commands: list[QueuedCommand]) -> None:
        try:
            await self._reporter.report_many(
                [
                    Report(
                        c.device_id,
                        c.request_id,
                        CommandStatus.cancelled,
                        CANCELLED_DETAIL,
                        c.traceparent,
                    )
                    for c in commands
                ]
            )
        except KafkaError as error:
            self._queues.give_back(commands)
            log.warning(
                "connector.kafka_unavailable", error=str(error), retry="at the next check-in"
            )
