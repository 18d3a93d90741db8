"""`energy-data quality` command (being built)."""
