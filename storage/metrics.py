"""Prometheus metrics read from the database at scrape time, so every API process reports the
same figures and nothing is lost when one restarts."""

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.jobs.states import ChunkStatus
from storage.models import Chunk, Job
from storage.stats import WAITING, storage_bytes

INFERENCE_BUCKETS_S = (0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)


def metric_values(session: Session) -> dict:
    jobs = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    done = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Chunk.audio_seconds), 0.0),
            func.coalesce(func.sum(Chunk.chars), 0),
            func.coalesce(func.sum(Chunk.inference_ms), 0.0),
            *[
                func.coalesce(func.sum(case((Chunk.inference_ms <= bound * 1000, 1), else_=0)), 0)
                for bound in INFERENCE_BUCKETS_S
            ],
        ).where(Chunk.status == ChunkStatus.DONE, Chunk.reused.is_(False))
    ).one()
    reused = session.scalar(select(func.count()).select_from(Chunk).where(Chunk.reused.is_(True)))
    # Proof-listening's checks made here (reused chunks were checked where they were made)
    proof_verdicts = dict(
        session.execute(
            select(Chunk.proof_verdict, func.count())
            .where(Chunk.proof_verdict.is_not(None))
            .group_by(Chunk.proof_verdict)
        ).all()
    )
    queued, oldest = session.execute(
        select(func.count(), func.min(Chunk.enqueued_at)).where(Chunk.status.in_(WAITING))
    ).one()
    return {
        "jobs": jobs,
        "chunks_done": done[0],
        "audio_seconds": float(done[1]),
        "chars_done": int(done[2]),
        "inference_seconds_sum": float(done[3]) / 1000,
        "inference_buckets": list(
            zip(INFERENCE_BUCKETS_S, (int(n) for n in done[4:]), strict=True)
        ),
        "chunks_reused": reused,
        "proof_verdicts": proof_verdicts,
        "storage": storage_bytes(session),
        "chunks_queued": queued,
        "oldest_queued_at": oldest,
    }
