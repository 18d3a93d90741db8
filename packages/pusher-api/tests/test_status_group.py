"""Replicas on one PostgreSQL share the status topic in one consumer group: once the group has
settled every partition has exactly one owner (after a member joins and after one leaves too),
and a report published before a rebalance (while the group has no owner for its partition, or
while its old owner is handing it over) is still applied after it, from the stored position.

The replicas are apps serving in threads of their own (each its own event loop, as separate
processes would have), on the librdkafka mock broker and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from pusher_api.messages import CommandStatus, StatusReport

from .conftest import RunningApi, command, unique_topic

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]

StartApi = Callable[..., AbstractContextManager[RunningApi]]

PARTITIONS = 4
"""Partitions of a topic the mock broker creates on first use."""
SETTLE_S = 45.0
"""How long a group may take to settle: the mock broker waits the session timeout less a
second (9 s) for members to rejoin after one joined or left, and a loaded machine is slower."""


def devices_on_every_partition(per_partition: int = 3) -> list[str]:
    """Device ids whose records land on every partition of the status topic (the key is the
    device id), `per_partition` of each."""
    partitioner = DefaultPartitioner()
    partitions = list(range(PARTITIONS))
    found: dict[int, list[str]] = {p: [] for p in partitions}
    n = 0
    while any(len(ids) < per_partition for ids in found.values()):
        device = f"grouped-{n}"
        found[partitioner(device.encode(), partitions, partitions)].append(device)
        n += 1
    return [device for ids in found.values() for device in ids[:per_partition]]


async def owners(https: list[httpx.AsyncClient]) -> list[dict[int, int | None]]:
    """Each replica's status partitions (partition → next offset it applies)."""
    answers = [(await http.get("/api/v1/status")).json() for http in https]
    return [
        {int(p): offset for p, offset in answer["status_partitions"].items()} for answer in answers
    ]


async def settled(https: list[httpx.AsyncClient]) -> list[set[int]]:
    """Wait until every partition has exactly one owner among `https` and every replica has
    a share, the same in two polls half a second apart; returns each replica's partitions.
    Fails with the assignment seen last when the group has not settled in `SETTLE_S`."""
    deadline = time.monotonic() + SETTLE_S
    previous: list[set[int]] | None = None
    while True:
        seen = [set(partitions) for partitions in await owners(https)]
        owned = sorted(p for partitions in seen for p in partitions)
        if owned == list(range(PARTITIONS)) and all(seen) and seen == previous:
            return seen
        previous = seen
        assert time.monotonic() < deadline, (
            f"the status group of {len(https)} replicas did not settle in {SETTLE_S} s; "
            f"partitions by replica: {seen}"
        )
        await asyncio.sleep(0.5)


@contextlib.contextmanager
def replicas(start_api: StartApi, postgres_url: str, topic: str) -> Iterator[Callable[[], Any]]:
    """`add()` starts one more replica in the status group of `topic`, returns its
    (RunningApi, stop) pair; all are stopped at the end."""
    with contextlib.ExitStack() as stack:

        def add() -> tuple[RunningApi, Callable[[], None]]:
            started = start_api(
                database_url=postgres_url,
                kafka_status_topic=topic,
                kafka_status_group=f"group-{topic}",
            )
            replica = started.__enter__()
            stopped = False

            def stop() -> None:
                nonlocal stopped
                if not stopped:
                    stopped = True
                    started.__exit__(None, None, None)

            stack.callback(stop)
            return replica, stop

        yield add


@pytest.mark.timeout(150)
async def test_every_status_partition_has_one_owner(start_api: StartApi, postgres_url: str) -> None:
    topic = unique_topic("status")
    with replicas(start_api, postgres_url, topic) as add:
        first, _ = add()
        async with first.client() as http:
            alone = await settled([http])
            second, _ = add()
            third, stop_third = add()
            async with second.client() as http2, third.client() as http3:
                three = await settled([http, http2, http3])
                stop_third()
                two = await settled([http, http2])
    assert alone == [set(range(PARTITIONS))]
    assert sorted(len(partitions) for partitions in three) == [1, 1, 2]
    assert sorted(len(partitions) for partitions in two) == [2, 2]


