"""Settings of the MQTT connector, from the environment (and ``.env``).

Kafka and log settings have the service's names (``KAFKA_BOOTSTRAP_SERVERS``,
``KAFKA_COMMAND_TOPIC``, ``KAFKA_STATUS_TOPIC``, ``LOG_FORMAT``, ``LOG_LEVEL``) so one environment
configures both; the rest are the connector's own.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MqttConnectorSettings(BaseSettings):
    """Where the connector reads commands, where it reports status, which MQTT broker it uses."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    kafka_bootstrap_servers: str = "localhost:9092"
    kafka_command_topic: str = "device_commands"
    kafka_status_topic: str = "device_command_status"
    # Connector instances sharing a group split the command partitions between them.
    kafka_connector_group: str = "pusher-connector-mqtt"

    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    # Connectors in one share group split the device replies between them (MQTT shared
    # subscription); fleets that report to different Kafka clusters need different groups.
    mqtt_share_group: str = Field(default="pusher-connector", pattern=r"^[^/+#]+$")
    # A publish not acknowledged by the MQTT broker in this time counts as a lost connection.
    mqtt_publish_timeout_s: float = Field(default=10.0, gt=0)

    log_format: Literal["json", "text"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
