"""`entsoe fetch` command (being built)."""
