"""Prometheus metrics of collection, staleness, alerts and quality (default registry, so the
API's ``/metrics`` exposes them next to the HTTP metrics).

Counters count runs this process recorded; gauges are set by each monitoring evaluation.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

COLLECTION_RUNS = Counter(
    "energy_data_collection_runs_total",
    "Collection runs recorded, by outcome",
    ["area", "data_type", "run_kind", "outcome"],
)
COLLECTION_POINTS = Counter(
    "energy_data_collection_points_total", "Points stored by collection runs", ["area", "data_type"]
)
COLLECTION_FAILURES = Counter(
    "energy_data_collection_failures_total",
    "Failed collection runs by error class",
    ["area", "data_type", "error_class"],
)
PLATFORM_RESPONSE = Histogram(
    "energy_data_platform_response_seconds",
    "Time the platform took to answer one run's requests",
    ["data_type"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
SERIES_AGE = Gauge(
    "energy_data_series_age_seconds",
    "Now minus the end of the newest stored interval (negative: data reaches into the future)",
    ["area", "data_type"],
)
SERIES_OVERDUE = Gauge(
    "energy_data_series_overdue_seconds",
    "How far the newest stored interval is behind the publication schedule (> 0 is stale)",
    ["area", "data_type"],
)
ALERTS_ACTIVE = Gauge("energy_data_alerts_active", "Unresolved alerts", ["rule"])
ALERT_DELIVERIES = Counter(
    "energy_data_alert_deliveries_total",
    "Alert notices by channel and outcome",
    ["channel", "outcome"],
)
QUALITY_SCORE = Gauge(
    "energy_data_quality_score",
    "Latest daily quality score (0–100)",
    ["area", "data_type", "resolution"],
)
