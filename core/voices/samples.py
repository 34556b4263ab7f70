"""Voice samples (``GET /v1/voices/{voice}/sample``): what the API orders and a worker makes.

A sample is a few seconds of a voice (or blend) reading a short text, made by a worker through
the queue and kept in storage under a key of everything that shapes its sound
(``storage.blob_store.sample_key``), so each one is synthesized once.
"""

from collections.abc import Collection
from dataclasses import dataclass

from core.audio.formats import SampleFormat
from core.speech.languages import DEFAULT_LANGUAGE, supported_codes, voice_language
from core.voices.specs import parse_voice

# A sample is for hearing a voice, not for reading texts: a sentence or two
SAMPLE_MAX_CHARS = 300

# What a voice says when the client gives no text: a short neutral sentence in the voice's
# own language, so that each voice is heard as it sounds at its best
SAMPLE_TEXTS = {
    "en-us": "Hello! This is a short sample of my voice, reading a sentence aloud.",
    "en-gb": "Hello! This is a short sample of my voice, reading a sentence aloud.",
    "es": "¡Hola! Esta es una breve muestra de mi voz.",
    "fr-fr": "Bonjour ! Voici un court extrait de ma voix.",
    "hi": "नमस्ते! यह मेरी आवाज़ का एक छोटा सा नमूना है।",
    "it": "Ciao! Questo è un breve esempio della mia voce.",
    "ja": "こんにちは。これは私の声の短いサンプルです。",
    "pt-br": "Olá! Esta é uma breve amostra da minha voz.",
}


@dataclass(frozen=True)
class SampleOrder:
    """One sample to make: the blob key it goes to and what shapes its sound."""

    key: str
    voice: str  # canonical spec (core.voices.specs): a name or ``name:weight,...``
    text: str
    speed: float
    lang: str
    format: SampleFormat
    phonemes: str | None = None  # the whole text said with these Kokoro IPA phonemes

    def task_args(self) -> list:
        """The task's arguments (JSON): ``worker.samples.synthesize_sample`` takes them so."""
        args = [self.key, self.voice, self.text, self.speed, self.lang, self.format.value]
        return args if self.phonemes is None else [*args, self.phonemes]


def sample_language(voice: str, available: Collection[str]) -> str:
    """The language a sample of ``voice`` (a valid spec) is read in: that of its voice, or of a
    blend's heaviest one (the first of equals), when a front end here speaks it; else the
    default language (a voice of a custom file, a Mandarin voice)."""
    parts = parse_voice(voice, available).parts
    heaviest = max(parts, key=lambda part: part[1])[0]
    language = voice_language(heaviest)
    if language is not None and language.code in supported_codes():
        return language.code
    return DEFAULT_LANGUAGE
