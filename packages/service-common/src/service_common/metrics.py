"""A Prometheus registry per app instance, for both services.

The process-wide default registry refuses a second metric of the same name, so two apps in one
process (tests, benchmarks) would clash, and one app's counts would show in the other's
``/metrics``. Each service's metrics class derives from ``AppMetrics`` and registers its
instruments in ``self.registry`` (``counter``, ``gauge``, ``histogram``); the app creates one
instance and hands it to the parts that record.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
"""Seconds, for a request's or a publish's time: 1 ms to 10 s."""


class AppMetrics:
    """One app's registry, its Prometheus text and its counters as JSON."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        """A counter in this app's registry."""
        return Counter(name, documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        """A gauge in this app's registry."""
        return Gauge(name, documentation, labels, registry=self.registry)

    def histogram(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> Histogram:
        """A histogram in this app's registry (``LATENCY_BUCKETS`` unless told)."""
        return Histogram(name, documentation, labels, registry=self.registry, buckets=buckets)

    def exposition(self) -> Response:
        """The ``/metrics`` answer: every metric of this app in Prometheus text format."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    def counters(self) -> dict[str, dict[str, float]]:
        """Every counter's current values by (first) label, ``total`` when it has none."""
        values: dict[str, dict[str, float]] = {}
        for family in self.registry.collect():
            if family.type != "counter":
                continue
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    label = next(iter(sample.labels.values()), "total")
                    values.setdefault(family.name, {})[label] = sample.value
        return values