async def _post_commands(http: httpx.AsyncClient, devices: list[str]) -> list[dict[str, Any]]:
    answer = await http.post(
        "/api/v1/commands/batch", json={"commands": [command(device_id=d) for d in devices]}
    )
    assert answer.status_code == 202, answer.text
    results = answer.json()["results"]
    return [{**result, "device_id": d} for result, d in zip(results, devices, strict=True)]


async def _report_all(
    bootstrap: str, topic: str, commands: list[dict[str, Any]], status: CommandStatus
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for posted in commands:
            report = StatusReport(
                request_id=posted["request_id"], device_id=posted["device_id"], status=status
            )
            await producer.send(topic, report.kafka_value(), key=report.kafka_key())
        await producer.flush()
    finally:
        await producer.stop()


async def _statuses(http: httpx.AsyncClient, commands: list[dict[str, Any]]) -> list[str]:
    return [
        (await http.get(f"/api/v1/commands/{c['request_id']}/status")).json()["status"]
        for c in commands
    ]


async def _until_in(
    http: httpx.AsyncClient, commands: list[dict[str, Any]], wanted: str, wait_s: float
) -> list[str]:
    deadline = time.monotonic() + wait_s
    while True:
        statuses = await _statuses(http, commands)
        if set(statuses) == {wanted} or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.2)


async def _without_owners(https: list[httpx.AsyncClient], wait_s: float = 20.0) -> None:
    """Wait until no replica owns a partition: the group is between generations."""
    deadline = time.monotonic() + wait_s
    while any(await owners(https)):
        assert time.monotonic() < deadline, f"no rebalance began: {await owners(https)}"
        await asyncio.sleep(0.05)


async def _end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


@pytest.mark.timeout(150)
async def test_reports_published_before_a_rebalance_are_applied_after_it(
    start_api: StartApi, postgres_url: str
) -> None:
    topic = unique_topic("status")
    devices = devices_on_every_partition()
    with replicas(start_api, postgres_url, topic) as add:
        first, _ = add()
        bootstrap = first.settings.kafka_bootstrap_servers
        async with first.client() as http:
            await settled([http])
            # delivered applied by the only replica: positions stored on every partition
            waves = [await _post_commands(http, devices) for _ in range(3)]
            everything = [c for wave in waves for c in wave]
            await _report_all(bootstrap, topic, everything, CommandStatus.delivered)
            assert await _until_in(http, everything, "delivered", 20) == ["delivered"] * len(
                everything
            )
            # a second replica joins; the first wave's reports are published while the group
            # is between generations (no partition has an owner)
            second, stop_second = add()
            async with second.client() as http2:
                await _without_owners([http, http2])
                await _report_all(bootstrap, topic, waves[0], CommandStatus.succeeded)
                joined = await settled([http, http2])
                first_wave = await _until_in(http2, waves[0], "succeeded", 20)
                # the second replica leaves; the second wave is published as it goes
                await _report_all(bootstrap, topic, waves[1], CommandStatus.succeeded)
                stop_second()
            left = await settled([http])
            second_wave = await _until_in(http, waves[1], "succeeded", 20)
            # and once settled, reports are applied as ever
            await _report_all(bootstrap, topic, waves[2], CommandStatus.succeeded)
            third_wave = await _until_in(http, waves[2], "succeeded", 20)
            stored = (await owners([http]))[0]
    topic_ends = await _end_offsets(bootstrap, topic)
    assert first_wave == ["succeeded"] * len(devices)
    assert second_wave == ["succeeded"] * len(devices)
    assert third_wave == ["succeeded"] * len(devices)
    assert sorted(len(partitions) for partitions in joined) == [2, 2]
    assert left == [set(range(PARTITIONS))]
    # every report read: the stored position of each partition is the topic's end
    assert stored == topic_ends
