"""When each written word of a chunk is said, from the model's phoneme durations. Pure.

Kokoro computes a duration (in decoder frames) for every phoneme token it reads; the worker
reads them out of the graph (worker/timed_model.py). From them to the written words is three
steps, each here:

1. ``token_edges``: the sample where each token starts, from the cumulative durations (the
   model pads the tokens with one silent token at each end).
2. ``spoken_spans``: which tokens each word of the *spoken* text became. espeak joins some
   words in its output ("was the" -> ``wʌzðə``) and splits others, so the phoneme string's
   spaces are not word boundaries to trust: each spoken word is phonemized alone and those
   sounds are aligned, character by character, with the chunk's tokens (stress marks,
   spaces and punctuation aside, so context changes such as ``ðə``/``ðɪ`` cost one sound,
   not the word). A word whose sounds match nothing (a lexicon or markup pronunciation) gets
   the tokens between its neighbours.
3. ``timed_words``: spoken words back to the *written* words (what subtitles and the API
   show). Words the normalizer left alone match one to one; a rewritten span ("1921" ->
   "nineteen twenty-one", "Jan. 5" -> "January fifth") gives each of its written words the
   spoken words it became, so a written word lasts from the start of its first spoken word
   to the end of its last. Written words that are not said (a lone dash) get no time.

Sample positions are relative to the audio the durations describe; ``shifted`` moves them to
a trimmed copy of that audio.
"""

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from core.audio.formats import SAMPLE_RATE
from core.audio.timeline import Slot

# Kokoro's decoder makes 600 samples at 24 kHz (25 ms) per duration frame: the audio of a
# run is exactly sum(durations) x 600 samples (tests/fast/test_timed_model.py checks it)
SAMPLES_PER_FRAME = 600

# Marks that say how a sound is stressed, not a sound of their own
_STRESS = frozenset("ˈˌ")

_WORD = re.compile(r"\S+")
# Marks around a written word that are not part of it as shown
_MARKS = frozenset(".,;:!?…'\"*_¿¡")


@dataclass(frozen=True)
class TimedWord:
    """A written word and the samples [start, end) during which it is said."""

    word: str
    start: int
    end: int

    def as_row(self) -> list:
        """How a chunk row stores it (``chunks.words``): [word, start, end]."""
        return [self.word, self.start, self.end]


def from_rows(rows: Sequence[Sequence] | None) -> list[TimedWord]:
    return [TimedWord(str(word), int(start), int(end)) for word, start, end in rows or ()]


# --- 1. Durations to samples ---------------------------------------------------------------


def token_edges(durations: Sequence[int], samples_per_frame: float) -> list[int]:
    """Where each token starts, and after them where the last one ends, in samples.

    ``durations`` are the model's, one per token plus the silent pad token at either end.
    """
    if len(durations) < 2:
        raise ValueError(
            f"expected the durations of the tokens and of the two pad tokens around them, "
            f"got {len(durations)} values"
        )
    edges, frames = [], durations[0]
    for duration in durations[1:-1]:
        edges.append(round(frames * samples_per_frame))
        frames += duration
    edges.append(round(frames * samples_per_frame))
    return edges


def even_edges(tokens: int, samples: int) -> list[int]:
    """Token starts when the model gives no durations: the audio shared evenly (an estimate)."""
    return [round(samples * i / tokens) for i in range(tokens + 1)] if tokens else [0]


# --- 2. Spoken words to tokens -------------------------------------------------------------


def _is_sound(char: str) -> bool:
    # IPA symbols are letters (ɪ, ð) or modifier letters (ː, ʰ); stress marks are modifier
    # letters too, but no sound
    return unicodedata.category(char).startswith("L") and char not in _STRESS


def _in_word(char: str) -> bool:
    return _is_sound(char) or char in _STRESS


