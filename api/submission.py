"""Submitting a job: the checks a body alone cannot make, then chunk the text, store the job
and enqueue its chunks."""

import hashlib
import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from celery import Celery
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal
from api.book_details import discard_cover, job_book_info, store_job_cover
from api.casts import checked_cast_voices
from api.errors import (
    conflict,
    payload_too_large,
    queue_unreachable,
    too_many_requests,
    unprocessable,
)
from api.schemas import JobCast, JobCreate
from core.audio.timeline import default_chapter_title
from core.books.details import BOOK_FIELDS
from core.jobs.callback_urls import written_address_refusal
from core.jobs.chunk_keys import applied_entries, chunk_content_key, reuse_scope
from core.jobs.ids import new_id
from core.jobs.limits import MAX_JOB_CHUNKS
from core.publish.audiobookshelf import URL_USE as AUDIOBOOKSHELF_URL
from core.speech.languages import is_english, supported_languages
from core.speech.lexicon import EMPTY_LEXICON, Lexicon, LexiconError, job_lexicon
from core.text.markup import overrides_to_json
from core.text.sentences import normalize_text
from core.voices.specs import canonical_voice
from infra.asr_model import proof_unavailable
from infra.model_files import default_voice, list_voices, model_print, voice_print
from infra.queue import send_assembly, send_chunks, send_parts
from infra.settings import Settings
from storage.blob_store import BlobStore
from storage.job_queries import get_job_by_idempotency_key, unfinished_jobs
from storage.jobs import NewJob, create_job, delete_job, plan_reused_chapters, reusable_audio
from storage.models import Job

if TYPE_CHECKING:  # the chunk planner imports the spoken-form normalizer: seconds to load
    from core.text.chunk_plan import PlannedChunk

# Fields added to JobCreate after Idempotency-Keys were first stored: left out of the hash at
# their default, so a request stored before they existed still matches its replay
LATER_FIELD_DEFAULTS = {
    "loudness": "peak",
    "reuse": True,
    "ttl_hours": None,
    "headings": "chapters",
    "deliver": None,
    "proof": None,
    "cast": None,
    **dict.fromkeys((*BOOK_FIELDS, "cover")),
}
LATER_CHAPTER_FIELD_DEFAULTS = {"voice": None}


def request_hash(body: JobCreate) -> str:
    fields = body.model_dump(mode="json")
    for name, default in LATER_FIELD_DEFAULTS.items():
        if fields.get(name) == default:
            del fields[name]
    for chapter in fields.get("chapters") or []:
        for name, default in LATER_CHAPTER_FIELD_DEFAULTS.items():
            if chapter.get(name) == default:
                del chapter[name]
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class CheckedJob:
    """A submission that passed every check: the job's voice, its planned chunks and what
    decides each one's audio (core/jobs/chunk_keys.py)."""

    voice: str
    chunks: "list[PlannedChunk]"
    keys: list[str]
    proof: bool = False  # heard back by a speech recognizer (docs/proof.md)


def content_keys(
    settings: Settings, body: JobCreate, voice: str, chunks: "list[PlannedChunk]"
) -> list[str]:
    """Each planned chunk's content key: its text, the pronunciations that apply to it, its
    markup overrides, voice, speed, language and the model file."""
    lexicon = (
        job_lexicon(settings.lexicon_path, body.pronunciation_entries())
        if is_english(body.lang)
        else EMPTY_LEXICON
    )
    model = model_print(settings)
    prints: dict[str, str] = {}
    keys = []
    for chunk in chunks:
        spec = chunk.voice or voice
        if spec not in prints:
            prints[spec] = voice_print(settings, spec)
        applied = applied_entries(
            (chunk.text[m.start : m.end].casefold(), repr(m.pronunciation))
            for m in lexicon.matches(chunk.text)
        )
        keys.append(
            chunk_content_key(
                text=chunk.text,
                lang=body.lang,
                voice=spec,
                voice_print=prints[spec],
                speed=body.speed,
                model_print=model,
                overrides=overrides_to_json(chunk.overrides),
                entries=applied,
            )
        )
    return keys


