"""`energy-data serve` command (being built)."""
