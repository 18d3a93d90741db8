"""The shipped deployment is closed by default: keys required, Mosquitto with accounts and an ACL.

`docker-compose.yml` used to publish the pusher without API keys and Mosquitto without
authentication (anyone could publish on `devices/+/commands` or forge device replies). The ACL
is checked here against a real Mosquitto started with the shipped configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
import yaml
from pusher_api.connector.device_protocol import responses_subscription
from pusher_api.connector.settings import MqttConnectorSettings
from pusher_api.settings import Settings

from .connector_harness import run_mosquitto

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _environment(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in COMPOSE["services"][service].get("environment", {}).items()}


def test_compose_requires_keys_and_uses_the_settings_names() -> None:
    pusher = _environment("pusher-api")
    connector = _environment("pusher-connector")
    energy = _environment("energy-data")
    assert set(pusher) <= {name.upper() for name in Settings.model_fields}
    assert set(connector) <= {name.upper() for name in MqttConnectorSettings.model_fields}
    for value in (pusher["API_KEYS"], energy["API__KEYS"], connector["MQTT_PASSWORD"]):
        assert ":?" in value, value  # compose refuses to start without it; no empty default
    assert connector["MQTT_USERNAME"] == "pusher-connector"
    mosquitto = COMPOSE["services"]["mosquitto"]
    assert "no-auth" not in " ".join(mosquitto["command"])
    conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf
    acl = (ROOT / "deploy/mosquitto/acl").read_text()
    group = MqttConnectorSettings.model_fields["mqtt_share_group"].default
    assert f"topic read {responses_subscription(group)}" in acl


@contextlib.contextmanager
def _mosquitto(tmp_path: Path, accounts: dict[str, str]) -> Iterator[int]:
    """Mosquitto with the shipped configuration, ACL and accounts, on a free port."""
    passwd = tmp_path / "passwd"
    passwd.touch()
    for user, password in accounts.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True)
    shutil.copy(ROOT / "deploy/mosquitto/acl", tmp_path / "acl")
    conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    assert "listener 1883\n" in conf
    conf = conf.replace("listener 1883\n", "")
    conf = conf.replace("/mosquitto/config/", f"{tmp_path}/").replace("persistence true", "")
    conf = conf.replace("persistence_location /mosquitto/data/", "")
    with run_mosquitto(conf, tmp_path) as port:
        yield port


async def _collect(client: aiomqtt.Client, seconds: float) -> list[str]:
    got: list[str] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            async for message in client.messages:
                got.append(f"{message.topic}:{message.payload!r}")
    return got


@pytest.mark.mqtt
async def test_the_shipped_acl_gives_each_device_its_own_topics_only(tmp_path: Path) -> None:
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is needed (apt-get install -y mosquitto)")
    a, b = f"dev-a-{uuid.uuid4().hex[:6]}", f"dev-b-{uuid.uuid4().hex[:6]}"
    accounts = {"pusher-connector": "c-secret", a: "a-secret", b: "b-secret"}
    with _mosquitto(tmp_path, accounts) as port:

        def client(user: str | None, password: str | None) -> aiomqtt.Client:
            return aiomqtt.Client(
                "127.0.0.1", port, username=user, password=password, identifier=f"{user}-t"
            )

        with pytest.raises(aiomqtt.MqttError):
            async with client(None, None):
                pass  # anonymous: refused
        async with (
            client("pusher-connector", "c-secret") as connector,
            client(a, "a-secret") as device_a,
            client(b, "b-secret") as device_b,
        ):
            await connector.subscribe(responses_subscription("pusher-connector"), qos=1)
            await device_a.subscribe(f"devices/{a}/commands", qos=1)
            await device_b.subscribe(f"devices/{a}/commands", qos=1)  # someone else's: denied
            await connector.publish(f"devices/{a}/commands", b"reboot", qos=1)
            await device_b.publish(f"devices/{a}/responses", b"forged", qos=1)
            await device_a.publish(f"devices/{a}/responses", b"done", qos=1)
            await device_b.publish(f"devices/{b}/commands", b"self-command", qos=1)
            got_a, got_b, got_connector = await asyncio.gather(
                _collect(device_a, 1.0), _collect(device_b, 1.0), _collect(connector, 1.0)
            )
    assert got_a == [f"devices/{a}/commands:b'reboot'"]
    assert got_b == []
    assert got_connector == [f"devices/{a}/responses:b'done'"]
