"""`energy-data collect` command (being built)."""
