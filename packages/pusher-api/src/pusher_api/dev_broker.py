"""A local Kafka-protocol broker for trying the service and for tests, with no Kafka installed.

librdkafka (inside the `confluent-kafka` wheel) contains a mock cluster that speaks the Kafka
protocol on loopback: any client, aiokafka included, can produce to and consume from it. It lives
as long as the librdkafka client that created it, so it runs here in its own process: tests kill
that process to cause a real broker outage, and `pusher-api serve --dev-broker` starts one next to
the service.

Run it directly with `python -m pusher_api.dev_broker [--port-file FILE]`: it prints
`bootstrap.servers=127.0.0.1:N`, writes `127.0.0.1:N` to the port file when given, and blocks
until SIGTERM/SIGINT (or until its parent process goes away). In Python use `DevBroker`.

The mock cluster keeps its topics in memory and gets a new port each time; topics are created on
first use with 4 partitions (its CreateTopics is not implemented, metadata requests create them).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from pusher_api.errors import DevBrokerError, MissingExtraError
from pusher_api.extras import require_extra

DEFAULT_TOPICS = ("device_commands", "device_command_status", "device_command_cancellations")


def start_mock_cluster(topics: tuple[str, ...] = DEFAULT_TOPICS) -> tuple[object, str]:
    """Start a one-broker mock cluster in this process and return (owner, bootstrap servers).

    The cluster stops when `owner` (the librdkafka producer that hosts it) is garbage-collected,
    so the caller keeps it alive. Topics in `topics` are created up front (by asking for their
    metadata) so consumers can subscribe before anything has been produced.
    """
    confluent_kafka = _confluent_kafka()
    owner = confluent_kafka.Producer({"test.mock.num.brokers": 1, "log_level": 3})
    metadata = owner.list_topics(timeout=10)
    broker = next(iter(metadata.brokers.values()))
    for topic in topics:
        owner.list_topics(topic=topic, timeout=10)
    return owner, f"{broker.host}:{broker.port}"


def _confluent_kafka() -> Any:
    return require_extra("confluent_kafka", extra="dev-broker", part="the dev broker")


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `python -m pusher_api.dev_broker`: start, report the address, block."""
    parser = argparse.ArgumentParser(
        prog="python -m pusher_api.dev_broker",
        description="Run librdkafka's Kafka-protocol mock cluster on loopback until stopped.",
    )
    parser.add_argument("--port-file", type=Path, help="write host:port here once ready")
    parser.add_argument(
        "--topic",
        action="append",
        dest="topics",
        help=f"topic to create up front (repeatable; default: {', '.join(DEFAULT_TOPICS)})",
    )
    args = parser.parse_args(argv)
    topics = tuple(args.topics) if args.topics else DEFAULT_TOPICS

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    parent = os.getppid()

    try:
        owner, bootstrap_servers = start_mock_cluster(topics)
    except MissingExtraError as error:
        print(f"python -m pusher_api.dev_broker: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"bootstrap.servers={bootstrap_servers}", flush=True)
    if args.port_file:
        _write_atomically(args.port_file, bootstrap_servers)
    # Exit with the parent so a crashed test run or CLI leaves no orphan broker behind.
    while not stop.wait(0.5) and os.getppid() == parent:
        pass
    del owner


class DevBroker:
    """A dev broker in a child process: `with DevBroker() as broker: broker.bootstrap_servers`.

    A separate process because the mock cluster dies only with its host process: `kill()` gives
    tests a real, abrupt broker outage (connections refused), `stop()` a clean shutdown.
    """

    def __init__(self, topics: tuple[str, ...] = DEFAULT_TOPICS, start_timeout: float = 20.0):
        self._topics = topics
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._bootstrap_servers: str | None = None

    @property
    def bootstrap_servers(self) -> str:
        """`127.0.0.1:N` of the running broker."""
        if self._bootstrap_servers is None:
            raise DevBrokerError("the dev broker is not started")
        return self._bootstrap_servers

    @property
    def pid(self) -> int | None:
        """Process id of the broker process, None before `start()`."""
        return self._process.pid if self._process else None

    def start(self) -> str:
        """Start the broker process and wait until it reports its address; returns that address.

        Raises `MissingExtraError` at once when the `dev-broker` extra is not installed."""
        _confluent_kafka()
        with tempfile.TemporaryDirectory(prefix="pusher-dev-broker-") as tmp:
            port_file = Path(tmp) / "bootstrap"
            command = [sys.executable, "-m", "pusher_api.dev_broker", "--port-file", str(port_file)]
            for topic in self._topics:
                command += ["--topic", topic]
            self._process = subprocess.Popen(  # noqa: S603  (our own module, fixed arguments)
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            deadline = time.monotonic() + self._start_timeout
            while not port_file.exists():
                if self._process.poll() is not None:
                    raise DevBrokerError(
                        f"the dev broker exited with code {self._process.returncode} before it "
                        "was ready; run `python -m pusher_api.dev_broker` to see its error"
                    )
                if time.monotonic() > deadline:
                    self.kill()
                    raise DevBrokerError(
                        f"the dev broker did not report its address in {self._start_timeout} s"
                    )
                time.sleep(0.02)
            self._bootstrap_servers = port_file.read_text().strip()
        return self._bootstrap_servers

    def kill(self) -> None:
        """Kill the broker abruptly (SIGKILL): its topics and connections vanish at once."""
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def stop(self) -> None:
        """Stop the broker cleanly (SIGTERM), killing it if it does not exit within 5 s."""
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> DevBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
