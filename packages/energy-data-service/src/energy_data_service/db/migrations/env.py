"""Alembic environment: the energy data service's tables, versioned in ``alembic_version``.

``energy-data`` always migrates through ``db.migrate.upgrade``, which hands its connection over;
the ``alembic`` command works too (see ``service_common.migrations.run_environment``).
"""

from __future__ import annotations

from service_common.migrations import run_environment

from energy_data_service.db.tables import metadata

run_environment(metadata)
