"""HTTP routers: `commands` (v1 commands API) and `health` (health, status, metrics)."""
