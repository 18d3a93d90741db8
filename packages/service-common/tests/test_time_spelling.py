"""Both APIs spell a time the same way: ISO 8601, UTC as ``+00:00``.

Each service writes JSON along two paths: orjson over plain values (the energy service's
points, the pusher's command answers and Kafka records) and response models through pydantic
(jobs, command status, event streams, webhook bodies). Pydantic alone would write ``Z`` and
orjson ``+00:00``; the shared ``Timestamp`` makes both paths agree, in both services.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
from energy_data_service.api.main import create_app as create_energy_app
from energy_data_service.api.routes.jobs import Job
from energy_data_service.container import Container
from energy_data_service.settings import load_settings
from pusher_api.app import create_app as create_pusher_app
from pusher_api.messages import AcceptedCommand, CommandRequest, StatusReport
from pusher_api.schemas import CommandStatusView
from pusher_api.settings import Settings as PusherSettings
from service_common import OrjsonResponse, json_bytes

MOMENT = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
SPELLED = "2026-01-02T03:04:00+00:00"


def _times(body: bytes) -> set[str]:
    """Every string value of ``body`` that parses as an aware time."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            try:
                if datetime.fromisoformat(value).tzinfo is not None:
                    found.add(value)
            except ValueError:
                pass

    walk(orjson.loads(body))
    return found


def test_the_energy_service_spells_utc_plus_00_00() -> None:
    points = OrjsonResponse({"points": [{"timestamp": MOMENT, "value": 1.0}]}).body
    job = Job(
        id="gap_fill",
        description="",
        schedule="",
        next_run_at=MOMENT,
        running=False,
        last_execution=None,
    )
    answered = OrjsonResponse(job.model_dump(mode="json")).body
    assert _times(bytes(points)) == _times(bytes(answered)) == {SPELLED}


def test_the_pusher_spells_utc_plus_00_00_in_answers_models_and_records() -> None:
    command = CommandRequest.model_validate(
        {"device_id": "meter-1", "command_type": "reboot", "expires_at": MOMENT.replace(year=2999)}
    )
    answer = json_bytes({"request_id": "r-1", "timestamp": MOMENT})
    view = CommandStatusView(
        request_id="r-1",
        device_id="meter-1",
        command_type="reboot",
        status="queued",
        detail=None,
        kafka_partition=None,
        kafka_offset=None,
        expires_at=None,
        queued_at=MOMENT,
        sent_at=None,
        delivered_at=None,
        finished_at=None,
    )
    status = json_bytes(view.model_dump(mode="json"))
    record = AcceptedCommand(command, "r-1", MOMENT).kafka_value()
    report = StatusReport(
        request_id="r-1", device_id="meter-1", status="delivered", timestamp=MOMENT
    )
    assert _times(answer) == _times(status) == _times(report.kafka_value()) == {SPELLED}
    assert _times(record) == {SPELLED, SPELLED.replace("2026", "2999")}


def test_an_offset_other_than_utc_is_kept_as_given_on_both_paths() -> None:
    paris = datetime(2026, 1, 2, 4, 4, tzinfo=timezone(timedelta(hours=1)))
    job = Job(
        id="x", description="", schedule="", next_run_at=paris, running=False, last_execution=None
    )
    assert _times(json_bytes({"t": paris})) == _times(json_bytes(job.model_dump(mode="json")))


def test_both_apps_answer_with_the_shared_response_class(tmp_path: Path) -> None:
    settings = load_settings(database={"url": f"sqlite+aiosqlite:///{tmp_path / 'e.db'}"})
    energy = create_energy_app(Container(settings))
    pusher = create_pusher_app(PusherSettings())
    assert energy.router.default_response_class is OrjsonResponse
    assert pusher.router.default_response_class is OrjsonResponse
