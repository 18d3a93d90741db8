"""The service's counters, exposed as Prometheus text (`/metrics`) and as JSON.

In the app's own registry (`service_common.AppMetrics`), so tests and benchmarks can run several
apps in one process.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from service_common import AppMetrics


class Metrics(AppMetrics):
    """The instruments every part of the service records to."""

    def __init__(self) -> None:
        super().__init__()
        self.commands = Counter(
            "pusher_commands",
            "Commands by outcome: published, rejected (invalid), unavailable (broker), duplicate",
            ["outcome"],
            registry=self.registry,
        )
        # The outcomes' children, bound once: `labels()` is a lookup under a lock per call.
        self.published = self.commands.labels("published")
        self.rejected = self.commands.labels("rejected")
        self.unavailable = self.commands.labels("unavailable")
        self.duplicate = self.commands.labels("duplicate")
        self.publish_seconds = Histogram(
            "pusher_publish_seconds",
            "Time from receiving a command (or batch) to the broker's acknowledgement",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.status_reports = Counter(
            "pusher_status_reports",
            "Connector status reports by status, and `ignored` ones (malformed or not forward)",
            ["status"],
            registry=self.registry,
        )
        self.expired = Counter(
            "pusher_commands_expired",
            "Commands marked expired by the sweeper",
            registry=self.registry,
        )
