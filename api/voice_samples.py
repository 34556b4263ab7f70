"""Voice samples for ``GET /v1/voices/{voice}/sample``: check the request, then serve the sample
kept in storage, or order it from a worker at the top priority and wait for it to appear.

The API never synthesizes: like every other piece of audio, a sample is made by a worker
(worker/samples.py), which writes it whole to the key the API chose. Waiting is asynchronous
(storage is polled from the threadpool), so a waiting client holds neither the event loop nor a
thread.

What a sample costs its key: ordering one takes a place among the key's samples in flight
(``KQ_MAX_SAMPLES_IN_FLIGHT_PER_KEY``, 429 beyond; api/sample_slots.py), given back when the
request ends; an order whose wait timed out is revoked, so nothing nobody waits for stays ahead
of every chunk. A sample of a text the key chose is kept for that key alone; one of the
server's own sentences (the default text) holds nothing of any key's and is shared.
"""

import logging
import uuid
from dataclasses import dataclass

import anyio
import anyio.to_thread
from celery import Celery

from api.errors import queue_unreachable, service_unavailable, too_many_requests, unprocessable
from api.sample_slots import SampleSlots, owner_digest
from api.submission import resolve_voice
from core.audio.formats import SampleFormat
from core.speech.lexicon import check_phonemes
from core.text.sentences import has_speakable_text
from core.voices.samples import SAMPLE_TEXTS, SampleOrder, sample_language
from infra.model_files import files_in_use_id, list_voices
from infra.queue import send_sample
from infra.settings import Settings
from storage.blob_store import BlobStore, sample_key

log = logging.getLogger(__name__)

# Once a worker takes the order a sample is ready within seconds: worth asking again so soon
RETRY_AFTER_S = 5
# An order counts against its key for the wait and this much more: only an API process that
# died mid-wait leaves one behind, and it stops counting then
SLOT_MARGIN_S = 30.0
# The server's own sentences: a sample of one of them is the same for every key
BUILT_IN_TEXTS = frozenset(SAMPLE_TEXTS.values())
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
    owner: str,
    voice: str,
    text: str | None,
    speed: float,
    lang: str | None,
    fmt: SampleFormat,
    phonemes: str | None = None,
) -> SampleOrder:
    """The sample ``owner``'s request asks for, checked (422 saying what to fix): the voice or
    blend as jobs check it, the text (default: a sentence in the voice's language) speakable.
    Blocking: it reads the voices file's names and the model files' versions."""
    spec = resolve_voice(settings, voice)
    if text is not None and not has_speakable_text(text):
        raise unprocessable(
            "text has nothing speakable (no letters or digits); send a sentence, or leave text "
            "out for a sentence in the voice's language",
        )
    if phonemes is not None:
        if text is None:
            raise unprocessable("phonemes say a text of your own: give `text` (the word) too")
        try:
            phonemes = check_phonemes(phonemes)
        except ValueError as error:
            raise unprocessable(f"phonemes: {error}") from error
    lang = lang or sample_language(spec, list_voices(settings))
    text = text if text is not None else SAMPLE_TEXTS[lang]
    key = sample_key(files_in_use_id(settings), spec, lang, text, speed, fmt.extension, phonemes)
    if text not in BUILT_IN_TEXTS or phonemes is not None:
        key = _owners_own(key, owner)
    return SampleOrder(
        key=key, voice=spec, text=text, speed=speed, lang=lang, format=fmt, phonemes=phonemes
    )


def _owners_own(key: str, owner: str) -> str:
    """The key of a sample kept for ``owner`` alone: another key that guesses the text gets a
    sample of its own, never this one (nor learns that it was asked for). Under the same
    prefix of the files in use, so that old samples still lie under one prefix."""
    prefix, _, name = key.rpartition("/")
    return f"{prefix}/{owner_digest(owner)}/{name}"


async def fetch_sample(
    settings: Settings,
    celery: Celery,
    store: BlobStore,
    slots: SampleSlots,
    owner: str,
    order: SampleOrder,
) -> Sample:
    """The sample from storage; else ordered from a worker, as one of ``owner``'s samples in
    flight (429 when it has ``KQ_MAX_SAMPLES_IN_FLIGHT_PER_KEY``), and awaited for up to
    ``KQ_SAMPLE_WAIT_S`` (503 with Retry-After beyond, the order revoked; 503 too when the
    queue is unreachable)."""
    media_type = order.format.media_type
    if await anyio.to_thread.run_sync(store.exists, order.key):
        return Sample(await anyio.to_thread.run_sync(store.get, order.key), media_type, CACHED)
    task_id = str(uuid.uuid4())
    limit = settings.max_samples_in_flight_per_key
    hold_s = settings.sample_wait_s + SLOT_MARGIN_S
    try:
        taken = await anyio.to_thread.run_sync(slots.take, owner, task_id, limit, hold_s)
    except Exception as error:  # redis raises several connection error types
        raise queue_unreachable(error, "no sample was ordered: retry once Redis answers") from error
    if not taken:
        raise too_many_requests(
            f"this key is already waiting for {limit} samples, as many as it may "
            "(KQ_MAX_SAMPLES_IN_FLIGHT_PER_KEY): samples run ahead of every book, so they "
            f"are made a few at a time. Ask again after {RETRY_AFTER_S} s, once one is ready",
            retry_after_s=RETRY_AFTER_S,
        )
    try:
        try:
            await anyio.to_thread.run_sync(send_sample, celery, order, settings.queue, task_id)
        except Exception as error:  # kombu raises several connection error types
            raise queue_unreachable(
                error, "no sample was ordered: retry once Redis answers"
            ) from error
        if not await _appears(store, order.key, settings.sample_wait_s, settings.live_poll_s):
            await anyio.to_thread.run_sync(_revoke, celery, task_id)
            raise service_unavailable(
                f"no worker made the sample within {settings.sample_wait_s:g} s "
                "(KQ_SAMPLE_WAIT_S): the workers are busy or none is running, and the order "
                f"was withdrawn. Ask again after {RETRY_AFTER_S} s, or start a worker "
                "(kokoro-queue worker)",
                retry_after_s=RETRY_AFTER_S,
            )
    finally:
        # Shielded: a request cancelled mid-wait (the server shutting down) gives it back too
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_give_back, slots, owner, task_id)
    return Sample(await anyio.to_thread.run_sync(store.get, order.key), media_type, MADE)


def _revoke(celery: Celery, task_id: str) -> None:
    """Workers drop the order when it reaches them; one already being made is finished and
    kept (it is a few seconds of work, and the same request again finds it)."""
    try:
        celery.control.revoke(task_id)
    except Exception:  # the broker went away meanwhile: the order is made and kept, no more
        log.warning("could not revoke the sample order %s", task_id, exc_info=True)


def _give_back(slots: SampleSlots, owner: str, task_id: str) -> None:
    try:
        slots.give_back(owner, task_id)
    except Exception:  # it stops counting by itself SLOT_MARGIN_S after the wait
        log.warning("could not give back the sample order %s", task_id, exc_info=True)


async def _appears(store: BlobStore, key: str, wait_s: float, poll_s: float) -> bool:
    """Whether ``key`` is in storage within ``wait_s`` seconds, looking every ``poll_s``."""
    deadline = anyio.current_time() + wait_s
    while not await anyio.to_thread.run_sync(store.exists, key):
        left = deadline - anyio.current_time()
        if left <= 0:
            return False
        await anyio.sleep(min(poll_s, left))
    return True
