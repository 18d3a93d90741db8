"""What a channel delivers: the opening or the recovery of one alert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

NoticeKind = Literal["opened", "resolved"]


@dataclass(frozen=True)
class Notice:
    """One alert event as every channel renders it."""

    kind: NoticeKind
    alert_id: int
    rule: str
    subject: str
    message: str
    details: dict[str, Any]
    opened_at: datetime
    resolved_at: datetime | None

    @property
    def title(self) -> str:
        """Short line for an email subject or a chat message."""
        prefix = "RESOLVED" if self.kind == "resolved" else "ALERT"
        return f"[energy-data] {prefix} {self.rule}: {self.subject}"

    def as_json(self) -> dict[str, Any]:
        """The webhook body."""
        return {
            "event": f"alert.{self.kind}",
            "alert_id": self.alert_id,
            "rule": self.rule,
            "subject": self.subject,
            "message": self.message,
            "details": self.details,
            "opened_at": self.opened_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
        }

    def as_text(self) -> str:
        """The email body."""
        lines = [self.message, "", f"alert #{self.alert_id}, opened {self.opened_at.isoformat()}"]
        if self.resolved_at is not None:
            lines.append(f"resolved {self.resolved_at.isoformat()}: the condition has cleared")
        lines.extend(f"{key}: {value}" for key, value in sorted(self.details.items()))
        return "\n".join(lines) + "\n"


class Channel(Protocol):
    """A way to deliver notices; ``send`` retries on its own and raises when it gives up."""

    name: str

    async def send(self, notice: Notice) -> None: ...
