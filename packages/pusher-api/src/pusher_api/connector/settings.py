"""Settings of the connectors, from the environment (and ``.env``).

Kafka and log settings have the service's names (``KAFKA_BOOTSTRAP_SERVERS``,
``KAFKA_COMMAND_TOPIC``, ``KAFKA_STATUS_TOPIC``, ``LOG_FORMAT``, ``LOG_LEVEL``) so one environment
configures both; the rest are the connector's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class _ConnectorSettings(BaseSettings):
    """What every connector shares with the service: Kafka topics and logging."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    kafka_bootstrap_servers: str = "localhost:9092"
    kafka_command_topic: str = "device_commands"
    kafka_status_topic: str = "device_command_status"
    # Cancellation records: commands cancelled here are never delivered (cancellations.py).
    kafka_cancel_topic: str = "device_command_cancellations"

    log_format: Literal["json", "text"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class MqttConnectorSettings(_ConnectorSettings):
    """Where the connector reads commands, where it reports status, which MQTT broker it uses."""

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


class CoapConnectorSettings(_ConnectorSettings):
    """Where the CoAP connector listens for devices, where it keeps their queues, and the CoAP
    transmission parameters of its pushes."""

    # One instance per group: a device checks in at one address, so the instance that queued
    # its commands must be the one it reaches (see docs/pusher-connector.md).
    kafka_connector_group: str = "pusher-connector-coap"

    coap_host: str = "127.0.0.1"
    # 0 lets the system pick a free port (the connector logs the one it got).
    coap_port: int = Field(default=5683, ge=0, le=65535)
    # Commands waiting per device; beyond it a new command fails ("device queue full").
    coap_max_queued: int = Field(default=50, ge=1)
    # The device queues (SQLite): they outlive the connector process.
    coap_queue_file: Path = Path("./data/coap-connector.db")
    # RFC 7252 transmission parameters of pushes (confirmable POSTs to metadata.coap_uri). A push
    # with no answer within MAX_TRANSMIT_WAIT = ACK_TIMEOUT x (2^(MAX_RETRANSMIT+1) - 1) x 1.5
    # (93 s by default) fails with "no answer".
    coap_ack_timeout_s: float = Field(default=2.0, gt=0)
    coap_max_retransmit: int = Field(default=4, ge=0, le=10)

    @property
    def max_transmit_wait_s(self) -> float:
        """RFC 7252 MAX_TRANSMIT_WAIT for these parameters (ACK_RANDOM_FACTOR 1.5)."""
        return self.coap_ack_timeout_s * float(2 ** (self.coap_max_retransmit + 1) - 1) * 1.5
