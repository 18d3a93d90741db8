"""Alert rules and notification channels used by ``services.alert_service``."""
