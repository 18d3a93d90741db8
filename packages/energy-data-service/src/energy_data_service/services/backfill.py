"""``BackfillService``: years of history, chunk by chunk, resumable after ``kill -9``.

The chunk plan is the client's own split of the range (``Query.chunks()``: one month per
request for load and forecasts, 100 days for prices, on the area's local calendar), so one
progress row is one platform request. Progress is persisted per area × data type × chunk.

Crash safety: a chunk's points are upserts (idempotent), and the chunk is marked ``done`` in
the same transaction as the last of its points. After a ``kill -9`` a chunk is therefore
either stored and done, or not done (and fetched again on ``--resume``): no gap, no duplicate.
A failed chunk is marked ``failed`` with the error and the job ends ``failed``; resuming
fetches failed and pending chunks only.

A job always ends: while it runs a heartbeat renews its lease (``BACKFILL__LEASE_SECONDS``), so a
``kill -9`` leaves a job that reads ``interrupted`` once the lease runs out, and ``--resume`` or
``serve`` takes it over. Cancellation ends it ``cancelled``, any exception ``failed`` with the
error, and a stop of the process (Ctrl-C, shutdown) releases the lease so it is resumable.

A job has one writer: each run claims it under a new owner token, and every write of the run
(plan, chunk, failure, final status) is fenced by that token in its own transaction
(``BackfillRepository.fence``). A run that was taken over — it stalled past its lease and
another process resumed the job — stops at its next write without making it, and reports
``interrupted``; the heartbeat noticing the lost lease only makes it stop sooner.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from entsoe_client import PLATFORM_TABLE, Area, AuthenticationError, DataType, Query
from sqlalchemy.ext.asyncio import AsyncEngine

from energy_data_service.collectors.entsoe_collector import EntsoeCollector
from energy_data_service.coverage import Interval, fraction_covered, holes
from energy_data_service.domain import FIXED_STEPS, older_objects_frozen, resolve_border
from energy_data_service.errors import (
    CoverageGapsError,
    JobBusyError,
    JobTakenOverError,
    TermOverError,
    UsageError,
)
from energy_data_service.processors import process_documents
from energy_data_service.processors.transmission import CONTRACT_TYPED
from energy_data_service.repositories.backfill import (
    DEFAULT_LEASE_SECONDS,
    BackfillChunk,
    BackfillRepository,
    new_owner_token,
)
from energy_data_service.repositories.points import PointRepository
from energy_data_service.repositories.runs import CollectionRun, RunRepository
from energy_data_service.series_domains import is_directional
from energy_data_service.settings import CollectionSettings

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class SeriesBackfill:
    """Outcome for one area × data type of a job."""

    area: Area
    data_type: str
    chunks: int
    skipped: int = 0
    done: int = 0
    failed: int = 0
    points: int = 0
    errors: list[str] = field(default_factory=list)
    coverage: float | None = None
    response_ms: float = 0.0
    processing_ms: float = 0.0
    out_area: Area | None = None
    """Where the energy comes from, for directional data (``area`` is where it goes)."""


Border = tuple[Area, Area]
"""(area, out_area) of directional data: where the energy goes, where it comes from."""


def _identity(data_type: str, out_area: Area | None) -> dict[str, str]:
    """The series one backfill plan fills: its border, and the horizon the collector asks for
    (another horizon's points fill no hole of it)."""
    identity = {} if out_area is None else {"out_area_code": out_area.eic}
    if data_type in CONTRACT_TYPED:
        rule = PLATFORM_TABLE[DataType(data_type)]
        identity["contract_type"] = rule.default_contract_type or ""
    return identity


@dataclass(slots=True)
class BackfillReport:
    """Outcome of one backfill job."""

    job_id: int
    series: list[SeriesBackfill]
    status: str = "running"
    seconds: float = 0.0

    @property
    def points(self) -> int:
        """Points stored by this run."""
        return sum(s.points for s in self.series)


@dataclass(frozen=True, slots=True)
class Coverage:
    """How complete one area × data type is over a window."""

    area: Area
    data_type: str
    start: datetime
    end: datetime
    fraction: float
    holes: list[Interval]


ProgressCallback = Callable[[SeriesBackfill, int], None]
"""Called after each stored chunk with the series' state and the number of chunks just done."""


class BackfillService:
    """Plans, runs, resumes and measures backfills."""

    def __init__(
        self,
        *,
        collector: EntsoeCollector,
        engine: AsyncEngine,
        points: PointRepository,
        backfills: BackfillRepository,
        runs: RunRepository,
        collection: CollectionSettings,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self._collection = collection
        self._lease = lease_seconds
        self._lost: set[str] = set()  # owner tokens whose lease another claim took
        self._collector = collector
        self._engine = engine
        self._points = points
        self._backfills = backfills
        self._runs = runs

    @staticmethod
    def plan(
        area: Area,
        data_type: str,
        start: datetime,
        end: datetime,
        out_area: Area | None = None,
    ) -> list[Interval]:
        """The chunks of ``[start, end)``: exactly the requests the client would send
        (directional data: for the border ``area`` ← ``out_area``)."""
        return Query.build(data_type, area, start, end, out_area=out_area).chunks()

    async def start_job(
        self,
        areas: Iterable[Area],
        data_types: Iterable[str],
        start: datetime,
        end: datetime,
        borders: Iterable[Border] = (),
    ) -> int:
        """Register a job (e.g. from the API) and return its id; ``run`` does the work."""
        return await self._backfills.create_job(
            [a.eic for a in areas],
            list(data_types),
            start,
            end,
            lease_seconds=self._lease,
            borders=_border_codes(borders),
        )

    async def claim(self, job_id: int) -> str | None:
        """Take over a job nobody works on (``serve``); its new owner token, None if taken.

        Pass the token to ``run_job(owner=...)``: the run works under this claim.
        """
        owner = new_owner_token()
        return owner if await self._backfills.claim_job(job_id, owner, self._lease) else None

    @contextlib.asynccontextmanager
    async def _leased(self, job_id: int, owner: str) -> AsyncIterator[None]:
        """Renew the job's lease while the body runs; a lost lease stops the job's work."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(self._lease / 3)
                try:
                    if not await self._backfills.renew_lease(job_id, owner, self._lease):
                        log.warning("backfill.lease_lost", job_id=job_id)
                        self._lost.add(owner)
                        return
                except Exception as error:  # an outage: the next beat tries again
                    log.warning("backfill.lease_not_renewed", job_id=job_id, error=str(error))

        heartbeat = asyncio.create_task(beat(), name=f"backfill-lease:{job_id}")
        try:
            yield
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            self._lost.discard(owner)

    async def _stopping(self, job_id: int, owner: str) -> bool:
        """Cancelled by someone, or taken over by another claim."""
        return owner in self._lost or await self._backfills.is_cancelled(job_id)

    async def run(
        self,
        areas: Iterable[Area],
        data_types: Iterable[str],
        start: datetime,
        end: datetime,
        *,
        resume: bool = False,
        job_id: int | None = None,
        owner: str | None = None,
        on_planned: Callable[[int], None] | None = None,
        on_progress: ProgressCallback | None = None,
        borders: Iterable[Border] = (),
    ) -> BackfillReport:
        """Fetch every chunk not yet done (with ``resume``) or every chunk (without).

        ``owner``: the token of a claim of ``job_id`` already taken (``claim``). Directional
        data types (flows, exchanges, capacities) are loaded for each of ``borders``, the
        others for each of ``areas``.
        """
        with older_objects_frozen():
            return await self._run(
                areas,
                data_types,
                start,
                end,
                list(borders),
                resume=resume,
                job_id=job_id,
                claimed=owner,
                on_planned=on_planned,
                on_progress=on_progress,
            )

    async def _run(
        self,
        areas: Iterable[Area],
        data_types: Iterable[str],
        start: datetime,
        end: datetime,
        borders: list[Border],
        *,
        resume: bool,
        job_id: int | None,
        claimed: str | None,
        on_planned: Callable[[int], None] | None,
        on_progress: ProgressCallback | None,
    ) -> BackfillReport:
        areas, data_types = list(areas), list(data_types)
        plans = _series_plans(areas, data_types, borders)  # refuses before a job exists
        owner = claimed or new_owner_token()
        if job_id is None and resume:
            job_id = await self._backfills.resumable_job(
                [a.eic for a in areas], data_types, start, end, _border_codes(borders)
            )
            if job_id is not None and not await self._claim(job_id, owner):
                job_id = None  # taken meanwhile: work beside it under a job of our own
        if job_id is None:
            job_id = await self._backfills.create_job(
                [a.eic for a in areas],
                data_types,
                start,
                end,
                owner=owner,
                lease_seconds=self._lease,
                borders=_border_codes(borders),
            )
        elif claimed is None and not await self._claim(job_id, owner):
            raise JobBusyError(job_id)
        async with self._leased(job_id, owner):
            try:
                return await self._run_owned(
                    job_id, owner, plans, start, end, resume, on_planned, on_progress
                )
            except AuthenticationError:
                await self._backfills.finish_job(
                    job_id, "failed", "the platform rejected the token", owner=owner
                )
                raise
            except Exception as error:
                await self._backfills.finish_job(
                    job_id, "failed", f"{type(error).__name__}: {error}", owner=owner
                )
                raise
            except BaseException:  # Ctrl-C, shutdown: resumable at once by anyone
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._backfills.release_job(job_id, owner))
                raise

    async def _claim(self, job_id: int, owner: str) -> bool:
        return await self._backfills.claim_job(job_id, owner, self._lease)

    async def _run_owned(
        self,
        job_id: int,
        owner: str,
        wanted: list[tuple[Area, str, Area | None]],
        start: datetime,
        end: datetime,
        resume: bool,
        on_planned: Callable[[int], None] | None,
        on_progress: ProgressCallback | None,
    ) -> BackfillReport:
        began = time.perf_counter()
        report = BackfillReport(job_id, [])
        plans: list[tuple[SeriesBackfill, list[BackfillChunk]]] = []
        try:
            for area, data_type, out_area in wanted:
                planned = await self._backfills.plan_chunks(
                    job_id,
                    area.eic,
                    data_type,
                    self.plan(area, data_type, start, end, out_area),
                    resume=resume,
                    owner=owner,
                    out_area_code=out_area.eic if out_area is not None else "",
                )
                todo = [c for c in planned if c.status != "done"]
                series = SeriesBackfill(
                    area,
                    data_type,
                    len(planned),
                    skipped=len(planned) - len(todo),
                    out_area=out_area,
                )
                report.series.append(series)
                plans.append((series, todo))
            if on_planned is not None:
                on_planned(sum(len(todo) for _, todo in plans))
            for series, todo in plans:
                if await self._stopping(job_id, owner):
                    break
                await self._run_series(job_id, owner, series, todo, on_progress)
        except JobTakenOverError:
            log.warning("backfill.taken_over", job_id=job_id, owner=owner)
            self._lost.add(owner)
        if owner in self._lost:
            report.status = "interrupted"  # another claim owns the job now; it reports
        elif await self._backfills.is_cancelled(job_id):
            report.status = "cancelled"
        else:
            report.status = "failed" if any(s.failed for s in report.series) else "done"
        errors = "; ".join(e for s in report.series for e in s.errors) or None
        if report.status != "interrupted":
            await self._backfills.finish_job(job_id, report.status, errors, owner=owner)
        for series in report.series:
            series.coverage = await self.fraction_covered(
                series.area, series.data_type, start, end, series.out_area
            )
        report.seconds = time.perf_counter() - began
        return report

    async def run_job(
        self, job_id: int, *, resume: bool = True, owner: str | None = None
    ) -> BackfillReport:
        """Run a job registered earlier (``start_job``, the API), skipping done chunks;
        ``owner`` is the token of a claim already taken (``claim``)."""
        job = await self._backfills.get_job(job_id)
        if job is None:
            raise LookupError(f"no backfill job {job_id}")
        return await self.run(
            [Area.lookup(code) for code in job.areas],
            job.data_types,
            job.start,
            job.end,
            resume=resume,
            job_id=job_id,
            owner=owner,
            borders=[(Area.lookup(a), Area.lookup(b)) for a, b in job.borders or ()],
        )

    async def _run_series(
        self,
        job_id: int,
        owner: str,
        series: SeriesBackfill,
        todo: list[BackfillChunk],
        on_progress: ProgressCallback | None,
    ) -> None:
        started = datetime.now(UTC)
        error: Exception | None = None
        for run in _consecutive(todo):
            waiting = list(run)
            while waiting:
                if await self._stopping(job_id, owner):
                    break
                try:
                    await self._fetch_run(series, waiting, on_progress, job_id, owner)
                    break
                except (AuthenticationError, JobTakenOverError, TermOverError):
                    raise
                except Exception as failure:
                    # the client yields chunks in time order: the first one not done failed
                    error = failure
                    await self._backfills.mark_failed(
                        waiting[0].id, str(failure), job_id=job_id, owner=owner
                    )
                    series.failed += 1
                    series.errors.append(
                        f"{series.area.short_name} {series.data_type} "
                        f"{waiting[0].chunk_start:%Y-%m-%d}: {failure}"
                    )
                    log.warning("backfill.chunk_failed", error=str(failure))
                    del waiting[0]
            if await self._stopping(job_id, owner):
                break
        if owner in self._lost:
            return  # taken over: the new owner's run is the one to record
        await self._runs.record(
            CollectionRun(
                run_kind="backfill",
                area_code=series.area.eic,
                data_type=series.data_type,
                window_start=todo[0].chunk_start if todo else None,
                window_end=todo[-1].chunk_end if todo else None,
                started_at=started,
                finished_at=datetime.now(UTC),
                points=series.points,
                success=error is None,
                error_class=type(error).__name__ if error else None,
                error_text=str(error) if error else None,
                platform_response_ms=series.response_ms,
                processing_ms=series.processing_ms,
            )
        )

    async def fill_coverage_gaps(self) -> int:
        """Fetch every hole between the first and last stored point of each configured series.

        The daily safety net behind gap filling (which only looks back a few days): history
        loaded long ago that lost a chunk gets it back. Returns the points stored; raises
        ``CoverageGapsError`` naming the series whose holes could not be fetched.
        """
        stored = 0
        failures: list[str] = []
        types = self._collection.data_types
        borders = [resolve_border(pair) for pair in self._collection.borders]
        wanted = _series_plans(
            [Area.lookup(name) for name in self._collection.areas],
            [t for t in types if not is_directional(t) or borders],
            [(target, source) for source, target in borders],
        )
        for area, data_type, out_area in wanted:
            identity = _identity(data_type, out_area)
            bounds = [
                b
                for b in await self._points.series_bounds(area.eic, data_type)
                if all(getattr(b, k) == v for k, v in identity.items())
            ]
            if not bounds:
                continue
            first = min(b.first for b in bounds)
            last = max(b.last for b in bounds)
            found = (await self.coverage(area, data_type, first, last, out_area)).holes
            if not found:
                continue
            started = datetime.now(UTC)
            points = 0
            error: Exception | None = None
            for start, end in found:
                try:
                    chunks = self._collector.chunks(area, data_type, start, end, out_area=out_area)
                    async for chunk in chunks:
                        points += await self._points.upsert(
                            process_documents(
                                chunk.documents,
                                datetime.now(UTC),
                                data_type=data_type,
                                area_code=area.eic,
                            )
                        )
                except (AuthenticationError, TermOverError):
                    raise  # a rejected token or a deposed leader: nothing more to do
                except Exception as failure:
                    error = failure
                    failures.append(f"{area.short_name} {data_type} {start:%Y-%m-%d}: {failure}")
            stored += points
            await self._runs.record(
                CollectionRun(
                    run_kind="gap_fill",
                    area_code=area.eic,
                    data_type=data_type,
                    window_start=first,
                    window_end=last,
                    started_at=started,
                    finished_at=datetime.now(UTC),
                    points=points,
                    success=error is None,
                    error_class=type(error).__name__ if error else None,
                    error_text=str(error) if error else None,
                )
            )
        if failures:
            raise CoverageGapsError("; ".join(failures))
        return stored

    async def _fetch_run(
        self,
        series: SeriesBackfill,
        waiting: list[BackfillChunk],
        on_progress: ProgressCallback | None,
        job_id: int,
        owner: str,
    ) -> None:
        """Fetch adjacent chunks as one range; chunks leave ``waiting`` as they are stored,
        each in one transaction fenced by the run's claim."""
        chunks = self._collector.chunks(
            series.area,
            series.data_type,
            waiting[0].chunk_start,
            waiting[-1].chunk_end,
            out_area=series.out_area,
        )
        async with aclosing(chunks):
            async for chunk in chunks:
                tick = time.perf_counter()
                points = process_documents(
                    chunk.documents,
                    datetime.now(UTC),
                    data_type=series.data_type,
                    area_code=series.area.eic,
                )
                finished = [c for c in waiting if c.chunk_end <= chunk.end]
                async with self._engine.begin() as connection:
                    await self._backfills.fence(connection, job_id, owner)
                    stored = await self._points.upsert(points, connection)
                    for done in finished:
                        await self._backfills.mark_done(done.id, stored, connection)
                del waiting[: len(finished)]
                series.points += stored
                series.done += len(finished)
                series.response_ms += chunk.response_ms
                series.processing_ms += (time.perf_counter() - tick) * 1000
                if on_progress is not None:
                    on_progress(series, len(finished))
                if finished and await self._stopping(job_id, owner):
                    break

    async def fraction_covered(
        self,
        area: Area,
        data_type: str,
        start: datetime,
        end: datetime,
        out_area: Area | None = None,
    ) -> float:
        """``coverage(...).fraction``, counted in SQL when that is exact, else by ``coverage``.

        Exact without reading the points back when one fixed-step resolution is stored in the
        window and every start lies on its grid from ``start``: the intervals are then disjoint
        cells, only the last may reach past ``end``, and with whole-second bounds every length
        is a whole number of seconds, so the sum is the one ``coverage`` makes.
        """
        if not start.microsecond and not end.microsecond and out_area is None:
            counts = await self._points.grid_coverage(area.eic, data_type, start, end)
            if len(counts) == 1:
                ((resolution, grid),) = counts.items()
                step = FIXED_STEPS.get(resolution)
                if step is not None and not grid.off_grid:
                    total = (end - start).total_seconds()
                    if total <= 0:
                        return 1.0
                    overshoot = max(grid.last + step - end, timedelta(0))
                    stored = (grid.starts * step - overshoot).total_seconds()
                    return max(0.0, 1.0 - (total - stored) / total)
        return (await self.coverage(area, data_type, start, end, out_area)).fraction

    async def coverage(
        self,
        area: Area,
        data_type: str,
        start: datetime,
        end: datetime,
        out_area: Area | None = None,
    ) -> Coverage:
        """Share of ``[start, end)`` covered by stored points, and the holes (directional
        data: of the border ``area`` ← ``out_area``)."""
        present = await self._points.present_intervals(
            area.eic, data_type, start, end, **_identity(data_type, out_area)
        )
        found = holes(present, start, end, area.time_zone)
        return Coverage(area, data_type, start, end, fraction_covered(found, start, end), found)


def _consecutive(chunks: list[BackfillChunk]) -> list[list[BackfillChunk]]:
    """Runs of adjacent chunks, each fetched as one range (the client pipelines its chunks)."""
    runs: list[list[BackfillChunk]] = []
    for chunk in chunks:
        if runs and runs[-1][-1].chunk_end == chunk.chunk_start:
            runs[-1].append(chunk)
        else:
            runs.append([chunk])
    return runs


def _border_codes(borders: Iterable[Border]) -> list[list[str]] | None:
    codes = [[area.eic, out_area.eic] for area, out_area in borders]
    return codes or None


def _series_plans(
    areas: list[Area], data_types: list[str], borders: list[Border]
) -> list[tuple[Area, str, Area | None]]:
    """(area, data type, out area) of every series a job loads: directional types once per
    border, the others once per area. A directional type without a border is refused."""
    directional = [t for t in data_types if is_directional(t)]
    if directional and not borders:
        raise UsageError(
            f"{directional[0]} is directional: give the borders to load (area ← out_area), "
            "e.g. --out-area DE_LU or COLLECTION__BORDERS=DE_LU>FR"
        )
    plans: list[tuple[Area, str, Area | None]] = [
        (area, t, None) for area in areas for t in data_types if t not in directional
    ]
    plans += [(area, t, out_area) for area, out_area in borders for t in directional]
    return plans
