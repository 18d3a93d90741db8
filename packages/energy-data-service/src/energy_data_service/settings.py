"""All configuration of the energy data service, read once from the environment and `.env`.

One ``Settings`` class with one nested model per concern; environment names nest with ``__``
(``DATABASE__URL``, ``COLLECTION__AREAS``). Other services add their own nested section here
(one model + one field) rather than reading the environment themselves.

``load_settings`` turns pydantic's validation error into ``SettingsError`` whose message names
each offending environment variable and what is wrong with it, so the CLI can print it as is.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from service_common import CommaSeparated

from energy_data_service.alerts.settings import AlertSettings
from energy_data_service.errors import SettingsError
from energy_data_service.quality.settings import QualitySettings

DEFAULT_DATA_TYPES = (
    "actual_load",
    "day_ahead_forecast",
    "week_ahead_forecast",
    "month_ahead_forecast",
    "year_ahead_forecast",
    "forecast_margin",
    "day_ahead_prices",
)


class DatabaseSettings(BaseModel):
    """Where the time series live: an SQLite file by default, or PostgreSQL/TimescaleDB."""

    url: str = "sqlite+aiosqlite:///./data/energy.db"
    connect_timeout_seconds: float = Field(default=5, gt=0, le=300)
    """PostgreSQL: longest wait for a new connection before the request is answered 503."""
    command_timeout_seconds: float = Field(default=15, gt=0, le=3600)
    """PostgreSQL: longest wait for one statement; a partitioned server is an error after it."""
    pool_timeout_seconds: float = Field(default=5, gt=0, le=300)
    """Longest wait for a free pooled connection."""

    @field_validator("url")
    @classmethod
    def _known_driver(cls, url: str) -> str:
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                f"(got {url.split('://', 1)[0]!r})"
            )
        return url


def _present(token: SecretStr | None) -> SecretStr | None:
    """``token``, or None when it is empty or blank."""
    return None if token is None or not token.get_secret_value().strip() else token


class EntsoeSettings(BaseModel):
    """How to reach the Transparency Platform; the token is never printed."""

    api_token: SecretStr | None = None
    """``ENTSOE__API_TOKEN`` (or plain ``ENTSOE_API_TOKEN``); read it as ``token``."""
    base_url: str = "https://web-api.tp.entsoe.eu/api"
    requests_per_minute: int | None = Field(default=400, ge=1)
    """Client-side pacing below the platform's 400/min ban threshold; empty disables pacing."""
    max_response_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    """Longest answer body read; a longer one is refused unread beyond this (bounds memory)."""
    max_zip_bytes: int = Field(default=1024 * 1024 * 1024, ge=1024)
    """Most bytes one ZIP answer may unpack to, summed from its directory before unpacking."""
    max_zip_members: int = Field(default=10_000, ge=1)
    """Most members one ZIP answer may list; beyond it the archive is refused unread."""

    @field_validator("requests_per_minute", mode="before")
    @classmethod
    def _empty_means_off(cls, value: Any) -> Any:
        return None if value in ("", "none", "None", "off", 0, "0") else value

    @field_validator("api_token", mode="after")
    @classmethod
    def _empty_token_means_none(cls, value: SecretStr | None) -> SecretStr | None:
        return _present(value)

    @property
    def token(self) -> str | None:
        """The platform token, or None when none is set: an empty ``ENTSOE__API_TOKEN=`` (as a
        `.env` template leaves it) means absent, so every check of the token agrees."""
        return None if self.api_token is None else self.api_token.get_secret_value()


