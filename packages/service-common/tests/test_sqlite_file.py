from pathlib import Path

from service_common import sqlite_file
from sqlalchemy.engine import make_url


def test_the_file_of_a_sqlite_url_with_home_expanded() -> None:
    assert sqlite_file(make_url("sqlite+aiosqlite:///data/energy.db")) == Path("data/energy.db")
    assert sqlite_file(make_url("sqlite+aiosqlite:///~/energy.db")) == Path.home() / "energy.db"


def test_no_file_for_memory_uri_or_another_backend() -> None:
    for url in (
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file:energy?mode=memory&uri=true",
        "postgresql+asyncpg://user@localhost/energy",
    ):
        assert sqlite_file(make_url(url)) is None, url
