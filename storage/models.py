"""ORM rows: jobs, their chunks with their timings (docs/api.md, throughput), and model loads
per worker."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.jobs.states import percent_done
from storage.db import UTCDateTime, utcnow


class Base(DeclarativeBase):
    pass


class Batch(Base):
    """Jobs submitted together, followed with one status."""

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    """A client's key, stored as its SHA-256 (keys are 256 random bits, so no slow hash is
    needed); the key itself is shown once, when created."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # enough to recognize it in a list
    max_queued_jobs: Mapped[int | None] = mapped_column(Integer)
    max_text_chars: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where this key's finished books are delivered unless a job says otherwise (its secrets
    # are kept here and never shown): {"audiobookshelf": {...}}
    deliver: Mapped[dict | None] = mapped_column(JSON)


class FeedToken(Base):
    """A podcast feed's secret: podcast apps cannot send headers, so a key's feed is reached by
    a token in its URL, stored as its SHA-256 like the keys, revocable on its own."""

    __tablename__ = "feed_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SavedCast(Base):
    """A cast kept under a name for the books of a series: voices by character and gender
    (a job's `cast: "name"` reads it when the job is submitted)."""

    __tablename__ = "saved_casts"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    voices: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The API key that made the job ("" when the server has no keys); other keys get 404
    owner: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    voice: Mapped[str] = mapped_column(String(200))
    speed: Mapped[float] = mapped_column(Float, default=1.0)
    lang: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(8))
    title: Mapped[str | None] = mapped_column(String(500))
    author: Mapped[str | None] = mapped_column(String(500))
    batch_id: Mapped[str | None] = mapped_column(
        ForeignKey("batches.id", ondelete="SET NULL"), index=True
    )
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # The Celery queue its tasks go to: the pool that makes it, and whose reconciler minds it
    queue: Mapped[str] = mapped_column(String(200), default="kokoro", server_default="kokoro")
    chapters: Mapped[list | None] = mapped_column(JSON)  # chapter titles, when given
    # How the text was read: "none" (plain), "tags" or "ssml" (core/text/markup.py)
    markup: Mapped[str] = mapped_column(String(8), default="none", server_default="none")
    # The job's own pronunciation entries (core/speech/lexicon.py), over the server's lexicon
    pronunciations: Mapped[dict | None] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))  # unique per owner
    request_hash: Mapped[str | None] = mapped_column(String(64))

    chunks_total: Mapped[int] = mapped_column(Integer)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    chars_total: Mapped[int] = mapped_column(Integer)
    chars_done: Mapped[int] = mapped_column(Integer, default=0)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    audio_key: Mapped[str | None] = mapped_column(String(300))
    audio_bytes: Mapped[int | None] = mapped_column(Integer)
    audio_seconds: Mapped[float | None] = mapped_column(Float)
    wall_seconds: Mapped[float | None] = mapped_column(Float)
    realtime_factor: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    # peak or acx (core/audio/loudness.py); each chapter's measured level once assembled:
    # [{"chapter", "gain_db", "rms_dbfs", "peak_dbfs"}, ...]
    loudness: Mapped[str] = mapped_column(String(8), default="peak", server_default="peak")
    chapter_levels: Mapped[list | None] = mapped_column(JSON)

    # Revisions: the job this one revises (None for a first), its first job (itself for a
    # first), the texts it was made from (to revise it), and how many of its chunks were reused
    revision_of: Mapped[str | None] = mapped_column(String(32), index=True)
    revision_root: Mapped[str | None] = mapped_column(String(32), index=True)
    source: Mapped[dict | None] = mapped_column(JSON)
    chunks_reused: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Where this job's chunk audio is shared (core/jobs/chunk_keys.py): None, nowhere
    reuse_scope: Mapped[str | None] = mapped_column(String(64))
    # Deleted this long after it finished (KQ_JOB_RETENTION_DAYS when None)
    ttl_hours: Mapped[float | None] = mapped_column(Float)

    # The book beyond title and author: series, series_index, description, year, isbn
    book_info: Mapped[dict | None] = mapped_column(JSON)
    cover_key: Mapped[str | None] = mapped_column(String(300))  # its image in storage
    # Where the finished book goes ({"audiobookshelf": {...}}, secrets never shown) and how
    # each delivery went: [{"target", "status", "attempts", "error", "delivered_at"}, ...]
    deliver: Mapped[dict | None] = mapped_column(JSON)
    deliveries: Mapped[list | None] = mapped_column(JSON)

    # Proof-listening (docs/proof.md): whether its chunks are heard back, and what was found
    # (core/speech/proof_report.py: counts, flags with their place in the file)
    proof: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    proof_report: Mapped[dict | None] = mapped_column(JSON)

    # Webhook: POSTed to when the job finishes (core/jobs/webhooks.py), with its delivery so far
    callback_url: Mapped[str | None] = mapped_column(String(2000))
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    callback_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    callback_error: Mapped[str | None] = mapped_column(Text)  # of the last failed attempt

    @property
    def percent_done(self) -> float:
        """Progress by characters, 0 to 100."""
        return percent_done(self.chars_done, self.chars_total)

    chunks: Mapped[list["Chunk"]] = relationship(
        back_populates="job",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Chunk.index",
    )

    __table_args__ = (
        Index("ix_jobs_created_at_id", "created_at", "id"),
        Index("ix_jobs_owner_created_at_id", "owner", "created_at", "id"),
        # A key's jobs in one status, newest first; its unfinished ones for the quota
        Index("ix_jobs_owner_status_created_at_id", "owner", "status", "created_at", "id"),
        UniqueConstraint("owner", "idempotency_key", name="uq_jobs_owner_idempotency_key"),
        # A pool's reconciler reads only its own queue's unfinished jobs
        Index("ix_jobs_queue_status", "queue", "status"),
    )


