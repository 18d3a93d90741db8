"""Read what is on a topic, from the beginning, without joining a consumer group."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, ConsumerRecord


async def read_topic(
    bootstrap_servers: str, topic: str, *, expect: int | None = None, wait_s: float = 10.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """All records of `topic` up to its current end (or until `expect` records were read).

    Reads every partition from offset 0 to the end offsets taken at the start, so the answer is
    exact: nothing missed, nothing read twice. `expect` also waits for records still arriving.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.subscribe([topic])  # no group: every partition is assigned to this consumer
        deadline = time.monotonic() + wait_s
        while not consumer.assignment():
            if time.monotonic() > deadline:
                raise LookupError(f"topic {topic!r} has no partitions on {bootstrap_servers}")
            await asyncio.sleep(0.05)
        partitions = sorted(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        # End offsets are asked only when the reader has caught up with the last ones: the
        # request waits behind the consumer's long-polling fetch (up to half a second).
        ends = await consumer.end_offsets(partitions)
        while time.monotonic() < deadline:
            positions = {tp: await consumer.position(tp) for tp in partitions}
            if all(positions[tp] >= ends[tp] for tp in partitions):
                if expect is None or len(records) >= expect:
                    break
                ends = await consumer.end_offsets(partitions)  # more may be arriving
                if all(positions[tp] >= ends[tp] for tp in partitions):
                    await asyncio.sleep(0.05)
                    continue
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()
