"""The built-in dashboard: one page at ``/`` and its static assets under ``/dashboard/``.

Plain JavaScript modules and a vendored chart library (``static/vendor``); everything is served
by the service itself, so the page works offline and makes no request off the machine.
"""

from energy_data_service.dashboard.routes import router

__all__ = ["router"]
