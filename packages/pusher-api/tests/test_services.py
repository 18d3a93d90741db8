"""The app's parts: one typed `Services` object on `app.state`, which routes reach through
`deps` only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pusher_api.routes
from pusher_api.app import create_app
from pusher_api.dispatcher import CommandDispatcher
from pusher_api.services import Services
from pusher_api.settings import Settings
from pusher_api.store import CommandStore
from pusher_api.testing.server import serve_in_thread


def test_the_app_state_holds_one_typed_services_object(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    with serve_in_thread(app):
        assert set(vars(app.state)["_state"]) == {"services"}
        services = app.state.services
        assert isinstance(services, Services)
        assert isinstance(services.store, CommandStore)
        assert isinstance(services.dispatcher, CommandDispatcher)


def test_routes_take_their_parts_from_deps_never_from_the_app_state() -> None:
    routes = Path(pusher_api.routes.__file__).parent
    modules = sorted(routes.glob("*.py"))
    assert len(modules) >= 4
    for module in modules:
        assert "app.state" not in module.read_text(), module.name
