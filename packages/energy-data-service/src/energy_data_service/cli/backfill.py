"""`energy-data backfill` command (being built)."""
