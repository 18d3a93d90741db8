"""`pusher-api serve` command (being built)."""
