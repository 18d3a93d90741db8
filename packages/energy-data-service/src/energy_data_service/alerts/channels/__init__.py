"""Where alert notices go: a signed webhook and email. Each channel raises on failure."""
