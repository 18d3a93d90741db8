"""Benchmark: the pusher API against its baselines, same machine, same run, medians of REPEATS.

1. Single commands: 50 concurrent keep-alive clients POST /api/v1/commands for DURATION_S,
   against (a) the real service (`pusher-api serve`: store, Kafka acks=all, idempotence) and
   (b) a no-op endpoint that does what the service's route does with JSON and nothing else:
   reads the body with orjson, validates it with one pydantic-core call, writes an answer of
   the same shape with orjson; served by uvicorn the same way, in a process with the same
   interpreter tuning (`pusher_api.cli.serve.tune_interpreter`). Goal: service ≥ 50 % of the
   no-op's throughput. p99 latency for both.
2. Batches of 1,000: POST /api/v1/commands/batch (4 concurrent senders) against floors, each
   doing only part of the service's work: (a) a no-op FastAPI batch endpoint that validates the
   same body (every command) and answers one result per command, served the same way, once as
   FastAPI does it (typed body, response model) and once as the service does it (orjson, one
   pydantic-core call for all commands, answer written by orjson); (b) a direct aiokafka
   producer sending the same records (acks=all, idempotent) to the same broker, once with one
   `send` per record then await all, once with one `send_batch` per partition (what the
   service does for a batch). The service does (a) and (b) plus the status store; `floors
   combined` is 1 / (1/a + 1/b) with the faster of each, the rate if the two were the only
   costs and ran one after the other on one core, as they do in the service's event loop.
   Goal: ≥ 50k commands/s.

Commands are counted from the answers (a single's 202, a batch's `successful`), and at the end
the records on the service's command topic are counted (end minus beginning offsets): the
output says how many are actually on it against how many commands were answered as published
(they must be equal).

Both servers are separate uvicorn processes with the same defaults, both are warmed up
(WARM_UP_S) before the measured runs, and the cases take turns within each of the REPEATS rounds
so a change in the machine's load hits them alike; the table shows medians.

The broker is the librdkafka mock cluster in its own process (`pusher_api.dev_broker`). The load
generator is a minimal HTTP/1.1 keep-alive client on raw asyncio streams, so the client's own
cost stays small next to the server's.

    uv run python bench/pusher.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import orjson
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from fastapi import FastAPI, Request, Response
from pusher_api.cli.serve import tune_interpreter
from pusher_api.dev_broker import DevBroker
from pusher_api.messages import CommandRequest, DeviceCommand, new_request_ids
from pusher_api.schemas import BatchRequest
from pusher_api.testing.server import free_port
from pydantic import TypeAdapter

REPEATS = 3
DURATION_S = 3.0
WARM_UP_S = 1.0
CLIENTS = 50
BATCH = 1000
BATCH_SENDERS = 4
PATH = "/api/v1/commands"
COMMANDS = TypeAdapter(list[CommandRequest])


def command(i: int) -> dict[str, object]:
    return {
        "device_id": f"sensor-{i % 500:04d}",
        "command_type": "set_config",
        "payload": {"interval_s": 60, "threshold": 21.5, "mode": "eco"},
        "protocol": "mqtt",
        "qos": 1,
    }


# --- the no-op baseline server ----------------------------------------------------------------


def serve_noop(port: int) -> None:
    """A FastAPI endpoint that validates the same body as the service and does nothing else."""

    app = FastAPI()

    @app.post(PATH, status_code=202)
    async def accept(request: Request) -> Response:
        command = CommandRequest.model_validate(orjson.loads(await request.body()))
        [request_id] = new_request_ids(1)
        answer = {
            "success": True,
            "request_id": request_id,
            "message": "no-op",
            "timestamp": datetime.now(UTC),
            "kafka_partition": None,
            "kafka_offset": None,
            "status": "sent" if command else "",
        }
        body = orjson.dumps(answer, option=orjson.OPT_UTC_Z)
        return Response(body, status_code=202, media_type="application/json")

    @app.post(PATH + "/batch", status_code=202)
    async def accept_batch(body: BatchRequest) -> dict[str, object]:
        now = datetime.now(UTC).isoformat()
        results = [
            {
                "index": index,
                "success": True,
                "request_id": str(uuid.uuid4()),
                "message": "no-op",
                "timestamp": now,
                "kafka_partition": None,
                "kafka_offset": None,
                "errors": None,
            }
            for index in range(len(body.commands))
        ]
        return {
            "total_commands": len(results),
            "successful": len(results),
            "failed": 0,
            "results": results,
        }

    @app.post(PATH + "/batch-lean", status_code=202)
    async def accept_batch_lean(request: Request) -> Response:
        commands = COMMANDS.validate_python(orjson.loads(await request.body())["commands"])
        now = datetime.now(UTC)
        results = [
            {
                "index": index,
                "success": True,
                "request_id": request_id,
                "message": "no-op",
                "timestamp": now,
                "kafka_partition": None,
                "kafka_offset": None,
                "errors": None,
            }
            for index, request_id in enumerate(new_request_ids(len(commands)))
        ]
        answer = {"total_commands": len(results), "successful": len(results), "failed": 0}
        body = orjson.dumps({**answer, "results": results}, option=orjson.OPT_UTC_Z)
        return Response(body, status_code=202, media_type="application/json")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    tune_interpreter()  # as `pusher-api serve` does
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


# --- processes ---------------------------------------------------------------------------------


@contextmanager
def process(command: list[str], env: dict[str, str], port: int) -> Iterator[None]:
    proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                asyncio.run(request_once(port, "GET", "/health", b""))
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server {command} did not start") from None
                time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=15)


# --- a minimal keep-alive HTTP/1.1 load generator ---------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


def request_bytes(method: str, path: str, body: bytes) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def request_once(port: int, method: str, path: str, body: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request_bytes(method, path, body))
    status, _ = await read_response(reader)
    writer.close()
    return status


async def load(
    port: int,
    path: str,
    bodies: list[bytes],
    clients: int,
    batch: bool,
    duration_s: float = DURATION_S,
) -> dict[str, float]:
    """`clients` connections send bodies back to back for `duration_s`; returns the rate of
    commands the answers say were published (a single's 202, a batch's `successful`), their
    count and the p99 latency."""
    latencies: list[float] = []
    failures: dict[int, int] = {}
    accepted = 0
    stop_at = time.perf_counter() + duration_s

    async def client(offset: int) -> None:
        nonlocal accepted
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = offset
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request_bytes("POST", path, bodies[i % len(bodies)]))
            status, answer = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status not in (200, 202):
                failures[status] = failures.get(status, 0) + 1
            elif batch:
                accepted += orjson.loads(answer)["successful"]
            else:
                accepted += 1
            i += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"requests failed, by HTTP status: {failures}")
    latencies.sort()
    return {
        "rate": accepted / elapsed,
        "accepted": accepted,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


async def direct_producer(bootstrap: str, batched: bool) -> dict[str, float]:
    """The floor: aiokafka itself sending BATCH-record rounds of the same records, either one
    `send` per record (then await all) or one `send_batch` per partition (keys mapped to
    partitions by aiokafka's default murmur2 partitioner, as `send` does)."""

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        now = datetime.now(UTC)
        records = [
            DeviceCommand.model_validate(
                {**command(i), "request_id": str(uuid.uuid4()), "timestamp": now}
            )
            for i in range(BATCH)
        ]
        topic = "bench_direct"
        partitions = sorted(await producer.partitions_for(topic))
        partitioner = DefaultPartitioner()
        by_partition: dict[int, list[DeviceCommand]] = {}
        for r in records:
            by_partition.setdefault(partitioner(r.kafka_key(), partitions, partitions), []).append(
                r
            )
        locks = {partition: asyncio.Lock() for partition in partitions}
        sent = 0
        stop_at = time.perf_counter() + DURATION_S
        started = time.perf_counter()

        async def one_round() -> list[asyncio.Future[object]]:
            if not batched:
                return [
                    await producer.send(
                        topic, r.kafka_value(), key=r.kafka_key(), headers=r.kafka_headers()
                    )
                    for r in records
                ]
            futures = []
            for partition, members in by_partition.items():
                batch = producer.create_batch()
                for r in members:
                    batch.append(
                        timestamp=None,
                        key=r.kafka_key(),
                        value=r.kafka_value(),
                        headers=r.kafka_headers(),
                    )
                async with locks[partition]:  # one waiter per partition (see kafka_producer)
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
            return futures

        async def sender() -> None:
            nonlocal sent
            while time.perf_counter() < stop_at:
                await asyncio.gather(*await one_round())
                sent += len(records)

        await asyncio.gather(*(sender() for _ in range(BATCH_SENDERS)))
        return {"rate": sent / (time.perf_counter() - started), "p99_ms": float("nan")}
    finally:
        await producer.stop()


async def records_on_topic(bootstrap: str, topic: str) -> tuple[int, int]:
    """How many records were written to the topic (its end offsets, summed over partitions) and
    how many it still holds (end minus beginning offsets: the librdkafka mock keeps only its
    last few log segments of a partition).

    Exact (the service's producer is idempotent, so a retry never writes a record twice) and
    instant; reading 100,000s of records back from the librdkafka mock takes minutes.
    """
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await producer.start()
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await producer.partitions_for(topic)]
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        return sum(ends.values()), sum(ends[tp] - starts[tp] for tp in partitions)
    finally:
        await consumer.stop()
        await producer.stop()


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: on a shared machine they say how much of it the
    run had."""
    return " ".join(f"{average:.2f}" for average in os.getloadavg())


def main() -> None:
    load_before = load_average()
    singles = [orjson.dumps(command(i)) for i in range(1000)]
    batch = orjson.dumps({"commands": [command(i) for i in range(BATCH)]})
    results: dict[str, list[dict[str, float]]] = {
        "no-op": [],
        "service": [],
        "service batch": [],
        "no-op batch": [],
        "no-op batch, lean": [],
        "aiokafka": [],
        "aiokafka send_batch": [],
    }
    topic = f"bench_commands_{uuid.uuid4().hex[:8]}"
    with DevBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        noop_port, service_port = free_port(), free_port()
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "KAFKA_COMMAND_TOPIC": topic,
            "DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            "API_PORT": str(service_port),
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_MINUTE": "0",
            "API_KEYS": "",
        }
        noop = [sys.executable, __file__, "--serve-noop", str(noop_port)]
        service = [str(Path(sys.executable).parent / "pusher-api"), "serve"]
        with process(noop, {}, noop_port), process(service, env, service_port):
            warm_up = []
            for port in (noop_port, service_port):  # warm-up, both sides alike
                warm_up.append(asyncio.run(load(port, PATH, singles, CLIENTS, False, WARM_UP_S)))
            batch_routes = (
                (noop_port, "/batch"),
                (noop_port, "/batch-lean"),
                (service_port, "/batch"),
            )
            for port, route in batch_routes:
                warm_up.append(
                    asyncio.run(load(port, PATH + route, [batch], BATCH_SENDERS, True, WARM_UP_S))
                )
            for _ in range(REPEATS):
                results["no-op"].append(asyncio.run(load(noop_port, PATH, singles, CLIENTS, False)))
                results["service"].append(
                    asyncio.run(load(service_port, PATH, singles, CLIENTS, False))
                )
                results["service batch"].append(
                    asyncio.run(load(service_port, PATH + "/batch", [batch], BATCH_SENDERS, True))
                )
                results["no-op batch"].append(
                    asyncio.run(load(noop_port, PATH + "/batch", [batch], BATCH_SENDERS, True))
                )
                results["no-op batch, lean"].append(
                    asyncio.run(load(noop_port, PATH + "/batch-lean", [batch], BATCH_SENDERS, True))
                )
                results["aiokafka"].append(
                    asyncio.run(direct_producer(broker.bootstrap_servers, batched=False))
                )
                results["aiokafka send_batch"].append(
                    asyncio.run(direct_producer(broker.bootstrap_servers, batched=True))
                )
            # what the service answered as published, against what is on its topic
            answered = warm_up[1]["accepted"] + warm_up[4]["accepted"]
            answered += sum(r["accepted"] for r in results["service"] + results["service batch"])
            expected = int(answered)
            on_topic, retained = asyncio.run(records_on_topic(broker.bootstrap_servers, topic))

    noop_rate, service_rate = median(results["no-op"], "rate"), median(results["service"], "rate")
    batch_rate, noop_batch, noop_lean, floor, floor_batched = (
        median(results["service batch"], "rate"),
        median(results["no-op batch"], "rate"),
        median(results["no-op batch, lean"], "rate"),
        median(results["aiokafka"], "rate"),
        median(results["aiokafka send_batch"], "rate"),
    )
    combined = 1 / (1 / max(noop_batch, noop_lean) + 1 / max(floor, floor_batched))
    print(
        f"\nPusher API, {os.cpu_count()} CPUs, medians of {REPEATS} runs of {DURATION_S:.0f} s, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load_before} before, "
        f"{load_average()} after\n"
    )
    print("| case | commands/s | p99 latency | vs baseline | goal |")
    print("|---|---:|---:|---:|---|")
    rows = [
        (f"no-op FastAPI endpoint, {CLIENTS} clients", noop_rate, "no-op", "baseline", ""),
        (
            f"POST /api/v1/commands, {CLIENTS} clients",
            service_rate,
            "service",
            f"{service_rate / noop_rate:.0%} of no-op",
            "≥ 50 % of no-op",
        ),
        (
            f"no-op FastAPI batch endpoint (validate, answer), {BATCH_SENDERS} senders",
            noop_batch,
            "no-op batch",
            "floor (HTTP + validation)",
            "",
        ),
        (
            f"same, read and answered as the service does (orjson), {BATCH_SENDERS} senders",
            noop_lean,
            "no-op batch, lean",
            "floor (HTTP + validation)",
            "",
        ),
        (
            f"direct aiokafka producer, send per record, {BATCH_SENDERS} × {BATCH} in flight",
            floor,
            "aiokafka",
            "floor (send)",
            "",
        ),
        (
            f"direct aiokafka producer, send_batch per partition, {BATCH_SENDERS} × {BATCH}",
            floor_batched,
            "aiokafka send_batch",
            "floor (send_batch)",
            "",
        ),
        (
            f"POST /api/v1/commands/batch of {BATCH}, {BATCH_SENDERS} senders",
            batch_rate,
            "service batch",
            f"{batch_rate / combined:.0%} of the floors combined ({combined:,.0f}/s)",
            "≥ 50,000/s",
        ),
    ]
    for name, rate, case, versus, goal in rows:
        p99 = median(results[case], "p99_ms")
        latency = "–" if p99 != p99 else f"{p99:.1f} ms"
        print(f"| {name} | {rate:,.0f} | {latency} | {versus} | {goal} |")
    print(
        f"\nWritten to the service's command topic: {on_topic:,} records ({retained:,} still "
        f"held by the broker); the service answered {expected:,} commands as published "
        f"({'equal' if on_topic == expected else 'DIFFERENT'})."
    )
    single_goal = service_rate / noop_rate >= 0.5
    print(
        f"Goals: single commands at {service_rate / noop_rate:.0%} of the lean no-op "
        f"({'met' if single_goal else 'NOT met'}, goal ≥ 50 %); batches at {batch_rate:,.0f}/s "
        + (
            "(met, goal ≥ 50,000/s)."
            if batch_rate >= 50_000
            else f"(NOT met: {50_000 / batch_rate:.1f}× short of 50,000/s; the floors "
            f"combined allow {combined:,.0f}/s on this machine)."
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-noop":
        serve_noop(int(sys.argv[2]))
    else:
        main()
