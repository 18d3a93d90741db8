"""Every error the energy data service raises on purpose, in one hierarchy.

    EnergyDataError
    ├── ConfigurationError                 - the service is set up wrong or incompletely
    │   ├── SettingsError                  - an invalid setting; the message names the variable
    │   └── MissingTokenError              - the platform is needed but ENTSOE__API_TOKEN is unset
    ├── InvalidInputError (also ValueError) - what was asked for cannot be done as asked
    │   ├── UsageError                     - a mistake on the command line
    │   ├── UnknownChoiceError             - not an area / data type we know (lists close matches)
    │   └── DocumentError                  - an imported document is refused whole
    │       ├── UnsupportedDocumentError   - not a kind of document the service stores
    │       ├── NoCatalogueSeriesError     - none of its series is one the catalogue stores
    │       └── DishonestDocumentError     - its content contradicts its type
    ├── NotFoundError (also LookupError)   - no such thing
    │   ├── AlertNotFoundError             - no alert with that id
    │   └── UnknownJobError                - no scheduled job by that name (lists the jobs)
    ├── ConflictError                      - the thing exists but is in the way
    │   ├── JobBusyError                   - another live process works on the backfill job
    │   └── JobTakenOverError              - this run's backfill job was claimed by another run
    ├── CollectionError                    - the platform's data could not all be fetched
    │   ├── CollectionFailedError          - some series of a scheduled run failed
    │   └── CoverageGapsError              - some holes of the stored history stayed open
    ├── DeliveryError                      - an alert notice did not reach its receiver
    │   └── WebhookDeliveryError           - the receiver refused the notice
    └── LeadershipLostError                - this process no longer holds the scheduler lock
        └── TermOverError                  - a job's write refused: its leader's term is over

The client's own errors (``entsoe_client.EntsoeError``: a rejected token, a refused query) pass
through unchanged: wrapping them would hide which one it was.

A database outage has no class here. It arrives as the driver's error (a refused connection, a
pool timeout, SQLite busy) from wherever the query ran, and ``is_database_outage`` tells it from
a fault by its cause chain; wrapping every query to re-raise it would add code without adding
meaning. The two ways out consult both: ``api/errors.py`` maps the tree to HTTP status codes in
one table (an outage → 503, anything else unknown → a logged 500) and the CLI maps it to exit
codes and one-line messages.
"""

from __future__ import annotations


class EnergyDataError(Exception):
    """Base of every error raised on purpose by ``energy_data_service``."""


class ConfigurationError(EnergyDataError):
    """The service cannot do this with its current settings; an operator has to change them."""


class SettingsError(ConfigurationError):
    """The environment holds an invalid setting; the message names the variable(s)."""


class MissingTokenError(ConfigurationError):
    """The platform is needed but no token is configured."""


class InvalidInputError(EnergyDataError, ValueError):
    """The request or command asks for something that cannot be done as asked.

    Also a ``ValueError``, so pydantic validators that raise it report a validation problem.
    """


class UsageError(InvalidInputError):
    """A mistake in the command line; the message says what to change."""


class UnknownChoiceError(InvalidInputError):
    """A name that is not one of a closed set; the message lists close matches or all choices."""


class DocumentError(InvalidInputError):
    """An imported document is refused whole; the message names the document and the reason."""


class UnsupportedDocumentError(DocumentError):
    """A document this service does not store (outages, bids, …, or no market document)."""


class NoCatalogueSeriesError(DocumentError):
    """A document of a known type holding none of the series the catalogue stores."""


class DishonestDocumentError(DocumentError):
    """A document whose content contradicts its type, or holds values no series can have."""


class NotFoundError(EnergyDataError, LookupError):
    """The thing asked for does not exist."""


class AlertNotFoundError(NotFoundError):
    """No alert with that id."""


class UnknownJobError(NotFoundError):
    """No scheduled job by that name; the message lists the jobs there are."""

    def __init__(self, job_id: str, known: list[str]) -> None:
        super().__init__(f"unknown job {job_id!r}; known jobs: {', '.join(known)}")
        self.job_id = job_id
        self.known = known


class ConflictError(EnergyDataError):
    """The thing exists, but its state does not allow what was asked."""


class JobBusyError(ConflictError):
    """Another live process works on the job; wait for it or cancel it first."""

    def __init__(self, job_id: int) -> None:
        super().__init__(
            f"backfill job {job_id} is being worked on by another live process; "
            "wait for it to finish, or cancel it first"
        )
        self.job_id = job_id


class JobTakenOverError(ConflictError):
    """The backfill job is no longer this run's: another claim took it over, or it ended.

    Raised by the fence in front of every write of a run, so the run stops without writing.
    """

    def __init__(self, job_id: int) -> None:
        super().__init__(
            f"backfill job {job_id} was taken over by another process (or ended): "
            "this run stops without writing"
        )
        self.job_id = job_id


class CollectionError(EnergyDataError):
    """Data of the platform could not all be fetched and stored; the message lists what failed."""


class CollectionFailedError(CollectionError):
    """Some series of a scheduled run failed; the message lists them with their errors."""


class CoverageGapsError(CollectionError):
    """Some holes of the stored history could not be fetched; the message lists them."""


class DeliveryError(EnergyDataError):
    """An alert notice did not reach its receiver (after the channel's retries)."""


class WebhookDeliveryError(DeliveryError):
    """The receiver did not accept the notice; ``retryable`` says whether to try again."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class LeadershipLostError(EnergyDataError):
    """The session no longer holds the scheduler lock."""


class TermOverError(LeadershipLostError):
    """A scheduled job tried to write after the term it started in ended (a newer leader was
    elected meanwhile): the write is refused and the job stops, so a deposed leader's job never
    writes beside the new leader's."""

    def __init__(self, term: int, newest: int | None) -> None:
        later = f"term {newest} began" if newest is not None else "its row is gone"
        super().__init__(f"leader term {term} is over ({later}): the job's write was refused")
        self.term = term
        self.newest = newest
