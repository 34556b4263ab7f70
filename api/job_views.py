"""Response bodies built from stored rows: a job, a batch, and the job's ETag."""

import hashlib
from datetime import UTC, datetime

from api.book_details import book_fields
from api.proof_views import proof_out
from api.schemas import (
    BatchOut,
    CallbackOut,
    ChapterLevel,
    DeliveryOut,
    JobLinks,
    JobOut,
    Progress,
)
from core.audio.formats import AudioFormat
from core.audio.loudness import Loudness
from core.jobs.states import JobStatus
from core.voices.catalog import language_warnings
from storage.batches import batch_status
from storage.models import Job


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        status=job.status,
        voice=job.voice,
        speed=job.speed,
        lang=job.lang,
        format=AudioFormat(job.format),
        loudness=Loudness(job.loudness),
        levels=[ChapterLevel(**level) for level in job.chapter_levels]
        if job.chapter_levels
        else None,
        title=job.title,
        author=job.author,
        **book_fields(job),
        chapters=job.chapters,
        priority=job.priority,
        queue=job.queue,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        progress=Progress.of(job.chunks_done, job.chunks_total, job.chars_done, job.chars_total),
        audio_seconds=job.audio_seconds,
        wall_seconds=job.wall_seconds,
        realtime_factor=job.realtime_factor,
        eta_seconds=eta_seconds(job),
        error=job.error,
        callback_url=job.callback_url,
        callback=CallbackOut(
            attempts=job.callback_attempts or 0,
            delivered_at=job.callback_delivered_at,
            error=job.callback_error,
        )
        if job.callback_url
        else None,
        deliveries=[DeliveryOut(**delivery) for delivery in job.deliveries or []],
        warnings=language_warnings([job.voice], job.lang),
        links=JobLinks(
            self=f"/v1/jobs/{job.id}",
            audio=f"/v1/jobs/{job.id}/audio",
            events=f"/v1/jobs/{job.id}/events",
            stream=f"/v1/jobs/{job.id}/stream",
            revisions=f"/v1/jobs/{job.id}/revisions",
        ),
        revision_of=job.revision_of,
        chunks_reused=job.chunks_reused or 0,
        chunks_to_make=job.chunks_total - (job.chunks_reused or 0),
        proof=proof_out(job),
    )


def eta_seconds(job: Job) -> float | None:
    """Remaining characters at the rate this job has run so far."""
    if job.status != JobStatus.RUNNING or not job.started_at or not job.chars_done:
        return None
    elapsed = (datetime.now(UTC) - job.started_at).total_seconds()
    return round(elapsed / job.chars_done * (job.chars_total - job.chars_done), 1)


def etag(job: Job) -> str:
    state = f"{job.status}|{job.chunks_done}|{job.updated_at.isoformat()}|{job.finished_at}"
    return '"' + hashlib.sha1(state.encode()).hexdigest()[:20] + '"'


def batch_out(batch_id: str, created_at: datetime, jobs: list[Job]) -> BatchOut:
    return BatchOut(
        id=batch_id,
        status=batch_status([j.status for j in jobs]),
        created_at=created_at,
        progress=Progress.of(
            sum(j.chunks_done for j in jobs),
            sum(j.chunks_total for j in jobs),
            sum(j.chars_done for j in jobs),
            sum(j.chars_total for j in jobs),
        ),
        jobs=[job_out(j) for j in jobs],
    )
