"""`energy-data imports` command (being built)."""
