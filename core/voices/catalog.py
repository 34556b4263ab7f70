"""What is known of a Kokoro voice from its name: language, gender and quality grade.

A Kokoro voice name is a language letter, a gender letter (``f`` or ``m``), ``_`` and a name:
``af_heart`` is an American English female voice, ``jm_kumo`` a Japanese male one. The grades
are those of the Kokoro-82M v1.0 voice list (VOICES.md of hexgrad/Kokoro-82M), from A (best)
to F; a voice the list grades unclearly, or not at all, has none.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from core.speech.languages import Language, language, voice_language
from core.voices.specs import canonical_names

GENDERS = {"f": "female", "m": "male"}

GRADES = {
    # American English
    "af_heart": "A", "af_bella": "A-", "af_nicole": "B-", "af_aoede": "C+", "af_kore": "C+",
    "af_sarah": "C+", "af_alloy": "C", "af_nova": "C", "af_sky": "C-", "af_jessica": "D",
    "af_river": "D", "am_fenrir": "C+", "am_michael": "C+", "am_puck": "C+", "am_echo": "D",
    "am_eric": "D", "am_liam": "D", "am_onyx": "D", "am_santa": "D-", "am_adam": "F+",
    # British English
    "bf_emma": "B-", "bf_isabella": "C", "bf_alice": "D", "bf_lily": "D", "bm_george": "C",
    "bm_fable": "C", "bm_lewis": "D+", "bm_daniel": "D",
    # Japanese
    "jf_alpha": "C+", "jf_gongitsune": "C", "jf_nezumi": "C-", "jf_tebukuro": "C",
    "jm_kumo": "C-",
    # French, Hindi, Italian
    "ff_siwis": "B",
    "hf_alpha": "C", "hf_beta": "C", "hm_omega": "C", "hm_psi": "C",
    "if_sara": "C", "im_nicola": "C",
}  # fmt: skip


@dataclass(frozen=True)
class VoiceInfo:
    name: str
    language: Language | None  # None: not a Kokoro voice name (a custom voices file)
    gender: str | None  # female, male, or None when the name does not say
    grade: str | None


def voice_info(name: str) -> VoiceInfo:
    language = voice_language(name)
    gender = GENDERS.get(name[1:2]) if language is not None else None
    return VoiceInfo(name, language, gender, GRADES.get(name))


def language_warnings(specs: Iterable[str], lang: str) -> list[str]:
    """A warning for each voice of ``specs`` (once each) whose language is not ``lang``: such a
    voice may read the text, but with its own language's accent."""
    try:
        reading = language(lang)
    except ValueError:  # a stored job of a language this server no longer knows
        return []
    warnings: list[str] = []
    seen: set[str] = set()
    for spec in specs:
        for name in canonical_names(spec):
            own = voice_language(name)
            if name in seen or own is None or own.code == reading.code:
                continue
            seen.add(name)
            warnings.append(
                f"voice {name} is {own.name}; the text is read as {reading.name}, with that "
                f"voice's accent (choose a voice of GET /v1/languages for {lang})"
            )
    return warnings
