"""Phonemizing with pronunciations: lexicon words and overrides said as given, in context.

The entries and lexicons are core.speech.lexicon's. A possessive counts as the word: "Hermione's" is
the entry's phonemes plus the possessive ending (z, s or ᵻz after the entry's last sound; a
respelling is phonemized with its "'s").

phonemize_with_lexicon turns text into one phoneme string for
``Kokoro.create(phonemes, is_phonemes=True)``: the whole text is phonemized as usual and only
the matched words' phonemes are replaced, so every other word keeps exactly the phonemes that
espeak gives it in context (stress by position, "the" before a vowel, a linking r). To find
the matched words in espeak's output, the text is phonemized again with each match replaced by
a placeholder word, the two outputs are aligned word by word, and each match is found among
the differing words by its own phonemes.

Use: core/speech/spoken.py phonemizes each chunk with ``phonemize_with_lexicon(text,
server.overlay(job), lambda s: core.speech.phonemizer.phonemize(s, lang), overrides)``;
``overrides`` are the chunk's core.text.markup spans (``Speech.overrides``). The lexicons are
English: for other languages core/speech/spoken.py passes an empty one, and only the markup's
overrides are put in.
"""

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.speech.lexicon import Lexicon
from core.text.markup import Alias, Override, PhonemeOverride

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
    # The overrides' spans, in order and apart, as are the matches: one sweep finds the
    # matches that overlap one
    taken = sorted((s.start, s.end) for s in spans)
    next_taken = 0
    for match in lexicon.matches(text):
        while next_taken < len(taken) and taken[next_taken][1] <= match.start:
            next_taken += 1
        if next_taken < len(taken) and taken[next_taken][0] < match.end:
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
    # The region holds one placeholder per span, in order: put each span's phonemes in its own
    pieces = " ".join(marked).split(mark)
    words = pieces[0] + "".join(
        phonemes + piece for (phonemes, _alone), piece in zip(spans, pieces[1:], strict=True)
    )
    if len(spans) == 1:
        k = next(i for i, word in enumerate(marked) if mark in word)
        right = len(marked) - k - 1
        if len(plain) == len(marked) + len(spans[0][1].split()) - 1:
            return [*plain[:k], marked[k].replace(mark, spans[0][0]), *plain[len(plain) - right :]]
    return words.split()


# Aligning the two outputs (_regions): a region where they differ is aligned within a window
# of this many words from its start, widened (doubled) while the region fills the window, up to
# the most; beyond that the text is phonemized piece by piece. espeak changes a neighbour or
# two of a placeholder, so a region is a few words
ALIGN_WINDOW_WORDS = 16
MAX_ALIGN_WINDOW_WORDS = 256


def _regions(
    marked: list[str], plain: list[str], mark: str
) -> list[tuple[int, int, int, int]] | None:
    """The two outputs cut into regions ``(i1, i2, j1, j2)``, in order, in which
    ``marked[i1:i2]`` stands for ``plain[j1:j2]``: runs of equal words, and the regions between
    where they differ (each placeholder in one of those). None when a region does not end
    within MAX_ALIGN_WINDOW_WORDS.

    The equal runs are walked; each region where they differ is aligned by difflib within a
    window from its start, so a text costs its number of words times a window's bounded cost,
    where one diff of the whole texts grows with the square of their length on repeated words.
    """
    regions: list[tuple[int, int, int, int]] = []
    i = j = 0
    while i < len(marked) or j < len(plain):
        i1, j1 = i, j
        while (
            i < len(marked) and j < len(plain) and marked[i] == plain[j] and mark not in marked[i]
        ):
            i, j = i + 1, j + 1
        if i == i1:
            end = _region_end(marked, plain, i, j)
            if end is None:
                return None
            i, j = end
        regions.append((i1, i, j1, j))
    return regions


def _region_end(marked: list[str], plain: list[str], i: int, j: int) -> tuple[int, int] | None:
    """Where the region that differs from ``(i, j)`` on ends in both outputs: where difflib,
    aligning a window of the words from there, finds them equal again."""
    if i == len(marked) or j == len(plain):  # the rest of one stands for the rest of the other
        return len(marked), len(plain)
    width = ALIGN_WINDOW_WORDS
    while width <= MAX_ALIGN_WINDOW_WORDS:
        window = (marked[i : i + width], plain[j : j + width])
        whole = i + width >= len(marked) and j + width >= len(plain)
        matcher = difflib.SequenceMatcher(None, *window, autojunk=False)
        for tag, a1, a2, b1, b2 in matcher.get_opcodes():
            # The first equal words, unless they end the window: then the window may have cut
            # the region, and the words after them may differ again
            if tag == "equal" and (whole or (a2 < len(window[0]) and b2 < len(window[1]))):
                return i + a1, j + b1
        if whole:
            return len(marked), len(plain)
        width *= 2
    return None


def _splice(plain: str, marked: str, mark: str, spans: list[tuple[str, str]]) -> str | None:
    """plain's phonemes with each placeholder of ``marked`` replaced by its span's phonemes
    (``spans``: phonemes and the span's text phonemized alone, in text order), or None when
    the placeholders cannot be placed.

    The two outputs are aligned word by word (_regions); words that are the same in both are
    plain's, and each region where they differ is spliced by _place.
    """
    plain_words, marked_words = plain.split(), marked.split()
    regions = _regions(marked_words, plain_words, mark)
    if regions is None:
        return None
    out: list[str] = []
    placed = 0
    for i1, i2, j1, j2 in regions:
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
    (spans of ``text``, e.g. ``Speech.overrides`` from core.text.markup) said as given.

    ``phonemize`` turns plain text into phonemes (core.speech.phonemizer's
    ``phonemize(text, lang)``, after any text normalization). Text without matches
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
