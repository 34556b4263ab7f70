"""What a chunk says: the one path from its written text to the spoken form and the phonemes
the model reads. The worker runs it for every chunk it speaks and the preview runs the same
code, so the preview shows exactly what is spoken.

1. Markup overrides (core/text/markup.py) are spans of the written text: an alias is said instead
   of its span; a phoneme override keeps its word, whose phonemes are given.
2. Everything else is normalized to its spoken form (core/normalize): numbers, dates, times,
   money, units, abbreviations, Roman numerals, symbols. A rewrite that overlaps an override
   is dropped: the user's markup wins.
3. The spoken text is phonemized (core/speech/phonemizer.py: espeak-ng, or the Japanese G2P), with
   the lexicon's and the job's pronunciations and the phoneme overrides put in
   (core/speech/lexicon.py, core/speech/pronunciation.py).

Steps 2 and the lexicons are English (core/speech/languages.py): other languages' text is said as
written, and only the markup's overrides apply to it.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.speech.languages import is_english
from core.speech.lexicon import EMPTY_LEXICON, Lexicon
from core.speech.pronunciation import phonemize_with_lexicon
from core.text.markup import Alias, Override, PhonemeOverride
from core.text.normalize import spoken_form, spoken_rewrites


@dataclass(frozen=True)
class SpokenText:
    text: str  # what is said, as text
    phonemes: tuple[PhonemeOverride, ...]  # the phoneme overrides, as spans of ``text``
    normalize_ms: float


def spoken_text(written: str, lang: str, overrides: Sequence[Override] = ()) -> SpokenText:
    """The spoken form of ``written``, with the markup overrides applied (only English is
    normalized)."""
    started = time.perf_counter()
    english = is_english(lang)
    held = sorted(overrides, key=lambda o: o.start)
    edits: list[tuple[int, int, str | PhonemeOverride]] = [
        (o.start, o.end, _said(o.say, lang, english) if isinstance(o, Alias) else o) for o in held
    ]
    for rewrite in spoken_rewrites(written, lang) if english else ():
        if not any(rewrite.start < o.end and o.start < rewrite.end for o in held):
            edits.append((rewrite.start, rewrite.end, rewrite.spoken))
    edits.sort(key=lambda edit: edit[0])
    parts: list[str] = []
    placed: list[PhonemeOverride] = []
    length = position = 0
    for start, end, edit in edits:
        parts.append(written[position:start])
        length += start - position
        if isinstance(edit, PhonemeOverride):
            word = written[start:end]
            placed.append(PhonemeOverride(length, length + len(word), edit.phonemes))
            edit = word
        parts.append(edit)
        length += len(edit)
        position = end
    parts.append(written[position:])
    return SpokenText(
        "".join(parts), tuple(placed), normalize_ms=(time.perf_counter() - started) * 1000
    )


def _said(alias: str, lang: str, english: bool) -> str:
    return spoken_form(alias, lang) if english else alias


@dataclass(frozen=True)
class SpokenChunk:
    spoken: str
    phonemes: str  # one string for Kokoro, whitespace collapsed
    normalize_ms: float
    phonemize_ms: float


def speak(
    written: str,
    lang: str,
    *,
    lexicon: Lexicon,
    phonemize: Callable[[str], str],
    overrides: Sequence[Override] = (),
) -> SpokenChunk:
    """The spoken form and phonemes of a chunk's written text. The lexicon applies to English
    only."""
    if not is_english(lang):
        lexicon = EMPTY_LEXICON
    spoken = spoken_text(written, lang, overrides)
    started = time.perf_counter()
    phonemes = phonemize_with_lexicon(spoken.text, lexicon, phonemize, spoken.phonemes)
    return SpokenChunk(
        spoken=_respelled(spoken.text, lexicon),
        phonemes=" ".join(phonemes.split()),
        normalize_ms=spoken.normalize_ms,
        phonemize_ms=(time.perf_counter() - started) * 1000,
    )


def _respelled(text: str, lexicon: Lexicon) -> str:
    """The spoken text as a reader would say it: the lexicon's respellings in place of their
    words (entries given as phonemes keep the word; their phonemes show in ``phonemes``)."""
    parts, done = [], 0
    for match in lexicon.matches(text):
        say = match.pronunciation.say
        if say is None:
            continue
        ending = text[match.end - 2 : match.end] if match.possessive else ""
        parts += [text[done : match.start], say + ending]
        done = match.end
    return "".join(parts) + text[done:]
