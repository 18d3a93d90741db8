"""Test helpers for the pusher API and its connectors, shipped so every suite can reuse them."""
