"""All SQL of the service, one module per table family."""
