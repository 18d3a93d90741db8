"""Status records from the CoAP connector: each call returns once Kafka has acknowledged them,
so a device is answered (and an offset committed) only for what the service will learn."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, NamedTuple

import structlog
from aiokafka import AIOKafkaProducer

from pusher_api.messages import CommandStatus, StatusReport

log = structlog.get_logger(__name__)


class Report(NamedTuple):
    """One status record to write; ``traceparent`` is the command's, carried back."""

    device_id: str
    request_id: str
    status: CommandStatus
    detail: str | None = None
    traceparent: str | None = None


class StatusReporter:
    """Writes `StatusReport` records to the status topic."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def report(self, *reports: Report) -> None:
        """Send all, then wait for every acknowledgement (raises KafkaError when one fails)."""
        await self.report_many(reports)

    async def report_many(self, reports: Sequence[Report]) -> None:
        pending: list[asyncio.Future[Any]] = []
        for report in reports:
            record = StatusReport(
                request_id=report.request_id,
                device_id=report.device_id,
                status=report.status,
                detail=report.detail,
                traceparent=report.traceparent,
            )
            pending.append(
                await self._producer.send(
                    self._topic,
                    value=record.kafka_value(),
                    key=record.kafka_key(),
                    headers=record.kafka_headers(),
                )
            )
        await asyncio.gather(*pending)
        for report in reports:
            log.info(
                f"connector.command_{report.status.value}",
                request_id=report.request_id,
                device_id=report.device_id,
                **({"detail": report.detail} if report.detail else {}),
            )