def spoken_spans(
    words: Sequence[str], token_phonemes: str, phonemes_of: Callable[[str], str]
) -> list[tuple[int, int] | None]:
    """The tokens [first, last + 1) each spoken word became; None for a word with no sound.

    ``token_phonemes`` has one character per model token (what the tokenizer keeps of the
    chunk's phonemes); ``phonemes_of`` phonemizes one word alone.
    """
    owners: list[int] = []  # for each sound of the words said alone, the word it belongs to
    sounds: list[str] = []
    for number, word in enumerate(words):
        alone = [c for c in phonemes_of(word) if _is_sound(c)]
        sounds += alone
        owners += [number] * len(alone)
    heard = [i for i, c in enumerate(token_phonemes) if _is_sound(c)]
    matcher = difflib.SequenceMatcher(
        None, "".join(sounds), "".join(token_phonemes[i] for i in heard), autojunk=False
    )
    firsts: list[int | None] = [None] * len(words)
    lasts: list[int | None] = [None] * len(words)
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            owner, token = owners[a + k], heard[b + k]
            if firsts[owner] is None:
                firsts[owner] = token
            lasts[owner] = token
    spans: list[tuple[int, int] | None] = [
        None if first is None or last is None else (first, last + 1)
        for first, last in zip(firsts, lasts, strict=True)
    ]
    sounded = [any(_is_sound(c) for c in phonemes_of(word)) for word in words]
    # Filled before widened: a weak word's sound ('a' in 'of a', said ``əvə``) is not taken
    # by its neighbour first
    return _widened(_filled(spans, sounded, token_phonemes), token_phonemes)


def _widened(spans: list[tuple[int, int] | None], tokens: str) -> list[tuple[int, int] | None]:
    """Each span grown over the sounds next to it that no word claimed, up to a space or a
    mark: a first or last sound said differently in context (``ðɪ`` for ``ðə``) still counts."""
    out = list(spans)
    floor = 0
    for number, span in enumerate(out):
        if span is None:
            continue
        following = next((s for s in out[number + 1 :] if s is not None), None)
        ceiling = following[0] if following else len(tokens)
        first, end = span
        while first > floor and _in_word(tokens[first - 1]):
            first -= 1
        while end < ceiling and _in_word(tokens[end]):
            end += 1
        out[number] = (first, end)
        floor = end
    return out


def _filled(
    spans: list[tuple[int, int] | None], sounded: list[bool], tokens: str
) -> list[tuple[int, int] | None]:
    """Words that make a sound but matched none (a pronunciation of the user's, or a weak
    form: 'a' alone is ``eɪ``, in 'of a' only ``ə``) share the sounds between their
    neighbours; where there are none, half of the word before them ('of a' said ``əvə``)."""
    out = list(spans)
    number = 0
    while number < len(out):
        if out[number] is not None or not sounded[number]:
            number += 1
            continue
        run = [number]
        while run[-1] + 1 < len(out) and out[run[-1] + 1] is None:
            run.append(run[-1] + 1)
        before = next((i for i in range(number - 1, -1, -1) if out[i] is not None), None)
        after = next((i for i in range(run[-1] + 1, len(out)) if out[i] is not None), None)
        low = out[before][1] if before is not None else 0
        high = out[after][0] if after is not None else len(tokens)
        while low < high and not _in_word(tokens[low]):
            low += 1
        while high > low and not _in_word(tokens[high - 1]):
            high -= 1
        speaking = [i for i in run if sounded[i]]
        if high - low < len(speaking) and before is not None:
            first, end = out[before]
            if end - first > 1:
                low = first + (end - first) // 2
                high = max(high, end)
                out[before] = (first, low)
        for share, i in enumerate(speaking):
            first = low + (high - low) * share // len(speaking)
            end = low + (high - low) * (share + 1) // len(speaking)
            out[i] = (first, end)
        number = run[-1] + 1
    return out


# --- 3. Spoken words to written words ------------------------------------------------------


def _key(word: str) -> str:
    """A word as compared between the written and the spoken text: 'p.m.' and 'PM' agree."""
    return "".join(c for c in word.casefold() if c.isalnum())


def _around(char: str) -> bool:
    # Quotes, brackets, dashes and sentence marks; not symbols that are read ('$40', '40%')
    return unicodedata.category(char) in ("Ps", "Pe", "Pi", "Pf", "Pd") or char in _MARKS


def shown_word(word: str) -> str:
    """A written word as shown: without the punctuation around it ('“Well,' -> 'Well')."""
    start, end = 0, len(word)
    while start < end and _around(word[start]):
        start += 1
    while end > start and _around(word[end - 1]):
        end -= 1
    return word[start:end] or word


