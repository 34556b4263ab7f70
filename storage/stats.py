"""Throughput report over a time window: what ``/v1/stats``, ``/metrics``, the
dashboard and ``kokoro-queue report`` show."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.jobs.states import ChunkStatus, JobStatus
from storage.db import utcnow
from storage.models import Chunk, Job

TIMELINE_BUCKETS = 60
CHUNKS_PER_BUCKET = 3
RECENT_JOBS = 10
# Chunks waiting for a worker: in the broker (queued) or behind their job's window (pending)
WAITING = (ChunkStatus.PENDING, ChunkStatus.QUEUED)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Breakdown:
    chunks: int = 0
    chars: int = 0
    audio_seconds: float = 0.0
    inference_seconds: float = 0.0
    peak_rss_mb: float | None = None
    rtfs: list[float] = field(default_factory=list)

    def add(self, chunk: Chunk) -> None:
        self.chunks += 1
        self.chars += chunk.chars
        self.audio_seconds += chunk.audio_seconds or 0.0
        self.inference_seconds += (chunk.inference_ms or 0.0) / 1000
        if chunk.audio_seconds:
            self.rtfs.append((chunk.inference_ms or 0.0) / 1000 / chunk.audio_seconds)
        if chunk.worker_rss_mb is not None:
            self.peak_rss_mb = max(self.peak_rss_mb or 0.0, chunk.worker_rss_mb)

    def summary(self) -> dict:
        return {
            "chunks": self.chunks,
            "chars": self.chars,
            "audio_seconds": round(self.audio_seconds, 3),
            "inference_seconds": round(self.inference_seconds, 3),
            "inference_rtf_p50": _round(percentile(self.rtfs, 50)),
            "peak_rss_mb": _round(self.peak_rss_mb, 1),
        }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def throughput_report(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    broker_queue_depth: int | None = None,
    owner: str | None = None,
) -> dict:
    """Figures over chunks finished in [since, until] (default: the last hour). The recent jobs
    listed are ``owner``'s only, when given (an API client's); all of them for the operator.

    Rates divide by the *active* span: from the first job's submission (or ``since``, if later)
    to the last chunk's finish (or ``until``, if earlier), so an idle hour does not dilute them.
    """
    until = until or utcnow()
    since = since or _hour_before(until)
    chunks = list(
        session.scalars(
            select(Chunk).where(
                Chunk.status == ChunkStatus.DONE,
                Chunk.reused.is_(False),  # made before: no synthesis of theirs to report
                Chunk.finished_at >= since,
                Chunk.finished_at <= until,
            )
        )
    )
    job_ids = {c.job_id for c in chunks}
    first_submit = (
        session.scalar(select(func.min(Job.created_at)).where(Job.id.in_(job_ids)))
        if job_ids
        else None
    )
    active_start = max(since, first_submit) if first_submit else since
    active_end = min(until, max(c.finished_at for c in chunks)) if chunks else until
    active_seconds = max((active_end - active_start).total_seconds(), 0.0)

    total = Breakdown()
    workers: dict[tuple[str, int], Breakdown] = {}
    providers: dict[str, Breakdown] = {}
    for chunk in chunks:
        total.add(chunk)
        workers.setdefault((chunk.worker_host or "?", chunk.worker_pid or 0), Breakdown()).add(
            chunk
        )
        providers.setdefault(chunk.provider or "?", Breakdown()).add(chunk)
    waits = [c.queue_wait_ms for c in chunks if c.queue_wait_ms is not None]
    stages = {
        stage: sum(getattr(c, f"{stage}_ms") or 0.0 for c in chunks)
        for stage in ("normalize", "phonemize", "inference", "encode")
    }
    chunk_ms = sum(stages.values())

    jobs_by_state = {state.value: 0 for state in JobStatus}
    for state, count in session.execute(select(Job.status, func.count()).group_by(Job.status)):
        jobs_by_state[state] = count
    queued_chunks = session.scalar(
        select(func.count()).select_from(Chunk).where(Chunk.status.in_(WAITING))
    )

    return {
        "window": {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "active_seconds": round(active_seconds, 3),
        },
        "jobs": jobs_by_state,
        "chunks_done": total.chunks,
        "chars_done": total.chars,
        "audio_seconds": round(total.audio_seconds, 3),
        "chars_per_second": _rate(total.chars, active_seconds),
        "audio_seconds_per_wall_second": _rate(total.audio_seconds, active_seconds),
        "inference_rtf": {
            "p50": _round(percentile(total.rtfs, 50)),
            "p95": _round(percentile(total.rtfs, 95)),
        },
        "queue_wait_ms": {
            "p50": _round(percentile(waits, 50), 1),
            "p95": _round(percentile(waits, 95), 1),
        },
        # Where a chunk's time goes: spoken-form normalization, phonemes, the model, encoding
        "chunk_time_share": {
            stage: _round(ms / chunk_ms, 6) if chunk_ms else None for stage, ms in stages.items()
        },
        "queue_depth": {"chunks_queued": queued_chunks, "broker_messages": broker_queue_depth},
        "chunks_reused": session.scalar(
            select(func.count())
            .select_from(Chunk)
            .where(Chunk.reused.is_(True), Chunk.finished_at >= since, Chunk.finished_at <= until)
        ),
        "storage": storage_bytes(session),
        "workers": [
            {"host": host, "pid": pid, **b.summary()} for (host, pid), b in sorted(workers.items())
        ],
        "providers": [{"provider": name, **b.summary()} for name, b in sorted(providers.items())],
        "timeline": _timeline(chunks, active_start, active_end),
        "recent_jobs": _recent_jobs(session, owner),
    }


def storage_bytes(session: Session) -> dict:
    """Bytes kept in storage: chunk audio (each file once, however many jobs hold it) and
    finished files (each job's final file)."""
    per_file = (
        select(func.max(Chunk.audio_bytes).label("size"))
        .where(Chunk.audio_key.is_not(None))
        .group_by(Chunk.audio_key)
        .subquery()
    )
    chunk_bytes = session.scalar(select(func.coalesce(func.sum(per_file.c.size), 0)))
    file_bytes = session.scalar(select(func.coalesce(func.sum(Job.audio_bytes), 0)))
    return {"chunk_audio_bytes": int(chunk_bytes), "finished_file_bytes": int(file_bytes)}


def _hour_before(moment: datetime) -> datetime:
    """An hour earlier, or the first moment a datetime holds (for a moment in year 1's first
    hour)."""
    try:
        return moment - timedelta(hours=1)
    except OverflowError:
        return datetime.min.replace(tzinfo=moment.tzinfo)


def _rate(amount: float, seconds: float) -> float | None:
    return round(amount / seconds, 3) if seconds > 0 else None


def _timeline(chunks: list[Chunk], start: datetime, end: datetime) -> list[dict]:
    """Audio seconds and characters finished per bucket, as rates per wall-second."""
    span = (end - start).total_seconds()
    if not chunks or span <= 0:
        return []
    # A few chunks per bucket on average: a bucket narrower than a chunk's duration would show
    # spikes and gaps rather than a rate
    count = max(1, min(TIMELINE_BUCKETS, len(chunks) // CHUNKS_PER_BUCKET))
    width = span / count
    buckets = [[0.0, 0] for _ in range(count)]
    for chunk in chunks:
        offset = (chunk.finished_at - start).total_seconds()
        bucket = buckets[min(count - 1, max(0, int(offset / width)))]
        bucket[0] += chunk.audio_seconds or 0.0
        bucket[1] += chunk.chars
    return [
        {
            "t": (start + timedelta(seconds=width * (i + 1))).isoformat(),
            "audio_seconds_per_second": round(audio / width, 3),
            "chars_per_second": round(chars / width, 3),
        }
        for i, (audio, chars) in enumerate(buckets)
    ]


def _recent_jobs(session: Session, owner: str | None) -> list[dict]:
    query = select(Job).order_by(Job.created_at.desc()).limit(RECENT_JOBS)
    if owner is not None:
        query = query.where(Job.owner == owner)
    jobs = session.scalars(query)
    return [
        {
            "id": job.id,
            "status": job.status,
            "title": job.title,
            "chars": job.chars_total,
            "percent": round(job.percent_done, 1),
            "audio_seconds": job.audio_seconds,
            "wall_seconds": job.wall_seconds,
            "realtime_factor": job.realtime_factor,
            "created_at": job.created_at.isoformat(),
        }
        for job in jobs
    ]