class Chunk(Base):
    __tablename__ = "chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    chapter: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    chars: Mapped[int] = mapped_column(Integer)
    pause_after: Mapped[str] = mapped_column(String(16))
    # A markup break after the chunk: this much silence instead of its boundary's pause
    pause_seconds: Mapped[float | None] = mapped_column(Float)
    # The voice a markup change (or the job's cast) reads it with; None: the job's
    voice: Mapped[str | None] = mapped_column(String(200))
    # The character whose words it holds, in a job with a cast; None: narration
    speaker: Mapped[str | None] = mapped_column(String(500))
    # Markup phoneme overrides and aliases, as spans of ``text`` (core/speech/spoken.py)
    overrides: Mapped[list | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Times the reconciler found the chunk's task lost and sent it again
    requeues: Mapped[int] = mapped_column(Integer, default=0)
    # 1 for the job's first chunk to finish, 2 for the next...: the ids of its progress events
    done_seq: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)

    # Timings
    tokens: Mapped[int | None] = mapped_column(Integer)  # phoneme tokens actually synthesized
    audio_key: Mapped[str | None] = mapped_column(String(300))
    audio_bytes: Mapped[int | None] = mapped_column(Integer)  # of the file audio_key names
    audio_seconds: Mapped[float | None] = mapped_column(Float)
    peak: Mapped[float | None] = mapped_column(Float)  # largest absolute sample
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queue_wait_ms: Mapped[float | None] = mapped_column(Float)
    normalize_ms: Mapped[float | None] = mapped_column(Float)  # written -> spoken form
    phonemize_ms: Mapped[float | None] = mapped_column(Float)
    inference_ms: Mapped[float | None] = mapped_column(Float)
    encode_ms: Mapped[float | None] = mapped_column(Float)  # encode + write to storage
    worker_host: Mapped[str | None] = mapped_column(String(200))
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    provider: Mapped[str | None] = mapped_column(String(64))
    worker_rss_mb: Mapped[float | None] = mapped_column(Float)  # the process's peak RSS so far
    # The written words said, [[word, start sample, end sample], ...] in the chunk's stored
    # audio (core/speech/word_timing.py); estimated when the model gave no phoneme durations
    words: Mapped[list | None] = mapped_column(JSON)
    words_estimated: Mapped[bool | None] = mapped_column(Boolean)
    # Of the stored audio: a chapter's gain is decided from its chunks' sums
    # (core/audio/loudness.py)
    sum_squares: Mapped[float | None] = mapped_column(Float)

    # What decides its audio (core/jobs/chunk_keys.py); reused: its audio was made before
    content_key: Mapped[str | None] = mapped_column(String(64))
    reused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # Proof-listening: what was heard (core/speech/proof.py ChunkProof.as_row) and the verdict
    # of this job's own check (clear, remade, flagged; None: not checked here, or reused)
    proof: Mapped[dict | None] = mapped_column(JSON)
    proof_verdict: Mapped[str | None] = mapped_column(String(8))

    job: Mapped[Job] = relationship(back_populates="chunks")

    __table_args__ = (
        UniqueConstraint("job_id", "index", name="uq_chunks_job_index"),
        # Who else still holds a chunk's audio, when a job is deleted
        Index("ix_chunks_audio_key", "audio_key"),
        Index("ix_chunks_status", "status"),
        Index("ix_chunks_finished_at", "finished_at"),
        Index("ix_chunks_job_id_done_seq", "job_id", "done_seq"),
        # /metrics counts the checks and flags: only the checked chunks are read
        Index("ix_chunks_proof_verdict", "proof_verdict"),
    )


