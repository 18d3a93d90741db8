"""`energy-data status` command (being built)."""
