"""Voice samples for ``GET /v1/voices/{voice}/sample``: check the request, then serve the sample
kept in storage, or order it from a worker at the top priority and wait for it to appear.

The API never synthesizes: like every other piece of audio, a sample is made by a worker
(worker/samples.py), which writes it whole to the key the API chose. Waiting is asynchronous
(storage is polled from the threadpool), so a waiting client holds neither the event loop nor a
thread.
"""

from dataclasses import dataclass

import anyio
import anyio.to_thread
from celery import Celery
from fastapi import HTTPException, status

from api.submission import resolve_voice
from core.model_files import files_in_use_id, list_voices
from core.queue import send_sample
from core.samples import SAMPLE_TEXTS, SampleFormat, SampleOrder, sample_language
from core.settings import Settings
from core.text import has_speakable_text
from storage.blob_store import BlobStore, sample_key

# Once a worker takes the order a sample is ready within seconds: worth asking again so soon
RETRY_AFTER_S = 5
# The response header that says whether storage had the sample or a worker made it just now
SAMPLE_HEADER = "X-KQ-Sample"
CACHED, MADE = "cached", "made"


@dataclass(frozen=True)
class Sample:
    audio: bytes
    media_type: str
    source: str  # CACHED or MADE


def plan_sample(
    settings: Settings,
    voice: str,
    text: str | None,
    speed: float,
    lang: str | None,
    fmt: SampleFormat,
) -> SampleOrder:
    """The sample a request asks for, checked (422 saying what to fix): the voice or blend as
    jobs check it, the text (default: a sentence in the voice's language) speakable. Blocking:
    it reads the voices file's names and the model files' versions."""
    spec = resolve_voice(settings, voice)
    if text is not None and not has_speakable_text(text):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "text has nothing speakable (no letters or digits); send a sentence, or leave text "
            "out for a sentence in the voice's language",
        )
    lang = lang or sample_language(spec, list_voices(settings))
    text = text if text is not None else SAMPLE_TEXTS[lang]
    key = sample_key(files_in_use_id(settings), spec, lang, text, speed, fmt.audio_format.extension)
    return SampleOrder(key=key, voice=spec, text=text, speed=speed, lang=lang, format=fmt)


async def fetch_sample(
    settings: Settings, celery: Celery, store: BlobStore, order: SampleOrder
) -> Sample:
    """The sample from storage; else ordered from a worker and awaited for up to
    ``KQ_SAMPLE_WAIT_S`` (503 with Retry-After beyond, or when the queue is unreachable)."""
    media_type = order.format.audio_format.media_type
    if await anyio.to_thread.run_sync(store.exists, order.key):
        return Sample(await anyio.to_thread.run_sync(store.get, order.key), media_type, CACHED)
    try:
        await anyio.to_thread.run_sync(send_sample, celery, order, settings.queue)
    except Exception as error:  # kombu raises several connection error types
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"the job queue is unreachable: {error}; retry once Redis answers",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        ) from error
    if not await _appears(store, order.key, settings.sample_wait_s, settings.live_poll_s):
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"no worker made the sample within {settings.sample_wait_s:g} s "
            "(KQ_SAMPLE_WAIT_S): the workers are busy or none is running. It stays ordered: "
            f"ask again after {RETRY_AFTER_S} s, or start a worker (kokoro-queue worker)",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    return Sample(await anyio.to_thread.run_sync(store.get, order.key), media_type, MADE)


async def _appears(store: BlobStore, key: str, wait_s: float, poll_s: float) -> bool:
    """Whether ``key`` is in storage within ``wait_s`` seconds, looking every ``poll_s``."""
    deadline = anyio.current_time() + wait_s
    while not await anyio.to_thread.run_sync(store.exists, key):
        left = deadline - anyio.current_time()
        if left <= 0:
            return False
        await anyio.sleep(min(poll_s, left))
    return True