class ChunkAudio(Base):
    """Chunk audio by what decides it: made once, reused by every chunk of the same key in
    its scope (an owner, or "*" for the server). The audio stays while a chunk refers to it."""

    __tablename__ = "chunk_audio"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    audio_key: Mapped[str] = mapped_column(String(300), index=True)
    audio_bytes: Mapped[int | None] = mapped_column(Integer)
    tokens: Mapped[int | None] = mapped_column(Integer)
    audio_seconds: Mapped[float] = mapped_column(Float)
    peak: Mapped[float | None] = mapped_column(Float)
    sum_squares: Mapped[float | None] = mapped_column(Float)
    words: Mapped[list | None] = mapped_column(JSON)
    words_estimated: Mapped[bool | None] = mapped_column(Boolean)
    proof: Mapped[dict | None] = mapped_column(JSON)  # what proof-listening heard, if checked
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobPart(Base):
    """A run of one chapter's chunks that one task encodes (storage/parts.py); the job's file
    and its chapters' files are joined from these without encoding again."""

    __tablename__ = "job_parts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    chapter: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)  # within its chapter, from 0
    first_index: Mapped[int] = mapped_column(Integer)  # its chunks, by index, inclusive
    last_index: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # pending | done
    audio_key: Mapped[str | None] = mapped_column(String(300))  # None: nothing to hear
    # What the encoded file holds, decoded again: samples, sum of squares, largest sample
    samples: Mapped[int | None] = mapped_column(Integer)
    sum_squares: Mapped[float | None] = mapped_column(Float)
    peak: Mapped[float | None] = mapped_column(Float)
    gain: Mapped[float | None] = mapped_column(Float)
    encode_ms: Mapped[float | None] = mapped_column(Float)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("job_id", "chapter", "number", name="uq_job_parts_job_chapter_number"),
    )


class WorkerSession(Base):
    """One row per Kokoro session a worker process loaded: load counts and load times."""

    __tablename__ = "worker_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(64))
    model_path: Mapped[str] = mapped_column(String(1000))
    threads: Mapped[int] = mapped_column(Integer)
    load_ms: Mapped[float] = mapped_column(Float)
    warmup_ms: Mapped[float] = mapped_column(Float)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
