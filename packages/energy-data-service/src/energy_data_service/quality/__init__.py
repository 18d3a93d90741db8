"""Data-quality checks as pure functions on one series' points; no I/O here.

``score.assess_day`` runs every check for one series and one local day and combines them into the
0–100 score that ``services.quality_reports`` stores and reports.
"""
