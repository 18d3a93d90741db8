"""Alembic environment: the command store's tables, versioned in ``pusher_alembic_version``.

The store always migrates through ``store.migrate.upgrade``, which hands its connection over;
the ``alembic`` command works too (see ``service_common.migrations.run_environment``). The own
version table lets the pusher and the energy data service share a database.
"""

from __future__ import annotations

from service_common.migrations import run_environment

from pusher_api.store.schema import VERSION_TABLE, metadata

run_environment(metadata, VERSION_TABLE)
