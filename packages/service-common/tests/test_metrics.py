"""A registry per app: two apps in one process count apart and never clash on a name."""

from __future__ import annotations

from energy_data_service.monitoring.metrics import ServiceMetrics
from prometheus_client import Counter
from pusher_api.metrics import Metrics
from service_common import AppMetrics


class _Requests(AppMetrics):
    def __init__(self) -> None:
        super().__init__()
        self.requests = Counter("demo_requests", "Requests", ["route"], registry=self.registry)
        self.restarts = Counter("demo_restarts", "Restarts", registry=self.registry)


def test_two_instances_count_apart() -> None:
    first, second = _Requests(), _Requests()
    first.requests.labels("/a").inc(3)
    second.requests.labels("/b").inc()
    first.restarts.inc()
    assert first.counters() == {"demo_requests": {"/a": 3.0}, "demo_restarts": {"total": 1.0}}
    assert second.counters() == {"demo_requests": {"/b": 1.0}, "demo_restarts": {"total": 0.0}}


def test_the_exposition_is_prometheus_text_of_this_app_only() -> None:
    first, second = _Requests(), _Requests()
    first.requests.labels("/a").inc()
    answer = second.exposition()
    assert answer.media_type is not None
    assert answer.media_type.startswith("text/plain; version=")
    assert b'route="/a"' not in bytes(answer.body)
    assert b'demo_requests_total{route="/a"} 1.0' in bytes(first.exposition().body)


def test_both_services_metrics_can_be_built_twice_in_one_process() -> None:
    energy = [ServiceMetrics(), ServiceMetrics()]
    pusher = [Metrics(), Metrics()]
    energy[0].collection_runs.labels("DE_LU", "actual_load", "realtime", "success").inc()
    pusher[0].published.inc()
    assert energy[0].counters()["energy_data_collection_runs"] == {"DE_LU": 1.0}
    assert "energy_data_collection_runs" not in energy[1].counters()
    assert pusher[0].counters()["pusher_commands"]["published"] == 1.0
    assert pusher[1].counters()["pusher_commands"]["published"] == 0.0
