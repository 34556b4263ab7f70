"""Proof-listening's records (docs/proof.md): a checked chunk added to its job's report, the
report built again with every flag at its place once the job's chunks are all made, and the
flags of a job as GET /v1/jobs/{id}/proof lists them.

A chunk's own proof is written by finish_chunk (storage/jobs.py) with the rest of its row; the
report is updated in the same transaction, after finish_chunk has updated (and so locked) the
job row: finishing chunks update it one at a time, and the one that completes the job sees
every other's proof.
"""

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.speech.proof_report import (
    PlacedProof,
    flag_item,
    listed_flags,
    placed_report,
    with_chunk,
)
from storage.db import utcnow
from storage.job_queries import slots_of
from storage.models import Chunk, ChunkAudio, Job


def placed_proofs(session: Session, job_id: str) -> list[PlacedProof]:
    """Every chunk of the job with its proof, in order, placed as assembly lays out the file
    (core/audio/timeline.py). A chunk after one not made yet has no place yet (None): the
    length of what comes before it is not known."""
    rows = session.execute(
        select(
            Chunk.index,
            Chunk.chapter,
            Chunk.audio_seconds,
            Chunk.pause_after,
            Chunk.pause_seconds,
            Chunk.proof,
        )
        .where(Chunk.job_id == job_id)
        .order_by(Chunk.index)
    ).all()
    placed = []
    known = True
    for row, slot in zip(rows, slots_of(rows), strict=True):
        placed.append(PlacedProof(row.index, row.chapter, slot.start if known else None, row.proof))
        known = known and row.audio_seconds is not None
    return placed


def written_texts(session: Session, job_id: str, indices: Sequence[int]) -> dict[int, str]:
    if not indices:
        return {}
    return dict(
        session.execute(
            select(Chunk.index, Chunk.text).where(
                Chunk.job_id == job_id, Chunk.index.in_(list(indices))
            )
        ).all()
    )


def rebuilt_report(session: Session, job_id: str) -> dict:
    """The report of a job whose chunks are all made, every listed flag placed."""
    placed = placed_proofs(session, job_id)
    return placed_report(placed, written_texts(session, job_id, listed_flags(placed)))


def record_chunk_proof(session: Session, job_id: str, chunk_id: int, proof: dict | None) -> None:
    """Add a finished chunk's proof (None: it had nothing to check) to its job's report; the
    chunk that completes the job builds the report again, flags placed. Called after the job
    row is locked in this transaction (finish_chunk, or ``record_late_proof``)."""
    job = session.execute(
        select(Job.proof_report, Job.chunks_done, Job.chunks_total).where(Job.id == job_id)
    ).first()
    if job is None:
        return
    if job.chunks_done >= job.chunks_total:
        report = rebuilt_report(session, job_id)
    elif proof is None:
        return
    else:
        chunk = session.execute(
            select(Chunk.index, Chunk.chapter, Chunk.text).where(Chunk.id == chunk_id)
        ).one()
        report = with_chunk(job.proof_report, chunk.index, chunk.chapter, chunk.text, proof)
    session.execute(update(Job).where(Job.id == job_id).values(proof_report=report))


def record_late_proof(
    session: Session, job_id: str, chunk_id: int, proof: dict, verdict: str
) -> None:
    """The proof of a chunk checked after it was finished (a job's first: worker/proof.py):
    onto its row and the audio kept for reuse, then into its job's report."""
    audio_key = session.scalar(
        update(Chunk)
        .where(Chunk.id == chunk_id, Chunk.job_id == job_id)
        .values(proof=proof, proof_verdict=verdict)
        .returning(Chunk.audio_key)
    )
    if audio_key is None:  # deleted meanwhile
        return
    session.execute(update(ChunkAudio).where(ChunkAudio.audio_key == audio_key).values(proof=proof))
    # The job row first, as a finishing chunk takes it: the report's read-modify-write is
    # then serialized with theirs
    session.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow()))
    record_chunk_proof(session, job_id, chunk_id, proof)


def job_flags(
    session: Session, job_id: str, after: int | None, limit: int
) -> tuple[list[dict], int | None]:
    """The job's flagged chunks after index ``after``, at most ``limit``, each placed when its
    place is known; and the index to ask after for the next page (None: no more)."""
    placed = [
        p
        for p in placed_proofs(session, job_id)
        if p.proof is not None and p.proof.get("flagged") and (after is None or p.index > after)
    ]
    page = placed[:limit]
    texts = written_texts(session, job_id, [p.index for p in page])
    flags = [
        flag_item(
            p.index,
            p.chapter,
            texts.get(p.index, ""),
            p.proof,
            p.start_sample,
        )
        for p in page
    ]
    return flags, page[-1].index if len(placed) > limit else None
