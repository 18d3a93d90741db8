"""Protocol connectors: they consume the command topic and deliver commands to devices.

Only MQTT ships here (`pusher-api connector mqtt`, `pusher_api.connector.mqtt.MqttConnector`);
the device-side contract is in `pusher_api.connector.device_protocol`. Nothing is imported here
so the CLI loads the Kafka and MQTT libraries only when a connector actually runs.
"""
