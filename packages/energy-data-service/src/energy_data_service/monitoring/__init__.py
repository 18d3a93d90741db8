"""Monitoring vocabulary: when each series should be published, and the Prometheus metrics."""
