"""The ``synthesize_sample`` task: a few seconds of a voice for ``GET /v1/voices/{voice}/sample``.

The API orders a sample (core/voices/samples.py) and waits for its key to appear in storage; this
task makes it the way a one-chunk job is made (the same synthesis, trimming, fades and level) and
writes it to that key whole.
"""

import logging

from core.audio.formats import SAMPLE_RATE, SampleFormat
from core.audio.loudness import Loudness, chapter_gain
from core.speech.lexicon import server_lexicon
from core.text.markup import PhonemeOverride
from infra.queue import SYNTHESIZE_SAMPLE
from infra.settings import get_settings
from worker.app import app, load_engine
from worker.audio import chunk_audio, encode_run, levels_of
from worker.tasks import process_store

log = logging.getLogger(__name__)


@app.task(name=SYNTHESIZE_SAMPLE)
def synthesize_sample(
    key: str, voice: str, text: str, speed: float, lang: str, fmt: str, phonemes: str | None = None
) -> str:
    """Idempotent: a key already there is left as it is (so it never changes once served), and
    two runs at once each write the whole sample, the last one staying."""
    store = process_store()
    if store.exists(key):
        return "cached"
    engine = load_engine()
    overrides = () if phonemes is None else (PhonemeOverride(0, len(text), phonemes),)
    result = engine.synthesize(
        text,
        voice,
        speed,
        lang,
        lexicon=server_lexicon(get_settings().lexicon_path),
        overrides=overrides,
    )
    audio, _ = chunk_audio(result.audio)
    # The level a finished book has: what the listener hears there is what the sample promises
    gain = chapter_gain(Loudness.PEAK, levels_of(audio))
    with store.writer(key) as tmp:
        encode_run(tmp, SampleFormat(fmt).job_format, [(audio, 0)], gain)
    log.info("voice sample %s: %.1f s of %s", key, len(audio) / SAMPLE_RATE, voice)
    return "made"
