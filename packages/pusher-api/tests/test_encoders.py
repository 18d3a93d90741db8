"""The encoder registry: built-ins and a vendor's encoder found through a real entry point."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import cbor2
import orjson
import pytest
from pusher_api.encoders import (
    ENTRY_POINT_GROUP,
    EncoderError,
    UnknownEncoderError,
    _encoder_named,
    encoder_for,
    installed_encoders,
)

DOCUMENT = [{"request_id": "r-1", "payload": {"interval_s": 60, "ratio": 0.5, "on": None}}]


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    installed_encoders.cache_clear()
    _encoder_named.cache_clear()
    yield
    installed_encoders.cache_clear()
    _encoder_named.cache_clear()


def install_vendor_package(root: Path, name: str, entry_points: str, module: str) -> None:
    """What `pip install` of a vendor's package leaves on disk: a module and its dist-info."""
    (root / f"{name}.py").write_text(textwrap.dedent(module))
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry_points}\n")


def test_json_is_the_default_and_cbor_is_built_in() -> None:
    default, json, cbor = encoder_for(None), encoder_for("json"), encoder_for("cbor")
    assert default is json
    assert (json.content_format, cbor.content_format) == (50, 60)
    assert orjson.loads(json.encode(DOCUMENT)) == DOCUMENT
    assert cbor2.loads(cbor.encode(DOCUMENT)) == DOCUMENT
    assert len(cbor.encode(DOCUMENT)) < len(json.encode(DOCUMENT))


def test_unknown_reference_is_refused_with_what_is_installed() -> None:
    with pytest.raises(UnknownEncoderError) as raised:
        encoder_for("efento_bidirectional_parser.py")
    assert str(raised.value) == (
        "unknown parser_script_ref 'efento_bidirectional_parser.py': installed encoders are "
        "cbor, json; install a package that registers 'efento_bidirectional_parser.py' in the "
        "entry-point group 'pusher_api.encoders'"
    )


def test_a_vendor_package_adds_an_encoder_through_its_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    install_vendor_package(
        tmp_path,
        "acme_encoders",
        "efento_bidirectional_parser.py = acme_encoders:LengthPrefixed",
        """
        import json

        class LengthPrefixed:
            content_format = 42  # application/octet-stream

            def encode(self, document):
                body = json.dumps(document, separators=(",", ":")).encode()
                return len(body).to_bytes(2, "big") + body
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    encoder = encoder_for("efento_bidirectional_parser.py")
    encoded = encoder.encode(DOCUMENT)
    assert encoder.content_format == 42
    assert int.from_bytes(encoded[:2], "big") == len(encoded) - 2
    assert orjson.loads(encoded[2:]) == DOCUMENT
    assert set(installed_encoders()) >= {"json", "cbor", "efento_bidirectional_parser.py"}


def test_a_broken_vendor_encoder_fails_with_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    install_vendor_package(
        tmp_path,
        "acme_broken",
        "broken = acme_broken:Missing\nshapeless = acme_broken:Shapeless",
        """
        class Shapeless:
            pass
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(EncoderError, match=r"encoder 'broken' \(acme_broken:Missing\) cannot be"):
        encoder_for("broken")
    with pytest.raises(EncoderError, match="has no content_format and encode"):
        encoder_for("shapeless")
