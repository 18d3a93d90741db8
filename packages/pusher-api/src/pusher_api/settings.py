"""Settings of the pusher API, read from flat environment variables (and `.env`).

Flat names (`KAFKA_BOOTSTRAP_SERVERS`, `API_KEYS`, …) because deployments of the original service
already set them; every setting here is read by the code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from service_common import CommaSeparated


class Settings(BaseSettings):
    """Everything the service needs to know about its surroundings, with working defaults."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    kafka_bootstrap_servers: str = Field(
        default="localhost:9092", description="comma-separated host:port of Kafka brokers"
    )
    kafka_command_topic: str = Field(default="device_commands", min_length=1)
    kafka_status_topic: str = Field(default="device_command_status", min_length=1)
    kafka_cancel_topic: str = Field(
        default="device_command_cancellations",
        min_length=1,
        description="cancellation records of commands already on Kafka; every connector reads it",
    )
    kafka_timeout_ms: int = Field(
        default=5000, gt=0, description="longest wait for the broker before answering 503"
    )
    kafka_status_group: str | None = Field(
        default=None,
        description="consumer group of the status consumers: replicas on one PostgreSQL share "
        "the status topic's partitions (default pusher-api-status); empty, and the default on "
        "SQLite (one process owns the file), reads every partition without a group",
    )

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, gt=0, lt=65536)
    api_keys: CommaSeparated[str] = Field(
        default_factory=list, description="comma-separated; when set, X-API-Key is required"
    )
    cors_origins: CommaSeparated[str] = Field(
        default_factory=list,
        description="comma-separated browser origins allowed to call the API (`*`: any); "
        "other sites' browser requests to state-changing routes are refused (403)",
    )
    metrics_public: bool = Field(
        default=False, description="with API_KEYS set, serve /metrics without a key"
    )
    docs_public: bool = Field(
        default=False, description="with API_KEYS set, serve /docs and /openapi.json without a key"
    )
    allow_insecure: bool = Field(
        default=False,
        description="serve beyond loopback without API_KEYS (refused otherwise)",
    )
    rate_limit_per_minute: int = Field(
        default=0, ge=0, description="requests per minute per API key (or client); 0 = unlimited"
    )
    max_command_bytes: int = Field(
        default=65536, gt=0, description="largest single command (request body or batch item)"
    )
    max_batch_size: int = Field(default=1000, gt=0, description="most commands in one batch")
    max_batch_bytes: int = Field(
        default=4 * 1024 * 1024,
        gt=0,
        description="largest batch request body; a larger one is refused (413) before parsing",
    )

    database_url: str = "sqlite+aiosqlite:///./data/pusher.db"
    database_timeout_s: float = Field(
        default=2.0,
        gt=0,
        description="PostgreSQL: longest wait to connect, for one statement or a pooled "
        "connection; an unreachable store answers 503 after it",
    )
    expiry_interval_s: float = Field(
        default=5.0, gt=0, description="how often commands past expires_at are marked expired"
    )
    schedule_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="longest sleep of the scheduler between looks for due commands",
    )
    cancel_wait_ms: int = Field(
        default=3000,
        ge=0,
        description="how long a cancel of a command on Kafka waits for the connector's answer",
    )
    repair_after_s: float = Field(
        default=60.0,
        gt=0,
        description="a command still `queued` this long after it arrived is looked up on the "
        "topic and repaired (sent, or failed when not there)",
    )

    webhook_url: str | None = Field(
        default=None, description="default callback_url for commands that give none"
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="key of the HMAC-SHA256 signature of webhook bodies"
    )
    webhook_max_attempts: int = Field(default=8, gt=0)
    webhook_timeout_s: float = Field(default=5.0, gt=0)

    log_format: Literal["json", "text"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @property
    def status_group(self) -> str | None:
        """The status consumers' consumer group, None for no group (see kafka_status_group)."""
        if self.kafka_status_group is not None:
            return self.kafka_status_group or None
        return None if self.database_url.startswith("sqlite") else "pusher-api-status"
