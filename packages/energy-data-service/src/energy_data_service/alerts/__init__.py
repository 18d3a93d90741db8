"""Alert rules and notification channels used by ``services.alerting``."""
