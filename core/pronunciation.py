"""Phonemizing with pronunciations: lexicon words and overrides said as given, in context.

The entries and lexicons are core.lexicon's. A possessive counts as the word: "Hermione's" is
the entry's phonemes plus the possessive ending (z, s or ᵻz after the entry's last sound; a
respelling is phonemized with its "'s").

phonemize_with_lexicon turns text into one phoneme string for
``Kokoro.create(phonemes, is_phonemes=True)``: the whole text is phonemized as usual and only
the matched words' phonemes are replaced, so every other word keeps exactly the phonemes that
espeak gives it in context (stress by position, "the" before a vowel, a linking r). To find
the matched words in espeak's output, the text is phonemized again with each match replaced by
a placeholder word, the two outputs are aligned word by word, and each match is found among
the differing words by its own phonemes.

Use: core/speech.py phonemizes each chunk with ``phonemize_with_lexicon(text,
server.overlay(job), lambda s: core.phonemizer.phonemize(s, lang), overrides)``; ``overrides``
are the chunk's core.markup spans (``Speech.overrides``). The lexicons are English: for other
languages core/speech.py passes an empty one, and only the markup's overrides are put in.
"""

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.lexicon import Lexicon
from core.markup import Alias, Override, PhonemeOverride

# Nonsense words espeak reads as one stable word, used to find a match in its output; the
# first whose phonemes are not already in the text is used
PLACEHOLDERS = ("kabuvo", "zumbaxo", "vimbalo")
# Possessive endings by the entry's last sound, as espeak writes them ("Liz's" -> lˈɪzᵻz)
_SIBILANTS = frozenset("szʃʒʧʤ")
_VOICELESS = frozenset("ptkfθ")
_PHONEME_MARKS = "ˈˌːˑ "  # stress and length marks, skipped to find the last sound
_PUNCTUATION = ';:,.!?¡¿—…"«»“”()'  # what espeak's output keeps of the text's punctuation
_BARE_TABLE = str.maketrans("", "", "ˈˌ " + _PUNCTUATION)


def possessive_ending(phonemes: str) -> str:
    """The 's ending after these phonemes: ᵻz after a sibilant, s after a voiceless sound."""
    last = phonemes.rstrip(_PHONEME_MARKS)[-1:]
    if last in _SIBILANTS:
        return "ᵻz"
    return "s" if last in _VOICELESS else "z"


@dataclass(frozen=True)
class _Replacement:
    start: int
    end: int
    phonemes: str


def _replacements(
    text: str, lexicon: Lexicon, overrides: Sequence[Override], phonemize: Callable[[str], str]
) -> list[_Replacement]:
    """Every span of text to replace, with its phonemes: explicit overrides first, then the
    lexicon's matches that do not overlap one."""
    spans: list[_Replacement] = []
    done = 0
    for override in sorted(overrides, key=lambda o: o.start):
        if not done <= override.start < override.end <= len(text):
            raise ValueError(
                f"override {override} lies outside the text of {len(text)} characters or "
                "overlaps another; give spans of this text, as Speech.cut re-bases them"
            )
        done = override.end
        if isinstance(override, PhonemeOverride):
            spans.append(_Replacement(override.start, override.end, override.phonemes))
        elif isinstance(override, Alias):
            spans.append(_Replacement(override.start, override.end, phonemize(override.say)))
    taken = sorted((s.start, s.end) for s in spans)
    for match in lexicon.matches(text):
        if any(start < match.end and match.start < end for start, end in taken):
            continue
        entry = match.pronunciation
        if entry.say is not None:
            phonemes = phonemize(entry.say + ("'s" if match.possessive else ""))
        else:
            phonemes = entry.phonemes or ""
            if match.possessive:
                phonemes += possessive_ending(phonemes)
        spans.append(_Replacement(match.start, match.end, phonemes))
    return sorted((s for s in spans if s.phonemes.strip()), key=lambda s: s.start)


def _with_placeholder(text: str, spans: list[_Replacement], placeholder: str) -> str:
    parts, done = [], 0
    for span in spans:
        parts += [text[done : span.start], placeholder]
        done = span.end
    return "".join([*parts, text[done:]])


def _bare(phonemes: str) -> str:
    """Phonemes without stress marks, punctuation or spaces, to compare words said apart and
    in context (espeak lowers the stress of some words by position: ɡˈoʊɪŋ / ɡˌoʊɪŋ)."""
    return phonemes.translate(_BARE_TABLE)


def _find(plain: list[str], alone: str, start: int) -> tuple[int, int] | None:
    """Where in plain, from word ``start`` on, the words of ``alone`` are (stress aside)."""
    size, target = len(alone.split()), _bare(alone)
    for a in range(start, len(plain) - size + 1):
        if target and _bare(" ".join(plain[a : a + size])) == target:
            return a, a + size
    return None


