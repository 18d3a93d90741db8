"""The service's counters, exposed as Prometheus text (`/metrics`) and as JSON.

In the app's own registry (`service_common.AppMetrics`), so tests and benchmarks can run several
apps in one process.
"""

from __future__ import annotations

from service_common import AppMetrics


class Metrics(AppMetrics):
    """The instruments every part of the service records to."""

    def __init__(self) -> None:
        super().__init__()
        self.commands = self.counter(
            "pusher_commands",
            "Commands by outcome: published, rejected (invalid), unavailable (broker), duplicate",
            ["outcome"],
        )
        # The outcomes' children, bound once: `labels()` is a lookup under a lock per call.
        self.published = self.commands.labels("published")
        self.rejected = self.commands.labels("rejected")
        self.unavailable = self.commands.labels("unavailable")
        self.duplicate = self.commands.labels("duplicate")
        self.publish_seconds = self.histogram(
            "pusher_publish_seconds",
            "Time from receiving a command (or batch) to the broker's acknowledgement",
        )
        self.status_reports = self.counter(
            "pusher_status_reports",
            "Connector status reports by status, and `ignored` ones (malformed or not forward)",
            ["status"],
        )
        self.expired = self.counter(
            "pusher_commands_expired", "Commands marked expired by the sweeper"
        )
