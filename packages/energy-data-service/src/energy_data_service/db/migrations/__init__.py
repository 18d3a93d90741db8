"""Alembic migrations of the energy data service (revisions under ``versions/``)."""
