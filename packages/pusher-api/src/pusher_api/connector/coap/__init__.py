"""The reference CoAP connector, for devices that sleep (`pusher-api connector coap`).

A sleepy device cannot be reached when a command is sent: it wakes, talks to the server for a
moment, and sleeps again. So the connector queues each device's commands (`queue`, a SQLite
file of its own) and hands them over when the device checks in (`site`: ``GET
/devices/{id}/commands`` or its measurement ``POST /devices/{id}/uplink``); the device sends
its result to ``POST /devices/{id}/responses``. A device that listens names its endpoint in
``metadata.coap_uri`` and gets its commands pushed (`push`). `admission` decides what a command
record becomes; `connector` wires Kafka, the queue and the CoAP endpoint together; payloads are
encoded by the encoder a command's ``parser_script_ref`` names (`pusher_api.encoders`).
"""
