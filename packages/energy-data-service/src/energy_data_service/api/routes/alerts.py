"""``/api/v1/alerts``: alert history with each channel's delivery outcome; acknowledge."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from energy_data_service.api.bounds import is_row_id
from energy_data_service.api.deps import AlertServiceDep, ApiKeyDep
from energy_data_service.errors import AlertNotFoundError

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], dependencies=[ApiKeyDep])


class Delivery(BaseModel):
    notice: str
    channel: str
    attempted_at: datetime
    outcome: str
    duration_ms: float | None
    error: str | None


class Alert(BaseModel):
    id: int
    rule: str
    subject: str
    state: str
    message: str
    details: dict[str, Any]
    opened_at: datetime
    notified_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    recovery_notified_at: datetime | None
    deliveries: list[Delivery]


class AcknowledgeBody(BaseModel):
    by: str | None = Field(default=None, max_length=128, description="Who takes care of it")


AlertId = Annotated[int, Path(ge=1, description="Alert id")]


@router.get("", response_model=list[Alert], summary="Alerts, newest first")
async def list_alerts(
    alerts: AlertServiceDep,
    state: Literal["open", "acknowledged", "resolved"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Alert]:
    found = await alerts.listing(state=state, limit=limit)
    return [Alert.model_validate(a, from_attributes=True) for a in found]


@router.get("/{alert_id}", response_model=Alert, summary="One alert with its history")
async def get_alert(alerts: AlertServiceDep, alert_id: AlertId) -> Alert:
    if not is_row_id(alert_id):
        raise AlertNotFoundError(f"no alert with id {alert_id}")
    alert = await alerts.get(alert_id)
    return Alert.model_validate(alert, from_attributes=True)


@router.post("/{alert_id}/acknowledge", response_model=Alert, summary="Take ownership of an alert")
async def acknowledge(
    alerts: AlertServiceDep, alert_id: AlertId, body: AcknowledgeBody | None = None
) -> Alert:
    if not is_row_id(alert_id):
        raise AlertNotFoundError(f"no alert with id {alert_id}")
    alert = await alerts.acknowledge(alert_id, body.by if body else None)
    return Alert.model_validate(alert, from_attributes=True)
