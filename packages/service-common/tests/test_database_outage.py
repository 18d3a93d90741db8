"""An outage (retry later) is told apart from a fault (a bug) by the exception's cause chain."""

from __future__ import annotations

import sqlite3

from service_common import is_database_outage
from sqlalchemy.exc import OperationalError, ProgrammingError


def test_an_outage_is_told_apart_from_a_fault() -> None:
    refused = OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "refused"))
    assert is_database_outage(refused)
    assert is_database_outage(TimeoutError())
    assert is_database_outage(
        OperationalError("x", {}, sqlite3.OperationalError("database is locked"))
    )
    assert not is_database_outage(ProgrammingError("SELEC 1", {}, Exception("syntax error")))
    assert not is_database_outage(
        OperationalError("x", {}, sqlite3.OperationalError("no such table"))
    )
    assert not is_database_outage(ValueError("a bug"))


def test_a_file_that_cannot_be_written_is_not_an_outage() -> None:
    assert not is_database_outage(PermissionError(13, "Permission denied", "/read-only/out.csv"))
    wrapped = RuntimeError("query failed")
    wrapped.__cause__ = ConnectionResetError(104, "reset")
    assert is_database_outage(wrapped)
