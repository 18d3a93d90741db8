"""Payload encoders: how a command reaches a device that does not read JSON.

A command's ``parser_script_ref`` names the encoder its connector uses; without one the command
goes as JSON. Encoders are found through the entry-point group ``pusher_api.encoders``, so a
vendor adds one by installing a package, never by editing this one. The built-in ``json`` and
``cbor`` are registered the same way (in this package's own metadata), so the lookup a vendor's
encoder goes through is the one every command already uses.

An entry point names a class (or any callable without arguments) that returns an `Encoder`.
A reference nobody registered is refused (`UnknownEncoderError`) rather than guessed at: a
device handed bytes in the wrong format may act on garbage.
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from pusher_api.errors import EncoderError, UnknownEncoderError

ENTRY_POINT_GROUP = "pusher_api.encoders"
DEFAULT_ENCODER = "json"


@runtime_checkable
class Encoder(Protocol):
    """Turns the JSON-shaped document a device receives into the bytes it reads.

    ``document`` holds only what JSON can: dicts with string keys, lists, strings, numbers,
    booleans and None (timestamps are ISO 8601 strings). A connector hands an encoder one
    command (a dict) or a device's due commands (a list of them). ``content_format`` is the
    CoAP Content-Format number the bytes are sent with (50 JSON, 60 CBOR; see the IANA
    registry), so a device can tell formats apart.
    """

    content_format: int

    def encode(self, document: Any) -> bytes:
        """The document's bytes; raise any exception when it cannot be encoded."""
        ...


@functools.cache
def installed_encoders() -> dict[str, Any]:
    """Entry points of the group, by name (loaded lazily: a broken vendor package fails only
    the commands that name it)."""
    return {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}


def encoder_for(reference: str | None) -> Encoder:
    """The encoder a command's ``parser_script_ref`` names (``json`` when it names none)."""
    return _encoder_named(reference or DEFAULT_ENCODER)


@functools.cache
def _encoder_named(name: str) -> Encoder:
    """Each encoder is loaded once (refusals are not cached: a package may be installed)."""
    point = installed_encoders().get(name)
    if point is None:
        known = ", ".join(sorted(installed_encoders())) or "none"
        raise UnknownEncoderError(
            f"unknown parser_script_ref {name!r}: installed encoders are {known}; install a "
            f"package that registers {name!r} in the entry-point group {ENTRY_POINT_GROUP!r}"
        )
    try:
        encoder = point.load()()
    except Exception as error:
        raise EncoderError(f"encoder {name!r} ({point.value}) cannot be loaded: {error}") from error
    if not isinstance(encoder, Encoder):
        raise EncoderError(
            f"encoder {name!r} ({point.value}) has no content_format and encode(document)"
        )
    return encoder


__all__ = [
    "DEFAULT_ENCODER",
    "ENTRY_POINT_GROUP",
    "Encoder",
    "EncoderError",
    "UnknownEncoderError",
    "encoder_for",
    "installed_encoders",
]
