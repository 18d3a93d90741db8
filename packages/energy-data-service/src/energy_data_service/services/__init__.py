"""Use cases, one module each: ``collection`` (gap filling and ranges), ``backfill`` (chunked
history), ``scheduler`` with its jobs (``collection_jobs``, ``monitoring_jobs``) and
``leader_election``, ``alerting``, ``run_monitoring`` and ``quality_reports``.

Modules are named for what they do rather than after the packages they use (``alerts/``,
``monitoring/``, ``quality/`` hold the rules, metrics and checks), so ``services.alerting`` and
``alerts`` never read as the same thing."""
