"""The alert rules: pure functions from what monitoring sees to the conditions firing now.

``AlertService`` compares the conditions with the open alerts: a new (rule, subject) opens an
alert, one that no longer fires resolves it. Subjects are stable strings (``DE_LU/actual_load``)
so the same problem is always the same alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

AUTHENTICATION_ERROR = "AuthenticationError"
"""``error_class`` a run records when the platform answered 401."""
TOKEN_SUBJECT = "entsoe_api_token"  # noqa: S105  (an alert subject, not a secret)


@dataclass(frozen=True)
class Condition:
    """A rule firing for one subject, with the words and figures a notice carries."""

    rule: str
    subject: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutcome:
    """What a rule needs to know about one collection run."""

    area: str
    data_type: str
    finished_at: datetime
    success: bool
    error_class: str | None
    error_text: str | None


@dataclass(frozen=True)
class SuccessRate:
    """Runs of one area × data type in the evaluation window."""

    area: str
    data_type: str
    runs: int
    successes: int

    @property
    def percent(self) -> float:
        """Successful share in percent (100 with no runs)."""
        return 100.0 * self.successes / self.runs if self.runs else 100.0


@dataclass(frozen=True)
class Staleness:
    """How far one series is behind where its publication schedule says it should be."""

    area: str
    data_type: str
    last_end: datetime | None
    expected_end: datetime
    overdue_seconds: float | None
    """Expected end minus stored end; ``None`` when nothing is stored."""

    @property
    def stale(self) -> bool:
        """Behind its expected publication (or never collected)."""
        return self.overdue_seconds is None or self.overdue_seconds > 0


@dataclass(frozen=True)
class ScoreSnapshot:
    """A series' latest daily quality score."""

    area: str
    data_type: str
    resolution: str
    day: str
    score: float


def series_subject(area: str, data_type: str) -> str:
    """Subject of alerts about one area × data type."""
    return f"{area}/{data_type}"


def consecutive_failures(
    latest_runs: Iterable[Sequence[RunOutcome]], threshold: int
) -> list[Condition]:
    """Series whose last ``threshold`` runs all failed (each sequence newest first)."""
    conditions = []
    for runs in latest_runs:
        recent = list(runs[:threshold])
        if len(recent) < threshold or any(run.success for run in recent):
            continue
        last = recent[0]
        conditions.append(
            Condition(
                rule="consecutive_failures",
                subject=series_subject(last.area, last.data_type),
                message=(
                    f"{threshold} collections of {last.data_type} for {last.area} failed in a row; "
                    f"last error {last.error_class}: {last.error_text}"
                ),
                details={
                    "failures": threshold,
                    "last_error_class": last.error_class,
                    "last_error": last.error_text,
                    "last_run_at": last.finished_at.isoformat(),
                },
            )
        )
    return conditions


def low_success_rate(
    rates: Iterable[SuccessRate], min_percent: float, min_runs: int, window_minutes: int
) -> list[Condition]:
    """Series whose share of successful runs in the window is below ``min_percent``."""
    return [
        Condition(
            rule="success_rate",
            subject=series_subject(rate.area, rate.data_type),
            message=(
                f"only {rate.percent:.0f}% of {rate.runs} collections of {rate.data_type} for "
                f"{rate.area} succeeded in the last {window_minutes} min "
                f"(threshold {min_percent:.0f}%)"
            ),
            details={"runs": rate.runs, "successes": rate.successes, "percent": rate.percent},
        )
        for rate in rates
        if rate.runs >= min_runs and rate.percent < min_percent
    ]


def stale_series(staleness: Iterable[Staleness]) -> list[Condition]:
    """Series behind their expected publication schedule."""
    conditions = []
    for item in staleness:
        if not item.stale:
            continue
        if item.last_end is None or item.overdue_seconds is None:
            behind = f"{item.data_type} for {item.area} has no data stored"
        else:
            behind = (
                f"{item.data_type} for {item.area} is {item.overdue_seconds / 60:.0f} min behind "
                f"its publication schedule (data until {item.last_end.isoformat()})"
            )
        conditions.append(
            Condition(
                rule="stale_series",
                subject=series_subject(item.area, item.data_type),
                message=f"{behind}; expected until {item.expected_end.isoformat()}",
                details={
                    "last_end": item.last_end.isoformat() if item.last_end else None,
                    "expected_end": item.expected_end.isoformat(),
                    "overdue_seconds": item.overdue_seconds,
                },
            )
        )
    return conditions


def low_quality(scores: Iterable[ScoreSnapshot], min_score: float) -> list[Condition]:
    """Series whose latest daily quality score is below ``min_score``."""
    return [
        Condition(
            rule="quality_score",
            subject=f"{series_subject(s.area, s.data_type)}/{s.resolution}",
            message=(
                f"quality score of {s.data_type} ({s.resolution}) for {s.area} on {s.day} is "
                f"{s.score:.1f} (threshold {min_score:.0f})"
            ),
            details={"day": s.day, "score": s.score},
        )
        for s in scores
        if s.score < min_score
    ]


def invalid_token(latest_runs: Iterable[Sequence[RunOutcome]]) -> list[Condition]:
    """The platform refused the token in the most recent run of any series.

    Fires on the first such run (no threshold: nothing will work until someone fixes the token)
    and clears when a later run anywhere succeeds.
    """
    newest: RunOutcome | None = None
    for runs in latest_runs:
        if runs and (newest is None or runs[0].finished_at > newest.finished_at):
            newest = runs[0]
    if newest is None or newest.error_class != AUTHENTICATION_ERROR:
        return []
    return [
        Condition(
            rule="invalid_token",
            subject=TOKEN_SUBJECT,
            message=(
                "the ENTSO-E platform rejected the security token (HTTP 401): set a valid "
                "ENTSOE__API_TOKEN; no data is collected until then"
            ),
            details={
                "area": newest.area,
                "data_type": newest.data_type,
                "at": newest.finished_at.isoformat(),
            },
        )
    ]
