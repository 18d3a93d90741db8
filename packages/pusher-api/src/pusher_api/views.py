"""A command's status as the API shows it: its row, and its webhook deliveries when it has a
callback. One builder for the status route, the event streams and the webhook bodies."""

from __future__ import annotations

from pusher_api.schemas import CommandStatusView, WebhookDeliveryView
from pusher_api.store import CommandStore


async def status_view(store: CommandStore, request_id: str) -> CommandStatusView | None:
    """A command's status with its webhook deliveries, as the status route shows it."""
    record = await store.get(request_id)
    if record is None:
        return None
    view = CommandStatusView.model_validate(record, from_attributes=True)
    if record.callback_url is not None:
        view.webhook_deliveries = [
            WebhookDeliveryView.model_validate(delivery, from_attributes=True)
            for delivery in await store.webhooks_of(request_id)
        ]
    return view
