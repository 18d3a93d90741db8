"""Optional parts and the extras that bring them: `pusher-api[mqtt]` for the MQTT connector
(aiomqtt, with paho-mqtt), `pusher-api[dev-broker]` for the development broker
(confluent-kafka's librdkafka mock cluster).

A part whose extra is missing raises `MissingExtraError` naming the extra, and the command line
prints that sentence instead of a traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pusher_api.errors import MissingExtraError


def require_extra(module: str, *, extra: str, part: str) -> ModuleType:
    """Import `module`, which `part` needs and the extra `extra` installs."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise MissingExtraError(part, extra, error.name or module) from None
