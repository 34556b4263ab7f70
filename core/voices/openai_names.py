"""OpenAI's voice names (``alloy``, ``shimmer``...) as voices of a Kokoro voices file, for the
OpenAI-compatible speech route: clients written for OpenAI send them as they are.
"""

from collections.abc import Mapping, Sequence

OPENAI_VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse",
)  # fmt: skip
# The Kokoro v1.0 voice that stands in for each, when the voices file has it (the official
# voices-v1.0.bin has all of them). Five of OpenAI's names are Kokoro voices too, of the same
# gender (and, for fable, the same British accent): those. The others get a voice of their
# gender and accent, the better graded first (core/voices/catalog.py), each a different one, so
# that two names never sound alike:
KOKORO_EQUIVALENTS = {
    "alloy": "af_alloy",
    "echo": "am_echo",
    "fable": "bm_fable",
    "nova": "af_nova",
    "onyx": "am_onyx",
    # the one of OpenAI's first six voices without a Kokoro namesake: a female voice, and the
    # best Kokoro has (grade A, the default one)
    "shimmer": "af_heart",
    "coral": "af_bella",  # warm, female: Kokoro's next best (A-)
    "sage": "af_sarah",  # calm, female (C+)
    "ash": "am_michael",  # male (C+)
    "verse": "am_fenrir",  # male (C+)
    "ballad": "bm_george",  # British, male (C)
}


def voice_for_openai_name(
    voice: str, overrides: Mapping[str, str], available: Sequence[str]
) -> str:
    """An OpenAI voice name as a voice of ``available``; anything else is passed on (a voice or
    a blend, checked like every voice). ``overrides`` (``KQ_OPENAI_VOICES``,
    `alloy=af_bella,...`) win; otherwise the Kokoro equivalent when the file has it, else a
    voice of the file picked by the name's place in OpenAI's list, so that different names
    sound different."""
    name = voice.strip().lower()
    if name not in OPENAI_VOICES:
        return voice
    chosen = overrides.get(name)
    if chosen:
        return chosen
    equivalent = KOKORO_EQUIVALENTS[name]
    if equivalent in available:
        return equivalent
    return sorted(available)[OPENAI_VOICES.index(name) % len(available)]
