"""`energy-data export` command (being built)."""
