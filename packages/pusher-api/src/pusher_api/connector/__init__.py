"""Protocol connectors: they consume the command topic and deliver commands to devices.

Only MQTT ships here (`pusher-api connector mqtt`); the device-side contract is in
`pusher_api.connector.device_protocol`.
"""

from pusher_api.connector.mqtt import MqttConnector
from pusher_api.connector.settings import MqttConnectorSettings

__all__ = ["MqttConnector", "MqttConnectorSettings"]