def check_submission(settings: Settings, principal: Principal, body: JobCreate) -> CheckedJob:
    """The checks a body alone cannot make, against this server's settings and the caller's
    limits (413, 422): callback, queue, size, voice, pronunciations and markup. Plans the
    chunks, which reads the markup."""
    if body.callback_url is not None:
        if not settings.webhook_secret:
            raise unprocessable(
                "callback_url needs webhooks signed with a secret, and this server has none: "
                "set KQ_WEBHOOK_SECRET on the API and the workers"
            )
        refusal = not settings.webhook_allow_private and written_address_refusal(
            str(body.callback_url)
        )
        if refusal:
            raise unprocessable(refusal)
    shelf = body.deliver.audiobookshelf if body.deliver else None
    refusal = (
        shelf
        and not settings.deliver_allow_private
        and written_address_refusal(str(shelf.url), AUDIOBOOKSHELF_URL)
    )
    if refusal:
        raise unprocessable(refusal)
    if body.queue is not None and body.queue not in settings.allowed_queues:
        raise unprocessable(
            f"unknown queue {body.queue!r}; this server sends jobs to "
            f"{', '.join(settings.allowed_queues)} (KQ_QUEUE, KQ_QUEUES)"
        )
    chars = sum(len(t) for t in body.texts())
    if chars > principal.max_text_chars:
        raise payload_too_large(
            f"text has {chars} characters; the limit is {principal.max_text_chars}",
        )
    cast = body.cast
    if isinstance(cast, str):  # the route puts a saved cast in its name's place
        raise ValueError(f"the saved cast {cast!r} was not read before the job was planned")
    voice = resolve_voice(settings, cast.narrator if cast and cast.narrator else body.voice)
    if body.pronunciations and not is_english(body.lang):
        english = " or ".join(lang.code for lang in supported_languages() if lang.english)
        raise unprocessable(
            f"pronunciations are for English text (lang {english}), and this job's lang is "
            f"{body.lang}: leave them out, or give a word its phonemes with markup "
            '("markup": "tags" and [word](/phonemes/))'
        )
    try:
        Lexicon.parse(body.pronunciation_entries())
    except LexiconError as error:
        raise unprocessable(str(error)) from error
    _check_chunk_count(_paragraphs(body.texts()))
    # Imported here, on the first job or preview: the chunk planner loads the spoken-form
    # normalizer (seconds), which the API's start-up does not pay
    from core.text.chunk_plan import ChapterMarkupError, plan_chunks

    voices = list_voices(settings)
    try:
        chunks = plan_chunks(
            body.texts(),
            lang=body.lang,
            markup=body.markup,
            check_voice=lambda spec: canonical_voice(spec, voices),
            max_tokens=settings.chunk_tokens,
            first_chunk_tokens=settings.first_chunk_tokens,
            max_pause_gap_s=settings.max_pause_gap_s,
            max_pause_total_s=settings.max_pause_total_s,
            speakers=_cast_speakers(settings, body, cast) if cast else None,
        )
    except ChapterMarkupError as error:
        chapter = f" of chapter {error.chapter + 1}" if body.chapters else ""
        raise unprocessable(
            f"markup ({body.markup}): {error.message} at character {error.position}{chapter}"
        ) from error
    _check_chunk_count(len(chunks))
    chunks = _with_chapter_voices(settings, body, chunks)
    return CheckedJob(
        voice, chunks, content_keys(settings, body, voice, chunks), _proofed(settings, body)
    )


def _cast_speakers(settings: Settings, body: JobCreate, cast: JobCast):
    """What plan_chunks calls to cut each chapter where the speaker changes: the book cast as
    POST /v1/text/cast casts it, read by ``cast``'s voices (422 for one this server lacks)."""
    from core.cast.book import CastVoices, cast_book, voice_spans

    checked = checked_cast_voices(settings, cast)
    voices = CastVoices(
        characters=checked["characters"],
        female=checked["female"],
        male=checked["male"],
        unknown=checked["unknown"],
    )
    corrections = {(c.chapter, c.start): c.speaker for c in cast.corrections}
    book = cast_book(body.texts(), body.markup)
    return lambda read: voice_spans(book, read, voices, corrections, normalize_text)


def _proofed(settings: Settings, body: JobCreate) -> bool:
    """Whether the job is proof-listened: as it asks, else as the server's KQ_PROOF says for
    English jobs. 422 when it asks for what this server cannot do."""
    if body.proof is None:
        proof = settings.proof and is_english(body.lang)
    elif body.proof and not is_english(body.lang):
        raise unprocessable(
            f"proof-listening hears English only, and this job's lang is {body.lang}: leave "
            "`proof` out, or set it false"
        )
    else:
        proof = body.proof
    reason = proof and proof_unavailable(settings)
    if reason:
        raise unprocessable(f"this server cannot proof-listen: {reason}")
    return proof


def chapter_titles(body: JobCreate) -> list[str] | None:
    """The titles a job with this body has (each untitled chapter gets one); None for a text
    read as one piece."""
    if not body.chapters:
        return None
    return [c.title or default_chapter_title(i) for i, c in enumerate(body.chapters)]


def _with_chapter_voices(
    settings: Settings, body: JobCreate, chunks: "list[PlannedChunk]"
) -> "list[PlannedChunk]":
    """A chapter's own voice for its chunks that markup gave no voice."""
    voices = {
        number: resolve_voice(settings, chapter.voice)
        for number, chapter in enumerate(body.chapters or [])
        if chapter.voice
    }
    if not voices:
        return chunks
    return [
        replace(c, voice=voices[c.chapter]) if c.voice is None and c.chapter in voices else c
        for c in chunks
    ]


def _paragraphs(texts: list[str]) -> int:
    """The paragraphs of a job's texts: each ends a chunk, so they are at least its chunks,
    counted before the costly planning."""
    return sum(normalize_text(text).count("\n\n") + 1 for text in texts if text.strip())


def _check_chunk_count(chunks: int) -> None:
    if chunks > MAX_JOB_CHUNKS:
        raise payload_too_large(
            f"the text makes {chunks:,} or more parts (every paragraph is at least one); a job "
            f"has at most {MAX_JOB_CHUNKS:,}: join very short paragraphs, or split the book "
            "into several jobs",
        )


