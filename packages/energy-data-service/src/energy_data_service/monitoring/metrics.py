"""Prometheus metrics of the service: collection, staleness, alerts, quality and the HTTP API.

In the app's own registry (``service_common.AppMetrics``), one per container, so two services in
one process (tests) never clash. Counters count runs this process recorded; gauges are set by
each monitoring evaluation; ``scheduler_leader`` is set at scrape time from the leader election.
"""

from __future__ import annotations

from service_common import AppMetrics

SERIES = ["area", "data_type"]


class ServiceMetrics(AppMetrics):
    """The instruments every part of the service records to."""

    def __init__(self) -> None:
        super().__init__()
        self.collection_runs = self.counter(
            "energy_data_collection_runs_total",
            "Collection runs recorded, by outcome",
            [*SERIES, "run_kind", "outcome"],
        )
        self.collection_points = self.counter(
            "energy_data_collection_points_total", "Points stored by collection runs", SERIES
        )
        self.collection_failures = self.counter(
            "energy_data_collection_failures_total",
            "Failed collection runs by error class",
            [*SERIES, "error_class"],
        )
        self.platform_response = self.histogram(
            "energy_data_platform_response_seconds",
            "Time the platform took to answer one run's requests",
            ["data_type"],
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )
        self.series_age = self.gauge(
            "energy_data_series_age_seconds",
            "Now minus the end of the newest stored interval (negative: data reaches into the "
            "future)",
            SERIES,
        )
        self.series_overdue = self.gauge(
            "energy_data_series_overdue_seconds",
            "How far the newest stored interval is behind the publication schedule (> 0 is stale)",
            SERIES,
        )
        self.alerts_active = self.gauge("energy_data_alerts_active", "Unresolved alerts", ["rule"])
        self.alert_deliveries = self.counter(
            "energy_data_alert_deliveries_total",
            "Alert notices by channel and outcome",
            ["channel", "outcome"],
        )
        self.quality_score = self.gauge(
            "energy_data_quality_score",
            "Latest daily quality score (0–100)",
            [*SERIES, "resolution"],
        )
        self.http_requests = self.counter(
            "energy_data_http_requests_total",
            "HTTP requests answered",
            ["method", "route", "status"],
        )
        self.http_latency = self.histogram(
            "energy_data_http_request_seconds",
            "Time to answer an HTTP request (until the response starts)",
            ["method", "route"],
        )
        self.scheduler_leader = self.gauge(
            "energy_data_scheduler_leader", "1 while this replica runs the collection schedule"
        )
