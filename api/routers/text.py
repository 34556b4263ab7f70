"""/v1/text/preview: what a job would say, chunk by chunk, before any compute is spent on it.

The chunks are planned and spoken by the code the service itself runs (api/submission.py and
core/speech/spoken.py): the spoken form here is exactly what a worker would speak.
"""

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from api.auth import authenticate
from api.casts import with_saved_cast
from api.deps import ApiKeyDep, ReadersDep, SettingsDep
from api.errors import payload_too_large, service_unavailable
from api.job_request import OPENAPI_JOB_BODY, JobRequestDep
from api.openapi import errors
from api.schemas import PreviewChunk, PreviewOut
from api.submission import chapter_titles, check_submission
from core.audio.timeline import pause_seconds
from core.speech.languages import is_spaced
from core.speech.lexicon import LexiconError, job_lexicon
from core.speech.phonemizer import phonemize, token_count
from core.voices.catalog import language_warnings

router = APIRouter(prefix="/v1/text", tags=["text"], dependencies=[Depends(authenticate)])

# Kokoro-82M speaks about this many phoneme tokens a second at speed 1.0 (measured on book
# prose with the embedded and the official voices: 13-15)
TOKENS_PER_SECOND = 14.0


@router.post(
    "/preview",
    response_model=PreviewOut,
    responses=errors(400, 413, 415, 422),
    openapi_extra=OPENAPI_JOB_BODY,
)
async def preview(
    body: JobRequestDep, settings: SettingsDep, principal: ApiKeyDep, readers: ReadersDep
) -> PreviewOut:
    """The spoken form, chunks, phonemes and token counts a job with this body would get
    (the same body as `POST /v1/jobs`; nothing is stored and no worker is needed), and its
    chapters: a text's Markdown # headings read as chapters are listed as such."""
    chars = sum(len(text) for text in body.texts())
    if chars > settings.preview_max_chars:
        raise payload_too_large(
            f"a preview reads at most {settings.preview_max_chars} characters "
            f"(KQ_PREVIEW_MAX_CHARS), this text has {chars}: preview a chapter or a few pages",
        )
    if isinstance(body.cast, str):
        body = await run_in_threadpool(with_saved_cast, settings, principal, body)
    return await readers.read(_preview, body, settings, principal)


def _preview(body, settings, principal) -> PreviewOut:
    # Imported here, on the first preview: the spoken-form normalizer takes seconds to load,
    # which the API's start-up does not pay
    from core.speech.spoken import speak

    checked = check_submission(settings, principal, body)
    try:
        lexicon = job_lexicon(settings.lexicon_path, body.pronunciation_entries())
    except LexiconError as error:  # the server's file: not the caller's fault
        raise service_unavailable(str(error)) from error
    chunks = []
    seconds = 0.0
    for chunk in checked.chunks:
        spoken = speak(
            chunk.text,
            body.lang,
            lexicon=lexicon,
            phonemize=lambda text: phonemize(text, body.lang),
            overrides=chunk.overrides,
        )
        tokens = token_count(spoken.phonemes)
        pause = pause_seconds(chunk.pause_after, chunk.pause_seconds)
        estimated = tokens / TOKENS_PER_SECOND / body.speed + pause
        seconds += estimated
        chunks.append(
            PreviewChunk(
                index=chunk.index,
                chapter=chunk.chapter,
                text=chunk.text,
                spoken=spoken.spoken,
                phonemes=spoken.phonemes,
                tokens=tokens,
                voice=chunk.voice or checked.voice,
                speaker=chunk.speaker,
                pause_after=chunk.pause_after,
                pause_seconds=round(pause, 3),
                estimated_seconds=round(estimated, 3),
            )
        )
    return PreviewOut(
        spoken=_joined(chunks, " " if is_spaced(body.lang) else ""),
        chunks=chunks,
        estimated_audio_seconds=round(seconds, 1),
        warnings=language_warnings([checked.voice, *(c.voice for c in chunks)], body.lang),
        chapters=chapter_titles(body),
        chapters_from_headings=body.chapters_from_headings,
    )


def _joined(chunks: list[PreviewChunk], space: str) -> str:
    """The whole spoken text: chunks joined as the listener hears them, paragraphs apart (and
    sentences with ``space``: none in Japanese)."""
    parts = []
    for chunk in chunks:
        parts.append(chunk.spoken)
        parts.append("\n\n" if chunk.pause_after in ("paragraph", "chapter") else space)
    return "".join(parts).strip()