def resolve_voice(settings: Settings, spec: str | None) -> str:
    """The canonical form of a voice or blend (``a:0.7,b:0.3``) of the loaded voices file, the
    default voice when ``spec`` is empty; 422 saying how to fix it when it is not valid."""
    try:
        return canonical_voice(spec or default_voice(settings), list_voices(settings))
    except ValueError as error:
        raise unprocessable(str(error)) from error


def enforce_quota(session: Session, principal: Principal, new_jobs: int) -> None:
    """429 when ``new_jobs`` more would put the key over its unfinished-jobs limit. Counted in
    the transaction that stores them: one round trip, no session of its own."""
    unfinished = unfinished_jobs(session, principal.owner)
    if unfinished + new_jobs > principal.max_queued_jobs:
        raise too_many_requests(
            f"this key has {unfinished} unfinished jobs and may have "
            f"{principal.max_queued_jobs}; wait for some to finish or cancel them",
            retry_after_s=60,
        )


def replayed_job(
    sessions: sessionmaker[Session], owner: str, idempotency_key: str, body: JobCreate
) -> Job | None:
    """The job an earlier request with this Idempotency-Key made; 409 if its body differed."""
    with sessions() as session:
        existing = get_job_by_idempotency_key(session, owner, idempotency_key)
    if existing is not None and existing.request_hash != request_hash(body):
        raise conflict(
            "Idempotency-Key was already used with a different request body",
        )
    return existing


def submit_job(
    sessions: sessionmaker[Session],
    celery: Celery,
    settings: Settings,
    principal: Principal,
    body: JobCreate,
    checked: CheckedJob,
    idempotency_key: str | None = None,
    batch_id: str | None = None,
    counted: bool = True,
    revision: Job | None = None,
    store: BlobStore | None = None,
) -> Job:
    """Store and enqueue a job; with an Idempotency-Key, the job an earlier request with the
    same key and body made, if any (a replay makes no job, so it is not counted against the
    quota). ``counted=False`` when the caller has checked the quota for this job already (a
    batch checks all of its jobs at once). ``revision``: the job this one revises; ``store``:
    where its cover is kept (needed when it has one)."""
    if idempotency_key and (job := replayed_job(sessions, principal.owner, idempotency_key, body)):
        return job
    queue = body.queue or settings.queue
    job_id = new_id()  # its cover is written first, under its id (removed if it is not stored)
    cover_key = store_job_cover(store, job_id, body, revision)
    spec = NewJob(
        id=job_id,
        book_info=job_book_info(body),
        cover_key=cover_key,
        voice=checked.voice,
        queue=queue,
        owner=principal.owner,
        speed=body.speed,
        lang=body.lang,
        format=body.format.value,
        title=body.title,
        author=body.author,
        batch_id=batch_id,
        priority=body.priority,
        chapters=chapter_titles(body),
        idempotency_key=idempotency_key,
        request_hash=request_hash(body) if idempotency_key else None,
        callback_url=str(body.callback_url) if body.callback_url else None,
        markup=body.markup,
        pronunciations=body.pronunciation_entries(),
        loudness=body.loudness.value,
        reuse_scope=reuse_scope(settings.chunk_reuse, principal.owner),
        source=body.source(),
        ttl_hours=body.ttl_hours,
        deliver=body.deliver.stored() if body.deliver else None,
        proof=checked.proof,
        revision_of=revision.id if revision else None,
        revision_root=revision.revision_root if revision else None,
    )
    try:
        with sessions.begin() as session:
            if counted:
                enforce_quota(session, principal, new_jobs=1)
            reuse = reusable_audio(session, spec.reuse_scope if body.reuse else None, checked.keys)
            job, to_send = create_job(
                session,
                spec,
                checked.chunks,
                release=settings.in_flight_per_job,
                keys=checked.keys,
                reuse=reuse,
            )
            parts, joins = (
                plan_reused_chapters(session, job.id, settings.assembly_part_samples)
                if reuse
                else ([], False)
            )
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key stored its job first
        discard_cover(store, cover_key)
        if idempotency_key and (
            job := replayed_job(sessions, principal.owner, idempotency_key, body)
        ):
            return job
        raise
    except BaseException:
        discard_cover(store, cover_key)
        raise
    try:
        send_chunks(celery, job.id, to_send, body.priority, queue)
        send_parts(celery, parts, queue, settings)
        if joins:  # made before, all of it: only the join is left
            send_assembly(celery, job.id, queue, settings)
    except Exception as error:  # kombu raises several connection error types
        # Nothing is kept: the client is told to submit again (a task the failed send did
        # deliver finds no job, and does nothing)
        with sessions.begin() as session:
            delete_job(session, job.id, principal.owner)
        discard_cover(store, cover_key)
        raise queue_unreachable(error, "nothing was stored: submit again later") from error
    # As stored (reading it back costs a millisecond a submission); a worker that has started
    # it meanwhile shows in the next poll
    return job