class HttpSettings(BaseModel):
    """Address the REST API listens on."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)


class SchedulerSettings(BaseModel):
    """Whether and how often `energy-data serve` runs the collection jobs next to the API."""

    enabled: bool = True
    realtime_minutes: int = Field(default=30, ge=5, le=120)
    """Real-time collection (actual load and the latest forecasts) every N minutes."""
    forecast_hours: float = Field(default=6, gt=0, le=48)
    """Forecasts re-fetched over their horizon every N hours."""
    gap_fill_hours: float = Field(default=4, gt=0, le=48)
    """Gap analysis over the lookback window, filling what it finds, every N hours."""
    backfill_time_utc: str = "02:00"
    """Daily backfill analysis (coverage check and fill of older holes), HH:MM UTC."""
    price_times_utc: CommaSeparated[str] = Field(default_factory=lambda: ["12:30", "13:30"])
    """Tomorrow's day-ahead prices, fetched after publication (~12:00 UTC), HH:MM UTC."""
    max_attempts: int = Field(default=4, ge=1, le=20)
    """Attempts per job run before it is recorded as failed (retries back off exponentially)."""
    retry_base_seconds: float = Field(default=30, ge=0)
    """Pause before the first retry; each further retry doubles it (capped at 30 min)."""
    shutdown_grace_seconds: float = Field(default=30, ge=0)
    """On SIGTERM running jobs may finish for this long before they are cancelled."""
    leader_poll_seconds: float = Field(default=5, gt=0, le=300)
    """How often a follower replica tries to take the scheduler lock (PostgreSQL only)."""
    leader_stale_seconds: float | None = Field(default=None, gt=0, le=3600)
    """A follower ends the lock holder's session once it has been silent this long, and leads
    (PostgreSQL only). Unset: twice (poll + check timeout), 20 s at the default poll; it must
    exceed one poll plus the check timeout (``max(poll, 2 s)``)."""

    @field_validator("leader_stale_seconds", mode="before")
    @classmethod
    def _unset_stale(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _stale_after_step_down(self) -> SchedulerSettings:
        # The same bound as ``leader_election.step_down_seconds``: a follower must not end a
        # leader before the leader's own timeout has made it step down.
        step_down = self.leader_poll_seconds + max(self.leader_poll_seconds, 2.0)
        if self.leader_stale_seconds is not None and self.leader_stale_seconds <= step_down:
            raise ValueError(
                f"SCHEDULER__LEADER_STALE_SECONDS ({self.leader_stale_seconds:g}) must exceed the"
                f" poll plus the check timeout ({step_down:g} s at SCHEDULER__LEADER_POLL_SECONDS"
                f" {self.leader_poll_seconds:g}); leave it unset for twice that"
            )
        return self

    @field_validator("backfill_time_utc")
    @classmethod
    def _one_time(cls, value: str) -> str:
        _parse_hhmm(value)
        return value

    @field_validator("price_times_utc")
    @classmethod
    def _times(cls, values: list[str]) -> list[str]:
        for value in values:
            _parse_hhmm(value)
        return values


def _parse_hhmm(value: str) -> tuple[int, int]:
    """``"13:30"`` → ``(13, 30)``; anything else is a readable validation error."""
    hour, _, minute = value.strip().partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ValueError(f"{value!r} is not a time of day as HH:MM (UTC)")
    return int(hour), int(minute)


class ApiSettings(BaseModel):
    """Access and limits of the REST API."""

    keys: CommaSeparated[SecretStr] = Field(default_factory=list)
    """Accepted ``X-API-Key`` values (comma-separated); empty means the API is open."""
    cors_origins: CommaSeparated[str] = Field(default_factory=list)
    """Browser origins allowed to call the API; ``*`` allows any origin, without credentials."""
    default_limit: int = Field(default=10_000, ge=1)
    """Points per JSON page when the request gives no ``limit``."""
    max_limit: int = Field(default=100_000, ge=1)
    """Hard cap on ``limit``: above it the request is refused with 400."""
    max_buckets: int = Field(default=10_000, ge=1)
    """Hard cap on buckets of one aggregation request."""
    metrics_public: bool = False
    """With keys set, ``/metrics`` needs one too unless this is true (for a Prometheus scraper)."""
    docs_public: bool = False
    """With keys set, ``/docs`` and ``/openapi.json`` need one too unless this is true."""
    latest_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    """How long ``/latest`` answers are reused (hot polling route); 0 always reads the database."""


class CollectionSettings(BaseModel):
    """What the gap filler keeps complete, and how far back it looks for holes."""

    areas: CommaSeparated[str] = Field(default_factory=lambda: ["DE_LU", "FR", "NL"])
    data_types: CommaSeparated[str] = Field(default_factory=lambda: list(DEFAULT_DATA_TYPES))
    max_concurrency: int = Field(default=4, ge=1, le=64)
    """Areas collected at the same time (the client's pacing still bounds requests)."""
    lookback_days: int = Field(default=7, ge=1, le=3660)
    """Width of the window (ending now) in which every hole is found and filled."""
    borders: CommaSeparated[str] = Field(default_factory=list)
    """Directional pairs for flows, exchanges and capacities, ``FROM>TO`` (``DE_LU>FR``: energy
    from DE_LU into FR); directional data types are collected for these instead of ``areas``."""
    contract_types: CommaSeparated[str] = Field(default_factory=list)
    """Horizons of exchanges and transfer capacities to keep complete (``A01,A02`` or
    ``day_ahead,week_ahead``), each where the type publishes it; empty: each type's default
    (total exchanges, day-ahead capacities)."""

    @field_validator("contract_types")
    @classmethod
    def _known_contract_types(cls, names: list[str]) -> list[str]:
        from entsoe_client import CONTRACT_TYPES

        by_name = {name: code for code, name in CONTRACT_TYPES.items()}
        codes = []
        for name in names:
            code = by_name.get(name.strip().lower().replace("-", "_"), name.strip().upper())
            if code not in CONTRACT_TYPES:
                choices = ", ".join(f"{c} ({n})" for c, n in CONTRACT_TYPES.items())
                raise ValueError(f"unknown contract type {name!r}: choose from {choices}")
            codes.append(code)
        return codes

    @field_validator("areas")
    @classmethod
    def _known_areas(cls, names: list[str]) -> list[str]:
        from energy_data_service.domain import resolve_area

        return [resolve_area(name).name for name in names]

    @field_validator("borders")
    @classmethod
    def _known_borders(cls, pairs: list[str]) -> list[str]:
        from energy_data_service.domain import resolve_border

        return [f"{a.name}>{b.name}" for a, b in map(resolve_border, pairs)]

    @field_validator("data_types")
    @classmethod
    def _known_data_types(cls, names: list[str]) -> list[str]:
        from energy_data_service.domain import resolve_data_type

        return [resolve_data_type(name) for name in names]


class BackfillSettings(BaseModel):
    """Bounds on one backfill request, and how a job shows it is still being worked on."""

    max_span_days: int = Field(default=3660, ge=1, le=110_000)
    """Longest [start, end) one request may cover; split longer histories into several."""
    max_chunks: int = Field(default=5_000, ge=1)
    """Most platform requests one backfill may plan (areas × data types × chunks)."""
    lease_seconds: float = Field(default=60, ge=2, le=3600)
    """A running job's lease: renewed every third of it; once expired the job is orphaned."""
    recovery_seconds: float = Field(default=30, ge=0.2, le=3600)
    """How often `serve` looks for orphaned jobs (lease expired: their process died) and
    resumes them (or marks them ``interrupted`` without a token)."""


class LogSettings(BaseModel):
    """Logs go to stderr; `serve` logs at INFO unless a level is set here."""

    level: Literal["", "DEBUG", "INFO", "WARNING", "ERROR"] = ""
    """Empty: WARNING for the batch commands, INFO for `serve`."""
    format: Literal["text", "json"] = "text"
    """`json` writes one JSON object per line, for log shippers."""

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    """The whole configuration; build it with ``load_settings()``."""

    model_config = SettingsConfigDict(
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    entsoe: EntsoeSettings = Field(default_factory=EntsoeSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    collection: CollectionSettings = Field(default_factory=CollectionSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    backfill: BackfillSettings = Field(default_factory=BackfillSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    allow_insecure: bool = False
    """``ALLOW_INSECURE=true``: `serve` may listen beyond loopback without API keys."""

    entsoe_api_token: SecretStr | None = Field(default=None, exclude=True, repr=False)
    """Plain ``ENTSOE_API_TOKEN`` (the name most tools use); ``ENTSOE__API_TOKEN`` wins."""

    @field_validator("entsoe_api_token", mode="after")
    @classmethod
    def _empty_plain_token_means_none(cls, value: SecretStr | None) -> SecretStr | None:
        return _present(value)

    @model_validator(mode="after")
    def _plain_token_fallback(self) -> Settings:
        if self.entsoe.api_token is None and self.entsoe_api_token is not None:
            self.entsoe.api_token = self.entsoe_api_token
        return self


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem: ``COLLECTION__AREAS: unknown area 'XX' …``."""
    lines = []
    for problem in error.errors():
        variable = "__".join(str(part) for part in problem["loc"] if not isinstance(part, int))
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{variable.upper() or 'settings'}: {message}")
    return "Invalid configuration:\n  " + "\n  ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (and `.env`); raise ``SettingsError`` with a readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None
