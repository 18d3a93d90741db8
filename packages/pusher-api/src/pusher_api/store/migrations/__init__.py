"""Alembic migrations of the pusher's command store (revisions under ``versions/``)."""
