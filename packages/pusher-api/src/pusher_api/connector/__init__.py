"""Protocol connectors: they consume the command topic and deliver commands to devices.

Two ship here: MQTT (`pusher-api connector mqtt`, `pusher_api.connector.mqtt.MqttConnector`,
device contract in `pusher_api.connector.device_protocol`) and CoAP for devices that sleep
(`pusher-api connector coap`, `pusher_api.connector.coap`). Nothing is imported here so the CLI
loads the Kafka, MQTT and CoAP libraries only when a connector actually runs.
"""