def _place(
    marked: list[str], plain: list[str], mark: str, spans: list[tuple[str, str]]
) -> list[str]:
    """The words of one region where plain and marked differ, with the region's placeholders
    in marked standing for ``spans`` (their phonemes, and their text phonemized alone).

    Where plain has a span's text said as it is alone, those words are replaced, keeping the
    punctuation espeak attached, and all the other words are plain's. Otherwise, for a single
    placeholder with word counts that agree, plain's words left and right of its place are
    kept and the placeholder's word is replaced with whatever espeak joined to it (the rest of
    a hyphenated word). Else the neighbours are taken as said next to the placeholders:
    changed, but none lost.
    """
    out: list[str] = []
    cursor = 0
    for phonemes, alone in spans:
        found = _find(plain, alone, cursor)
        if found is None:
            break
        a, b = found
        lead = plain[a][: len(plain[a]) - len(plain[a].lstrip(_PUNCTUATION))]
        trail = plain[b - 1][len(plain[b - 1].rstrip(_PUNCTUATION)) :]
        out += [*plain[cursor:a], lead + phonemes + trail]
        cursor = b
    else:
        return out + plain[cursor:]
    words = " ".join(marked)
    for phonemes, _alone in spans:
        words = words.replace(mark, phonemes, 1)
    if len(spans) == 1:
        k = next(i for i, word in enumerate(marked) if mark in word)
        right = len(marked) - k - 1
        if len(plain) == len(marked) + len(spans[0][1].split()) - 1:
            return [*plain[:k], marked[k].replace(mark, spans[0][0]), *plain[len(plain) - right :]]
    return words.split()


def _splice(plain: str, marked: str, mark: str, spans: list[tuple[str, str]]) -> str | None:
    """plain's phonemes with each placeholder of ``marked`` replaced by its span's phonemes
    (``spans``: phonemes and the span's text phonemized alone, in text order), or None when
    the placeholders cannot be placed.

    The two outputs are aligned word by word; words that are the same in both are plain's, and
    each region where they differ is spliced by _place.
    """
    plain_words, marked_words = plain.split(), marked.split()
    matcher = difflib.SequenceMatcher(None, marked_words, plain_words, autojunk=False)
    out: list[str] = []
    placed = 0
    for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
        region = marked_words[i1:i2]
        count = sum(word.count(mark) for word in region)
        if placed + count > len(spans):
            return None
        if count == 0:  # equal, or a neighbour espeak said differently next to the placeholder
            out += plain_words[j1:j2]
        else:
            out += _place(region, plain_words[j1:j2], mark, spans[placed : placed + count])
        placed += count
    return " ".join(out) if placed == len(spans) else None


def _split_phonemize(text: str, spans: list[_Replacement], phonemize) -> str:
    """Fallback: the text between spans phonemized piece by piece. Neighbours may then lose
    some context (a stress, "the" before a vowel), but every span gets its phonemes; a span
    inside a word stays joined to the rest of it."""
    parts: list[str] = []
    done = 0
    for span in spans:
        parts.append(phonemize(text[done : span.start]) if text[done : span.start].strip() else "")
        parts.append("" if text[span.start - 1 : span.start].isalnum() else " ")
        parts.append(span.phonemes)
        parts.append("" if text[span.end : span.end + 1].isalnum() else " ")
        done = span.end
    parts.append(phonemize(text[done:]) if text[done:].strip() else "")
    return " ".join("".join(parts).split())


def phonemize_with_lexicon(
    text: str,
    lexicon: Lexicon,
    phonemize: Callable[[str], str],
    overrides: Sequence[Override] = (),
) -> str:
    """One phoneme string for ``text``, with the lexicon's words and the explicit overrides
    (spans of ``text``, e.g. ``Speech.overrides`` from core.markup) said as given.

    ``phonemize`` turns plain text into phonemes (core.phonemizer's ``phonemize(text, lang)``,
    after any text normalization). Text without matches
    or overrides is phonemized as a whole, exactly as without a lexicon.
    """
    phonemize = lru_cache(maxsize=None)(phonemize)  # a word may be looked up several times
    spans = _replacements(text, lexicon, overrides, phonemize)
    plain = phonemize(text)
    if not spans:
        return plain
    for placeholder in PLACEHOLDERS:
        mark = phonemize(placeholder)
        if not mark or mark in plain or any(mark in s.phonemes for s in spans):
            continue
        marked = phonemize(_with_placeholder(text, spans, placeholder))
        pairs = [(span.phonemes, phonemize(text[span.start : span.end])) for span in spans]
        spliced = _splice(plain, marked, mark, pairs)
        if spliced is not None:
            return spliced
        break
    return _split_phonemize(text, spans, phonemize)
