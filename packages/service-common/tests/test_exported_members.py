"""The package root is the way in: ``__all__`` lists exactly the public names it exports."""

from __future__ import annotations

import pytest
import service_common
import service_common.testing


@pytest.mark.parametrize("module", [service_common, service_common.testing])
def test_all_is_sorted_and_every_name_resolves(module: object) -> None:
    exported = module.__all__  # type: ignore[attr-defined]
    assert exported == sorted(exported)
    public = {name for name in vars(module) if not name.startswith("_")}
    submodules = {name for name in public if type(getattr(module, name)).__name__ == "module"}
    assert set(exported) == public - submodules
