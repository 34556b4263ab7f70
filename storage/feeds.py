"""Podcast feed tokens and the books a feed lists.

A podcast app cannot send an API key, so a key's feed is reached by a token in its URL: a
secret of its own, revocable without touching the key, stored only as its SHA-256 (tokens are
256 random bits) and shown once, when made. A token stops working when it is revoked, and when
the key that made it is revoked.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.jobs.ids import is_id, new_id
from core.jobs.states import JobStatus
from core.publish.chapters_json import ChapterMark
from storage.api_keys import hash_key
from storage.db import utcnow
from storage.job_queries import job_chapter_spans
from storage.models import ApiKey, FeedToken, Job

FEED_TOKEN_PREFIX = "kqf_"
# Active tokens a key may hold: one per app or device, with room to spare
MAX_ACTIVE_FEED_TOKENS = 20


@dataclass(frozen=True)
class CreatedFeedToken:
    row: FeedToken
    token: str  # shown once; only its hash is stored


@dataclass(frozen=True)
class FeedBook:
    """What a feed says of a finished book (not its text: a feed lists hundreds)."""

    id: str
    title: str | None
    author: str | None
    voice: str
    format: str
    chapters: list | None
    audio_key: str
    audio_bytes: int | None
    audio_seconds: float | None
    finished_at: datetime | None
    created_at: datetime
    cover_key: str | None
    book_info: dict | None


_BOOK_COLUMNS = (
    Job.id,
    Job.title,
    Job.author,
    Job.voice,
    Job.format,
    Job.chapters,
    Job.audio_key,
    Job.audio_bytes,
    Job.audio_seconds,
    Job.finished_at,
    Job.created_at,
    Job.cover_key,
    Job.book_info,
)


def active_feed_tokens(session: Session, owner: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(FeedToken)
        .where(FeedToken.owner == owner, FeedToken.revoked_at.is_(None))
    )


def create_feed_token(session: Session, owner: str) -> CreatedFeedToken:
    token = FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = FeedToken(id=new_id(), owner=owner, token_hash=hash_key(token), created_at=utcnow())
    session.add(row)
    session.flush()
    return CreatedFeedToken(row, token)


def list_feed_tokens(session: Session, owner: str) -> list[FeedToken]:
    """The owner's tokens, revoked ones too, newest first."""
    return list(
        session.scalars(
            select(FeedToken)
            .where(FeedToken.owner == owner)
            .order_by(FeedToken.created_at.desc(), FeedToken.id)
        )
    )


def revoke_feed_token(session: Session, owner: str, token_id: str) -> FeedToken | None:
    """Revoke the owner's token with this id (again: no change); None when it has none."""
    row = session.get(FeedToken, token_id) if is_id(token_id) else None
    if row is None or row.owner != owner:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def feed_owner(session: Session, token: str) -> str | None:
    """The owner whose feed ``token`` opens; None for an unknown or revoked token, or one whose
    key has been revoked."""
    if not token.startswith(FEED_TOKEN_PREFIX):
        return None  # not one of ours: no need to hash and look it up
    row = session.execute(
        select(FeedToken.owner, ApiKey.revoked_at)
        .outerjoin(ApiKey, ApiKey.id == FeedToken.owner)
        .where(FeedToken.token_hash == hash_key(token), FeedToken.revoked_at.is_(None))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    return row.owner


def owner_name(session: Session, owner: str) -> str | None:
    """The name of the database key ``owner`` is (None for keys of the environment, and the
    keyless server's anonymous owner)."""
    return session.scalar(select(ApiKey.name).where(ApiKey.id == owner)) if owner else None


def finished_books(session: Session, owner: str, limit: int) -> list[FeedBook]:
    """The owner's ``limit`` newest succeeded jobs that have their audio, newest first."""
    rows = session.execute(
        select(*_BOOK_COLUMNS)
        .where(Job.owner == owner, Job.status == JobStatus.SUCCEEDED, Job.audio_key.is_not(None))
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(limit)
    ).all()
    return [FeedBook(**row._asdict()) for row in rows]


def finished_book(session: Session, owner: str, job_id: str) -> FeedBook | None:
    """The owner's succeeded job ``job_id`` with its audio; None for any other."""
    if not is_id(job_id):
        return None
    row = session.execute(
        select(*_BOOK_COLUMNS).where(
            Job.id == job_id,
            Job.owner == owner,
            Job.status == JobStatus.SUCCEEDED,
            Job.audio_key.is_not(None),
        )
    ).first()
    return FeedBook(**row._asdict()) if row is not None else None


def chapter_marks(session: Session, book: FeedBook) -> list[ChapterMark]:
    """Where each of the book's chapters starts and ends in its audio."""
    return [
        ChapterMark(span.title, span.start_seconds, span.end_seconds)
        for span in job_chapter_spans(session, book)  # type: ignore[arg-type]  # id, chapters, title
    ]
