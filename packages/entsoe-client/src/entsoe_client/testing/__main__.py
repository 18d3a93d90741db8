"""Run the fake platform on a fixed loopback port, to try the CLIs and the service offline.

    uv run python -m entsoe_client.testing --port 8800 --token demo-token

then point anything at it with ``ENTSOE__BASE_URL=http://127.0.0.1:8800/api`` and
``ENTSOE__API_TOKEN=demo-token``. Answers are generated documents (deterministic synthetic
values), never real market data. The command line needs the ``cli`` extra (typer); without it
this says so and exits 1.
"""

from __future__ import annotations

import time
from typing import Annotated

from entsoe_client._extras import CLI_MODULES, missing_extra_message, missing_module

try:
    import typer
except ModuleNotFoundError as error:
    module = missing_module(error, CLI_MODULES)
    if module is None:
        raise
    raise SystemExit(
        missing_extra_message("python -m entsoe_client.testing", "cli", module).rstrip()
    ) from None

from entsoe_client.testing._fake_platform import FakePlatform


def main(
    port: Annotated[int, typer.Option(help="Loopback port to listen on.")] = 8800,
    token: Annotated[str, typer.Option(help="The only securityToken accepted.")] = "demo-token",  # noqa: S107  (a fake token for a fake server)
    resolution: Annotated[str, typer.Option(help="Resolution of generated series.")] = "PT15M",
) -> None:
    """Serve generated ENTSO-E answers on 127.0.0.1 until interrupted."""
    with FakePlatform(token=token, resolution=resolution, port=port) as platform:
        typer.echo(f"fake ENTSO-E platform at {platform.url} (token {token!r}); Ctrl-C stops it")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            typer.echo("stopped")


if __name__ == "__main__":
    typer.run(main)