def _shares(written: Sequence[str], spoken: int, said_alone: Callable[[str], str]) -> list[int]:
    """How many of ``spoken`` words each written word of a rewritten span became: by the
    words each says alone ('1921' -> 2), scaled to the span's actual count."""
    weights = [max(1, len(said_alone(word).split())) for word in written]
    total, done, bounds = sum(weights), 0, [0]
    for weight in weights:
        done += weight
        bounds.append(round(spoken * done / total))
    return [b - a for a, b in zip(bounds, bounds[1:], strict=False)]


def written_groups(
    written: Sequence[str], spoken: Sequence[str], said_alone: Callable[[str], str]
) -> list[list[int]]:
    """For each written word, the indices of the spoken words it became (maybe none)."""
    groups: list[list[int]] = [[] for _ in written]
    matcher = difflib.SequenceMatcher(
        None, [_key(w) for w in written], [_key(w) for w in spoken], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                groups[i1 + offset].append(j1 + offset)
        elif tag == "insert":
            # Words said with no written word of their own ('$5' -> 'five dollars' keeps 'five'
            # against nothing): they belong to the written word before them
            owner = i1 - 1 if i1 > 0 else min(i1, len(written) - 1)
            if owner >= 0:
                groups[owner] += range(j1, j2)
        elif tag == "replace":
            start = j1
            for offset, count in enumerate(_shares(written[i1:i2], j2 - j1, said_alone)):
                groups[i1 + offset] += range(start, start + count)
                start += count
        # "delete": written words not said get no spoken words
    return groups


def timed_words(
    written_text: str,
    spoken_text: str,
    token_phonemes: str,
    edges: Sequence[int],
    phonemes_of: Callable[[str], str],
    said_alone: Callable[[str], str] = lambda word: word,
) -> list[TimedWord]:
    """The written words of a chunk that are said, in order, with their samples.

    ``edges`` has len(token_phonemes) + 1 entries (``token_edges`` or ``even_edges``);
    ``said_alone`` gives a written word's spoken form on its own (to share a rewritten span
    among its written words).
    """
    if len(edges) != len(token_phonemes) + 1:
        raise ValueError(
            f"{len(edges)} token edges for {len(token_phonemes)} tokens; pass one per token "
            "and one for the end of the last"
        )
    written = _WORD.findall(written_text)
    spoken = _WORD.findall(spoken_text)
    spans = spoken_spans(spoken, token_phonemes, phonemes_of)
    words = []
    for word, group in zip(written, written_groups(written, spoken, said_alone), strict=True):
        said = [spans[j] for j in group if spans[j] is not None]
        if said:
            first = min(span[0] for span in said)
            end = max(span[1] for span in said)
            words.append(TimedWord(shown_word(word), edges[first], edges[end]))
    return words


def shifted(words: Sequence[TimedWord], head: int, length: int) -> list[TimedWord]:
    """Words of audio whose first ``head`` samples were cut and which is now ``length`` long."""
    return [
        TimedWord(w.word, min(max(w.start - head, 0), length), min(max(w.end - head, 0), length))
        for w in words
    ]


# --- Words in the job's file ---------------------------------------------------------------


@dataclass(frozen=True)
class PlacedWord:
    """A word where it lies in the job's assembled file (samples), and its chunk and chapter."""

    word: str
    start: int
    end: int
    chunk: int
    chapter: int


def placed_words(chunks: Iterable[tuple[int, Slot, Sequence[TimedWord]]]) -> list[PlacedWord]:
    """The words of (chunk index, timeline slot, words in the chunk's audio) in order, in the
    file: in order and never overlapping, each within its chunk's audio."""
    out: list[PlacedWord] = []
    done = 0
    for index, slot, words in chunks:
        for word in words:
            start = max(slot.start + min(max(word.start, 0), slot.length), done)
            end = max(slot.start + min(max(word.end, 0), slot.length), start)
            out.append(PlacedWord(word.word, start, end, index, slot.chapter))
            done = end
    return out


def seconds(samples: int) -> float:
    """A position as the API gives it: seconds to the microsecond (a sample is 42 µs)."""
    return round(samples / SAMPLE_RATE, 6)


def words_json(words: Iterable[Sequence]) -> list[dict]:
    """Stored word rows as the API shows them: seconds from the start of the chunk's audio."""
    return [{"word": w, "start": seconds(start), "end": seconds(end)} for w, start, end in words]
