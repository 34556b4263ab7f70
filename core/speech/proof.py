"""Proof-listening: is what a recognizer heard in a chunk's audio what the chunk should say?

A chunk's spoken form (what the model was given, numbers and all in words) and the recognizer's
transcript are reduced to the same plain words (core/speech/scoring.py) and aligned word by
word: the words that differ are what a person is shown, and their share is the word error rate.
Whether a chunk is doubtful is judged by its letters: the letters of each run of differing words
against the letters heard there, over all the spoken letters (the character error rate). A
small recognizer mishears rare words as near-homophones ("Queequeg" as "quick legs": two word
errors, two letters), while audio that says something else, or stops early, differs in most of
its letters; measured, the letters tell the two apart far better than the words (docs/proof.md).
A doubtful chunk is made once more another way (``remake_speed``), the version heard better is
kept, and a chunk doubtful both times is flagged for a person to listen to.

Pure: the recognizer and the model are the worker's (worker/proof.py). Light to import: the
settings and the API read its threshold, and the scoring's normalizer (seconds to import) is
loaded only where a chunk is compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the scoring imports the number-words engine: loaded where it is used
    from core.speech.scoring import Diff

# A chunk heard with more letter errors than this, over its spoken letters, is doubtful.
# Measured by benchmarks/proof_threshold.py with Whisper tiny.en on clean book prose
# (docs/proof.md): 1 % of clean chunks were above it, every chunk scored against its
# neighbour's audio (a swap) and every one cut to its first third far above it, and nine in ten
# cut to their first two thirds.
DEFAULT_MAX_CER = 0.3
# A chunk this short is judged by its errors, not its rate: one misheard word of three is
# the recognizer's noise more often than the model's mistake
MIN_ERRORS_TO_DOUBT = 2
# The remake reads the chunk this much slower (faster where that would go under the slowest
# speed): every duration, and so the audio, differs, while the voice stays the same
REMAKE_SPEED_FACTOR = 0.95
SLOWEST_SPEED = 0.5
# Each difference shown keeps at most this many words a side, and a chunk at most this many
# differences: what a person needs to find the spot, bounded however wrong the audio is
MAX_DIFF_WORDS = 12
MAX_DIFFS = 20
# A transcript is compared only up to this many words beyond its chunk's (the alignment costs
# their product), and read only this many times its chunk's characters: a recognizer looping on
# noise is doubtful with far fewer. The chunk itself is bounded by the model's token limit.
EXTRA_HEARD_WORDS = 40
HEARD_CHARS_PER_SPOKEN_CHAR = 4
# A run of differing words is compared letter by letter up to this many letter pairs; a longer
# one counts all its letters as errors (the most it could be): it is doubtful either way
MAX_LETTER_CELLS = 250_000

# What a check concludes of a chunk: heard right the first time, heard right once made again,
# or still doubtful (flagged for a person to listen to)
CLEAR, REMADE, FLAGGED = VERDICTS = ("clear", "remade", "flagged")

# British spellings the recognizer (an American one) writes the American way; both sides are
# folded alike, so "coloured" said and "colored" heard is no error. Words folded together by
# mistake differ by these letters alone ("prise", "prize"): sounds a listener could not tell apart
_SPELLING_FOLDS = (("our", "or"), ("ise", "ize"), ("isi", "izi"), ("yse", "yze"), ("lled", "led"))
_SPELLING_FOLDS += (("lling", "ling"), ("ller", "ler"), ("ogue", "og"))
_FINAL_FOLDS = (("tre", "ter"), ("tres", "ters"))
# Shorter words keep their spelling: "our" is not "or"
MIN_FOLDED_LENGTH = 5


def _folded(word: str) -> str:
    if len(word) < MIN_FOLDED_LENGTH:
        return word
    for british, american in _SPELLING_FOLDS:
        word = word.replace(british, american)
    for british, american in _FINAL_FOLDS:
        if word.endswith(british):
            return word[: -len(british)] + american
    return word


# A run of words in capitals is a heading or a shout, not initialisms to spell out
# ("SACRED TO THE MEMORY OF": said as words, heard as words). Each word starts at \b, and
# separators and capitals never overlap: one pass over the text
_CAPITALS_RUN = re.compile(r"\b[A-Z]{2,}(?:[^\w\n]+[A-Z]+\b)+")


def _lowered_run(match: re.Match) -> str:
    return match[0].lower()


def comparable_words(text: str) -> list[str]:
    """``text`` as the words compared: said forms (core/speech/scoring.py), spelling folded."""
    return [_folded(word) for word in _said_words(text)]


def _said_words(text: str) -> list[str]:
    from core.speech.scoring import words_for_scoring

    return words_for_scoring(_CAPITALS_RUN.sub(_lowered_run, text))


@dataclass(frozen=True)
class Hearing:
    """One listen to one version of a chunk."""

    spoken: str  # what the model was given
    heard: str  # what the recognizer wrote
    words: int  # spoken words compared
    errors: int  # substituted, left out or added, once compounds are forgiven
    differences: tuple[Diff, ...]
    letters: int = 0  # of the spoken words compared
    letter_errors: int = 0  # in the runs of words that differ

    @property
    def wer(self) -> float:
        return self.errors / self.words

    @property
    def cer(self) -> float:
        return self.letter_errors / self.letters if self.letters else 0.0


def _letters_of(words: tuple[str, ...]) -> str:
    return "".join(_folded(word) for word in words)


def _same_compound(diff: Diff) -> bool:
    # "to-day" said (to day) and "today" heard, or "sea port" and "seaport": the same sounds
    return (
        bool(diff.said) and bool(diff.heard) and _letters_of(diff.said) == _letters_of(diff.heard)
    )


def _letter_errors(diff: Diff) -> int:
    from core.speech.scoring import edit_distance

    said, heard = _letters_of(diff.said), _letters_of(diff.heard)
    if len(said) * len(heard) > MAX_LETTER_CELLS:
        return max(len(said), len(heard))
    return edit_distance(said, heard)


def hear(spoken: str, heard: str) -> Hearing | None:
    """Compare a chunk's spoken form with what was heard; None when the spoken form has no
    words to compare (only punctuation or symbols: nothing to check)."""
    from core.speech.scoring import word_diffs

    said = _said_words(spoken)
    if not said:
        return None
    clipped = heard[: HEARD_CHARS_PER_SPOKEN_CHAR * len(spoken) + EXTRA_HEARD_WORDS * 10]
    heard_words = _said_words(clipped)[: len(said) + EXTRA_HEARD_WORDS]
    diffs = [
        d
        for d in word_diffs(
            [_folded(w) for w in said],
            [_folded(w) for w in heard_words],
            shown_reference=said,
            shown_hypothesis=heard_words,
        )
        if not _same_compound(d)
    ]
    errors = sum(max(len(d.said), len(d.heard)) for d in diffs)
    letters = sum(len(_folded(word)) for word in said)
    letter_errors = sum(_letter_errors(d) for d in diffs)
    return Hearing(spoken, heard, len(said), errors, tuple(diffs), letters, letter_errors)


def is_doubtful(hearing: Hearing, max_cer: float) -> bool:
    """Heard too differently from what it should say: over ``max_cer`` of its letters, and by
    at least MIN_ERRORS_TO_DOUBT words (a short chunk's single slip is the recognizer's)."""
    return hearing.cer > max_cer and hearing.errors >= MIN_ERRORS_TO_DOUBT


def better(first: Hearing, second: Hearing) -> bool:
    """Whether ``second`` (the remake) was heard better than ``first``: fewer letter errors
    over the same letters. A tie keeps the first, at the speed asked for."""
    return second.letter_errors < first.letter_errors


def remake_speed(speed: float) -> float:
    """The speed a doubtful chunk is made again at: a little slower, or a little faster where
    slower would pass the slowest speed."""
    slower = speed * REMAKE_SPEED_FACTOR
    return round(slower if slower >= SLOWEST_SPEED else speed / REMAKE_SPEED_FACTOR, 4)


@dataclass(frozen=True)
class ChunkProof:
    """What proof-listening found in one chunk: its first hearing, the remake's when it was
    doubtful, which version was kept, and whether it stays doubtful (flagged)."""

    first: Hearing
    remade: Hearing | None = None
    kept_remake: bool = False
    flagged: bool = False

    @property
    def kept(self) -> Hearing:
        return self.remade if self.kept_remake and self.remade is not None else self.first

    @property
    def verdict(self) -> str:
        """clear: heard right the first time; remade: the remake was; flagged: neither."""
        if self.flagged:
            return FLAGGED
        return REMADE if self.remade is not None else CLEAR

    def as_row(self) -> dict:
        """As stored with the chunk (chunks.proof): the kept version's hearing."""
        kept = self.kept
        return {
            "spoken": kept.spoken,
            "heard": kept.heard,
            "words": kept.words,
            "errors": kept.errors,
            "wer": round(kept.wer, 4),
            "letters": kept.letters,
            "letter_errors": kept.letter_errors,
            "cer": round(kept.cer, 4),
            "differences": [
                {
                    "position": d.position,
                    "said": " ".join(d.said[:MAX_DIFF_WORDS]),
                    "heard": " ".join(d.heard[:MAX_DIFF_WORDS]),
                }
                for d in kept.differences[:MAX_DIFFS]
            ],
            "remade": self.remade is not None,
            "kept_remake": self.kept_remake,
            "first_cer": round(self.first.cer, 4),
            "flagged": self.flagged,
        }


def judge(first: Hearing, max_cer: float) -> ChunkProof | None:
    """The proof of a chunk heard once; None when it is doubtful and should be made again."""
    return None if is_doubtful(first, max_cer) else ChunkProof(first)


def judge_remake(first: Hearing, remade: Hearing, max_cer: float) -> ChunkProof:
    """The proof of a doubtful chunk and its remake: the version heard better is kept; the
    chunk is flagged when that one is doubtful too."""
    kept_remake = better(first, remade)
    kept = remade if kept_remake else first
    return ChunkProof(first, remade, kept_remake, flagged=is_doubtful(kept, max_cer))


def judge_without_remake(first: Hearing, max_cer: float) -> ChunkProof:
    """The proof of a chunk that cannot be made again (its audio is already out): flagged
    when doubtful."""
    return ChunkProof(first, flagged=is_doubtful(first, max_cer))
