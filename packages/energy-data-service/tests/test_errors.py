"""The error tree: one root, every class in ``errors.py``, drawn in its docstring, and one table
each for HTTP status codes and CLI exit codes."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from energy_data_service import errors
from energy_data_service.api.errors import status_of
from energy_data_service.cli._common import exit_code_of
from energy_data_service.errors import EnergyDataError

PACKAGE = Path(errors.__file__).parent
CLASSES = [
    value
    for value in vars(errors).values()
    if inspect.isclass(value) and value.__module__ == errors.__name__
]


def test_every_class_is_an_energy_data_error_whose_name_ends_in_error() -> None:
    assert len(CLASSES) >= 20
    for cls in CLASSES:
        assert issubclass(cls, EnergyDataError), cls
        assert cls.__name__.endswith("Error"), cls


def test_the_docstring_draws_exactly_the_classes_of_the_module() -> None:
    assert errors.__doc__ is not None
    drawn = set(re.findall(r"^ {4}[│├└─ ]*(\w+Error)\b", errors.__doc__, re.M))
    assert drawn == {cls.__name__ for cls in CLASSES}


def test_the_drawing_nests_each_class_under_its_base() -> None:
    assert errors.__doc__ is not None
    parents: list[str] = []
    for line in errors.__doc__.splitlines():
        found = re.match(r"^ {4}([│├└─ ]*)(\w+Error)\b", line)
        if not found:
            continue
        depth = len(found.group(1)) // 4
        del parents[depth:]
        cls = getattr(errors, found.group(2))
        if parents:
            assert cls.__bases__[0] is getattr(errors, parents[-1]), cls
        parents.append(found.group(2))


def _exception_classes_outside_errors() -> list[str]:
    """Classes defined in the package's other modules whose base looks like an exception."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                for base in node.bases:
                    name = ast.unparse(base)
                    if name.endswith(("Error", "Exception")):
                        found.append(f"{path.relative_to(PACKAGE)}:{node.name}({name})")
    return found


def test_no_module_defines_an_error_of_its_own() -> None:
    assert _exception_classes_outside_errors() == []


@pytest.mark.parametrize(
    ("error", "status", "exit_code"),
    [
        (errors.UnknownChoiceError("unknown area 'XX'"), 400, 2),
        (errors.UsageError("--start after --end"), 400, 2),
        (errors.DishonestDocumentError("document 'x': unit MAW"), 400, 2),
        (errors.AlertNotFoundError("no alert with id 7"), 404, 2),
        (errors.UnknownJobError("nightly", ["gap_fill"]), 404, 2),
        (errors.JobBusyError(3), 409, 1),
        (errors.MissingTokenError("set ENTSOE__API_TOKEN"), 409, 2),
        (errors.SettingsError("COLLECTION__AREAS: unknown area"), 409, 2),
        (errors.CollectionFailedError("1 of 2 series failed"), 502, 1),
        (errors.CoverageGapsError("DE_LU actual_load"), 502, 1),
        (errors.WebhookDeliveryError("HTTP 503", retryable=True), 502, 1),
    ],
)
def test_each_branch_has_one_status_and_one_exit_code(
    error: EnergyDataError, status: int, exit_code: int
) -> None:
    assert status_of(error) == status
    assert exit_code_of(error) == exit_code


def test_a_fault_has_neither_a_status_nor_an_exit_code() -> None:
    lost = errors.LeadershipLostError("the scheduler lock is no longer held")
    assert status_of(lost) is None  # answered as a logged 500
    assert exit_code_of(lost) is None  # left as a traceback worth reporting


def test_invalid_input_is_also_a_value_error_and_not_found_a_lookup_error() -> None:
    """Pydantic validators report a ``ValueError`` as a validation problem, not a 500."""
    assert issubclass(errors.UnknownChoiceError, ValueError)
    assert issubclass(errors.AlertNotFoundError, LookupError)
