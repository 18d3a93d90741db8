"""`entsoe parse` command (being built)."""
