"""Use cases: gap filling, backfill (and the services other issues add)."""
