"""Prometheus metrics of the service: collection, staleness, alerts, quality and the HTTP API.

In the app's own registry (``service_common.AppMetrics``), one per container, so two services in
one process (tests) never clash. Counters count runs this process recorded; gauges are set by
each monitoring evaluation; ``scheduler_leader`` is set at scrape time from the leader election.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from service_common import AppMetrics


class ServiceMetrics(AppMetrics):
    """The instruments every part of the service records to."""

    def __init__(self) -> None:
        super().__init__()
        registry = self.registry
        self.collection_runs = Counter(
            "energy_data_collection_runs_total",
            "Collection runs recorded, by outcome",
            ["area", "data_type", "run_kind", "outcome"],
            registry=registry,
        )
        self.collection_points = Counter(
            "energy_data_collection_points_total",
            "Points stored by collection runs",
            ["area", "data_type"],
            registry=registry,
        )
        self.collection_failures = Counter(
            "energy_data_collection_failures_total",
            "Failed collection runs by error class",
            ["area", "data_type", "error_class"],
            registry=registry,
        )
        self.platform_response = Histogram(
            "energy_data_platform_response_seconds",
            "Time the platform took to answer one run's requests",
            ["data_type"],
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=registry,
        )
        self.series_age = Gauge(
            "energy_data_series_age_seconds",
            "Now minus the end of the newest stored interval (negative: data reaches into the "
            "future)",
            ["area", "data_type"],
            registry=registry,
        )
        self.series_overdue = Gauge(
            "energy_data_series_overdue_seconds",
            "How far the newest stored interval is behind the publication schedule (> 0 is stale)",
            ["area", "data_type"],
            registry=registry,
        )
        self.alerts_active = Gauge(
            "energy_data_alerts_active", "Unresolved alerts", ["rule"], registry=registry
        )
        self.alert_deliveries = Counter(
            "energy_data_alert_deliveries_total",
            "Alert notices by channel and outcome",
            ["channel", "outcome"],
            registry=registry,
        )
        self.quality_score = Gauge(
            "energy_data_quality_score",
            "Latest daily quality score (0–100)",
            ["area", "data_type", "resolution"],
            registry=registry,
        )
        self.http_requests = Counter(
            "energy_data_http_requests_total",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self.http_latency = Histogram(
            "energy_data_http_request_seconds",
            "Time to answer an HTTP request (until the response starts)",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.scheduler_leader = Gauge(
            "energy_data_scheduler_leader",
            "1 while this replica runs the collection schedule",
            registry=registry,
        )
