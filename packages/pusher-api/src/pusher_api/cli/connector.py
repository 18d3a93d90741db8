"""`pusher-api connector` command (being built)."""
