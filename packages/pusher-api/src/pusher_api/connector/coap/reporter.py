"""Status records from the CoAP connector: each call returns once Kafka has acknowledged them,
so a device is answered (and an offset committed) only for what the service will learn."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer

from pusher_api.messages import CommandStatus, StatusReport

log = structlog.get_logger(__name__)


class StatusReporter:
    """Writes `StatusReport` records to the status topic."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def report(
        self, device_id: str, request_id: str, status: CommandStatus, detail: str | None = None
    ) -> None:
        await self.report_many([(device_id, request_id, status, detail)])

    async def report_many(
        self, reports: Sequence[tuple[str, str, CommandStatus, str | None]]
    ) -> None:
        """Send all, then wait for every acknowledgement (raises KafkaError when one fails)."""
        pending: list[asyncio.Future[Any]] = []
        for device_id, request_id, status, detail in reports:
            record = StatusReport(
                request_id=request_id, device_id=device_id, status=status, detail=detail
            )
            pending.append(
                await self._producer.send(
                    self._topic, value=record.kafka_value(), key=record.kafka_key()
                )
            )
        await asyncio.gather(*pending)
        for device_id, request_id, status, detail in reports:
            log.info(
                f"connector.command_{status.value}",
                request_id=request_id,
                device_id=device_id,
                **({"detail": detail} if detail else {}),
            )
