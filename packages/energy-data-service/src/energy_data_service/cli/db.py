"""`energy-data db` command (being built)."""
