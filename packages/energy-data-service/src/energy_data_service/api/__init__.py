"""REST API of the energy data service (FastAPI): one router per resource under ``routes/``."""
