"""The optional parts without their extras: a sentence naming the extra, never a traceback; and
the API and the CoAP connector need neither extra.

Each case runs in a fresh interpreter where the extra's package cannot be imported (its
`sys.modules` entry is None, which makes Python's import raise `ModuleNotFoundError`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_without(missing: list[str], code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    blocked = "".join(f"sys.modules[{name!r}] = None\n" for name in missing)
    return subprocess.run(
        [sys.executable, "-c", f"import sys\n{blocked}{code}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite+aiosqlite:///{cwd}/p.db"},
        check=False,
    )


CLI = "from pusher_api.cli import app\napp({args}, prog_name='pusher-api')\n"


@pytest.mark.parametrize(
    ("missing", "code", "extra"),
    [
        (["aiomqtt"], CLI.format(args=["connector", "mqtt"]), "mqtt"),
        (["paho"], CLI.format(args=["connector", "mqtt"]), "mqtt"),
        (["confluent_kafka"], CLI.format(args=["serve", "--dev-broker"]), "dev-broker"),
        (
            ["confluent_kafka"],
            "import runpy\nsys.argv = ['dev_broker']\n"
            "runpy.run_module('pusher_api.dev_broker', run_name='__main__')\n",
            "dev-broker",
        ),
    ],
    ids=["connector-mqtt-aiomqtt", "connector-mqtt-paho", "serve-dev-broker", "dev-broker-module"],
)
def test_a_missing_extra_is_named_without_a_traceback(
    tmp_path: Path, missing: list[str], code: str, extra: str
) -> None:
    ran = run_without(missing, code, tmp_path)
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    assert f"pip install 'pusher-api[{extra}]'" in ran.stderr
    assert f"needs {missing[0]}" in ran.stderr
    assert "Traceback" not in ran.stderr + ran.stdout


def test_the_api_and_the_coap_connector_need_neither_extra(tmp_path: Path) -> None:
    ran = run_without(
        ["aiomqtt", "paho", "confluent_kafka"],
        "import pusher_api.app, pusher_api.cli, pusher_api.connector.coap.connector\n"
        "from pusher_api.app import create_app\n"
        "from pusher_api.settings import Settings\n"
        "create_app(Settings(_env_file=None))\n"
        "print('ok')\n",
        tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "ok"
