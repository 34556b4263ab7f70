"""Text normalization and chunking for Kokoro text-to-speech jobs.

Kokoro-82M accepts at most MODEL_TOKEN_LIMIT phoneme tokens per inference, so a job's text is cut
into chunks that each fit a token budget. The product promises that no text is dropped or
reordered: the chunk texts are, in order, consecutive slices of the (normalized) input, and the
gaps between them hold only whitespace. Chunks end where a listener expects a pause: a paragraph
end, else the last sentence end that fits, else a clause boundary, else a word boundary; only a
single "word" longer than the budget is sliced mid-word.

Token counts are estimates from per-character weights (see estimate_tokens). As the estimate of a
string is exactly the sum of its characters' weights, the cost of any slice is a difference of
prefix sums, which keeps chunking linear-time even on pathological input (no spaces, no
punctuation, megabytes of text).
"""

import itertools
import re
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import accumulate

MODEL_TOKEN_LIMIT = 510  # Kokoro's hard limit on phoneme tokens per inference

# --- Token weights ---------------------------------------------------------------------------
# Calibrated against kokoro-onnx's espeak-ng (en-us) phonemizer, where every IPA character of its
# output is a token: narrative prose phonemizes to about 0.85 tokens per estimated token and
# technical prose to about 0.9, rarely above 1.0 over a 250-token chunk. Text that espeak spells
# out (URLs, acronyms, unpronounceable strings) can exceed its estimate; that is acceptable, as
# the worker re-checks every chunk with the real phonemizer.
_LOWER_WEIGHT = 1  # a letter is about one phoneme
_UPPER_WEIGHT = 2  # capitals start acronyms, spelled out letter by letter: "FBI" -> ˌɛfbˌiːˈaɪ
_SPACE_WEIGHT = 2  # the gap, plus the stress mark and length marks ("ː") of the next word
_PUNCT_WEIGHT = 2  # kept as a token, and "." inside a word is read out as "dot"
_DIGIT_WEIGHT = 10  # read out: "1,234,567" -> "one million two hundred thirty-four thousand..."
_SYMBOL_WEIGHT = 10  # read as words: "%" -> pɚsˈɛnt, "*" -> ˈæstɚɹˌɪsk
_WIDE_WEIGHT = 16  # CJK: espeak en-us says "Chinese letter" (tʃˈaɪniːzlˌɛɾɚ) per character
_OTHER_LETTER_WEIGHT = 4  # other scripts (Cyrillic, Greek...) are spelled out letter by letter
_OTHER_WEIGHT = 1  # combining marks, format characters, anything unknown: never below 1

# ASCII symbols that are read out as words rather than as a pause
_WORD_SYMBOLS = frozenset("#$%&*+/<=>@\\^_`|~")
# Non-ASCII characters by their Unicode major category: numbers and symbols are read as words
_CATEGORY_WEIGHTS = {"N": _DIGIT_WEIGHT, "S": _SYMBOL_WEIGHT, "P": _PUNCT_WEIGHT}
_MAX_WEIGHT = max(
    _LOWER_WEIGHT, _UPPER_WEIGHT, _SPACE_WEIGHT, _PUNCT_WEIGHT, _DIGIT_WEIGHT, _SYMBOL_WEIGHT,
    _WIDE_WEIGHT, _OTHER_LETTER_WEIGHT, _OTHER_WEIGHT,
)  # fmt: skip

# --- Normalization -----------------------------------------------------------------------------
# Invisible characters that only confuse the phonemizer: zero-width space/joiners, BOM, word
# joiner, soft hyphen
_INVISIBLE = "\u200b\u200c\u200d\ufeff\u2060\u00ad"
_SPACE_RUN = re.compile(r" {2,}")

# --- Sentence and clause boundaries --------------------------------------------------------------
_TERMINATORS = ".!?…"
_CLOSERS = "\"'”’»)]}"  # closing quotes/brackets stay with the sentence they close
_OPENERS = "\"'“‘«([{"
# A title is followed by a name and "vs." by a rival: never a sentence end. A single capital
# neither: it is an initial ("J. R. R. Tolkien").
_NEVER_SENTENCE_END = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "st", "mt", "rev", "fr", "gen", "col", "capt", "lt",
        "sgt", "gov", "sen", "rep", "hon", "cf", "vs", "viz", "approx",
    }
)  # fmt: skip
# These end a sentence only before a capital: "etc. and so on" vs "etc. Then"
_ABBREVIATIONS = frozenset(
    {"etc", "inc", "ltd", "co", "corp", "jr", "sr", "no", "vol", "fig", "al", "ft", "pp", "p"}
)
_ABBREVIATION_WINDOW = 12  # longer than any abbreviation above, plus a few opening brackets
# Letters between dots never end a sentence either: "e.g.", "i.e.", "U.S. Army", "a.m.", "Ph.D."
_INITIALISM = re.compile(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}")


def _char_class(chars: str) -> str:
    return "[" + "".join(re.escape(c) for c in chars) + "]"


# Possessive quantifiers and the look-behind make every regex here linear: a run of 50,000 dots
# is matched once, not retried from each of its positions.
_SENTENCE_END = re.compile(
    rf"(?<!{_char_class(_TERMINATORS)})({_char_class(_TERMINATORS)}++)"
    rf"{_char_class(_CLOSERS)}*+(?=\s)"
)
_CLAUSE_END = re.compile(
    rf"[,;:)\]]{_char_class(_CLOSERS)}*+(?=\s)"  # after , ; : or an aside, before a space
    rf"|[—–]{_char_class(_CLOSERS)}*+"  # after a dash, spaced or not
    r"|(?<=\S)(?=\s++\()"  # before " (": the aside starts the next chunk
)
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*+\n\s*+")  # a blank line, whitespace around it
_NON_WS = re.compile(r"\S")


class Pause(StrEnum):
    """The boundary that follows a chunk, so that assembly can insert a fitting silence."""

    CLAUSE = "clause"  # cut inside a sentence (a long one, or the short first chunk)
    SENTENCE = "sentence"
    PARAGRAPH = "paragraph"
    CHAPTER = "chapter"
    END = "end"  # last chunk of the whole text


@dataclass(frozen=True)
class TextChunk:
    index: int  # 0-based, in order over the whole job
    chapter: int  # 0-based chapter index
    text: str  # a slice of the normalized chapter text, without surrounding whitespace
    tokens: int  # estimate_tokens(text)
    pause_after: Pause


def _build_clean_table() -> dict[int, str | None]:
    """str.translate table: whitespace other than newline -> space; control, invisible -> gone."""
    table: dict[int, str | None] = {}
    # Every Unicode White_Space and Cc character lies below U+3001
    for code in range(0x3001):
        char = chr(code)
        if char == "\n":
            continue
        if char.isspace():
            table[code] = " "
        elif unicodedata.category(char) == "Cc":
            table[code] = None
    table.update((ord(char), None) for char in _INVISIBLE)
    return table


_CLEAN_TABLE = _build_clean_table()


def normalize_text(text: str) -> str:
    """Canonical text: NFC, single spaces, hard-wrapped lines joined, paragraphs split by "\\n\\n".

    Idempotent, so normalizing stored text again changes nothing.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_CLEAN_TABLE)
    paragraphs: list[str] = []
    lines: list[str] = []
    for raw_line in text.split("\n"):
        line = _SPACE_RUN.sub(" ", raw_line).strip()
        if line:
            lines.append(line)
        elif lines:  # a blank line ends the paragraph
            paragraphs.append(" ".join(lines))
            lines = []
    if lines:
        paragraphs.append(" ".join(lines))
    # NFC last: removing an invisible character can bring a base letter and a combining mark
    # together. Composition never creates or removes whitespace, so the layout above stays.
    return unicodedata.normalize("NFC", "\n\n".join(paragraphs))


def _char_weight(char: str) -> int:
    if char.isspace():
        return _SPACE_WEIGHT
    if char.isascii():
        if char.islower():
            return _LOWER_WEIGHT
        if char.isupper():
            return _UPPER_WEIGHT
        if char.isdigit():
            return _DIGIT_WEIGHT
        return _SYMBOL_WEIGHT if char in _WORD_SYMBOLS else _PUNCT_WEIGHT
    if char.isalpha():
        if unicodedata.east_asian_width(char) in ("W", "F"):
            return _WIDE_WEIGHT
        if unicodedata.name(char, "").startswith("LATIN"):  # accented Latin reads like ASCII
            return _UPPER_WEIGHT if char.isupper() else _LOWER_WEIGHT
        return _OTHER_LETTER_WEIGHT
    return _CATEGORY_WEIGHTS.get(unicodedata.category(char)[0], _OTHER_WEIGHT)


class _WeightTable(dict[str, int]):
    """Memoized _char_weight, so that weighing a string is a C-level map over its characters."""

    def __missing__(self, char: str) -> int:
        weight = self[char] = _char_weight(char)
        return weight


_WEIGHTS = _WeightTable()


def estimate_tokens(text: str) -> int:
    """Conservative estimate of the espeak-ng (en-us) phoneme tokens Kokoro sees for text.

    Exactly additive: estimate_tokens(a + b) == estimate_tokens(a) + estimate_tokens(b), and at
    least 1 per character.
    """
    return sum(map(_WEIGHTS.__getitem__, text))


def has_speakable_text(text: str) -> bool:
    """True when the text holds something the voice can read (a letter or a digit)."""
    return any(char.isalnum() for char in text)


def _word_before(text: str, pos: int) -> str:
    """The whitespace-delimited word ending at pos, without opening quotes/brackets."""
    window = text[max(0, pos - _ABBREVIATION_WINDOW) : pos]
    if not window or window[-1].isspace():
        return ""
    return window.split()[-1].lstrip(_OPENERS)


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    """Whether a terminator (already known to be followed by whitespace) ends a sentence."""
    following = _NON_WS.search(text, match.end())
    if following is None:
        return True
    next_char = text[following.start()]
    if next_char.islower():  # "Wait... what?", '"Stop!" he said', "etc. and"
        return False
    if match.group(1) != ".":
        return True
    word = _word_before(text, match.start())
    if (len(word) == 1 and word.isupper()) or _INITIALISM.fullmatch(word):
        return False
    word = word.lower()
    if word in _NEVER_SENTENCE_END:
        return False
    return not (word in _ABBREVIATIONS and next_char.isdigit())  # "No. 5", "pp. 12"


def _sentence_ends(text: str) -> list[int]:
    return [m.end() for m in _SENTENCE_END.finditer(text) if _ends_sentence(text, m)]


def split_sentences(text: str) -> list[str]:
    """The sentences of a chunk (or any text), by the same rules that chunking cuts at."""
    bounds = [0, *_sentence_ends(text), len(text)]
    pieces = (text[start:end].strip() for start, end in itertools.pairwise(bounds))
    return [piece for piece in pieces if piece]


def _paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-empty paragraph, trimmed of surrounding whitespace."""
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        yield from _trimmed(text, start, match.start())
        start = match.end()
    yield from _trimmed(text, start, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    first = _NON_WS.search(text, start, end)
    if first is None:
        return
    while text[end - 1].isspace():
        end -= 1
    yield first.start(), end


def _last_within(ends: Sequence[int], start: int, limit: int) -> int | None:
    """The last boundary in (start, limit], if any."""
    i = bisect_right(ends, limit) - 1
    return ends[i] if i >= 0 and ends[i] > start else None


def _first_after(ends: Sequence[int], start: int, default: int) -> int:
    """The first boundary after start, else default."""
    i = bisect_right(ends, start)
    return min(ends[i], default) if i < len(ends) else default


def _last_word_end(text: str, start: int, limit: int) -> int | None:
    """The last end of a word in (start, limit]. The scan is at most one chunk long."""
    for i in range(limit, start, -1):
        if text[i].isspace() and not text[i - 1].isspace():
            return i
    return None


def _hard_cut(text: str, start: int, limit: int) -> int:
    """Slice a word too long for the budget, not between a letter and its combining marks."""
    cut = max(limit, start + 1)
    while cut > start + 1 and _is_mark(text[cut]):
        cut -= 1
    # Nothing but marks within reach: slice among them rather than crawl a character at a time
    return max(limit, start + 1) if _is_mark(text[cut]) else cut


def _is_mark(char: str) -> bool:
    return unicodedata.category(char)[0] == "M"


@dataclass(frozen=True)
class _Layout:
    """A text with its prefix token sums and boundary positions, for O(log n) cut decisions."""

    text: str
    prefix: array  # prefix[i] == estimate_tokens(text[:i])
    sentence_ends: list[int]
    clause_ends: list[int]

    @classmethod
    def of(cls, text: str, weights: Sequence[int] | None = None) -> "_Layout":
        costs = map(_WEIGHTS.__getitem__, text) if weights is None else weights
        prefix = array("q", accumulate(costs, initial=0))
        clause_ends = [m.end() for m in _CLAUSE_END.finditer(text)]
        return cls(text, prefix, _sentence_ends(text), clause_ends)

    def pause_at(self, end: int) -> Pause:
        """The pause after a chunk ending at ``end`` inside a paragraph."""
        index = bisect_right(self.sentence_ends, end) - 1
        at_sentence_end = index >= 0 and self.sentence_ends[index] == end
        return Pause.SENTENCE if at_sentence_end else Pause.CLAUSE

    def cost(self, start: int, end: int) -> int:
        return self.prefix[end] - self.prefix[start]

    def reach(self, start: int, budget: int) -> int:
        """The furthest end such that text[start:end] costs at most budget."""
        return bisect_right(self.prefix, self.prefix[start] + budget) - 1

    def cut(self, start: int, stop: int, budget: int) -> int:
        """End of the chunk starting at start: the best boundary within budget, before stop."""
        limit = self.reach(start, budget)
        if limit >= stop:
            return stop
        for ends in (self.sentence_ends, self.clause_ends):
            end = _last_within(ends, start, limit)
            if end is not None:
                return end
        end = _last_word_end(
            self.text, start, self.reach(start, self._word_share(start, stop, budget))
        )
        if end is None:
            end = _last_word_end(self.text, start, limit)
        return end if end is not None else _hard_cut(self.text, start, limit)

    def _word_share(self, start: int, stop: int, budget: int) -> int:
        """Budget for one of the equal parts a clause too long for budget is cut into by words.

        Cutting greedily would leave a dangling word or two as a chunk of its own, which Kokoro
        reads with odd prosody.
        """
        segment_end = min(
            _first_after(self.sentence_ends, start, stop),
            _first_after(self.clause_ends, start, stop),
        )
        cost = self.cost(start, segment_end)
        parts = -(-cost // budget)  # ceiling division
        return -(-cost // parts)


def _check_budget(name: str, value: int) -> None:
    # Every single character must fit a chunk, or a chunk could not honour its budget
    if value < _MAX_WEIGHT:
        raise ValueError(f"{name} must be at least {_MAX_WEIGHT}, got {value}")


def _chunk_spans(
    layout: _Layout, max_tokens: int, first_budget: int
) -> list[tuple[int, int, Pause]]:
    """(start, end, pause) of every chunk in order; chunks never cross a paragraph boundary."""
    spans: list[tuple[int, int, Pause]] = []
    for start, stop in _paragraph_spans(layout.text):
        while True:
            end = layout.cut(start, stop, first_budget if not spans else max_tokens)
            if end == stop:
                spans.append((start, end, Pause.PARAGRAPH))
                break
            spans.append((start, end, layout.pause_at(end)))
            following = _NON_WS.search(layout.text, end, stop)
            assert following is not None  # a paragraph ends on a non-space character
            start = following.start()
    return spans


def chunk_text(
    text: str,
    *,
    max_tokens: int,
    first_chunk_tokens: int | None = None,
    chapter: int = 0,
    start_index: int = 0,
    weights: Sequence[int] | None = None,
) -> list[TextChunk]:
    """Cut (normalized) text into chunks of at most max_tokens estimated tokens.

    Sentences of a paragraph are packed greedily; a sentence too long for the budget is split at
    clauses, then words, then mid-word. The first chunk is held to first_chunk_tokens, when given,
    so that the first audio comes back quickly. ``weights`` gives each character's cost instead
    of ``estimate_tokens``'s (core/chunk_plan.py weighs what is spoken).
    """
    _check_budget("max_tokens", max_tokens)
    first_budget = max_tokens
    if first_chunk_tokens is not None:
        _check_budget("first_chunk_tokens", first_chunk_tokens)
        first_budget = min(first_chunk_tokens, max_tokens)
    layout = _Layout.of(text, weights)
    chunks = [
        TextChunk(
            index=start_index + i,
            chapter=chapter,
            text=text[start:end],
            tokens=layout.cost(start, end),
            pause_after=pause,
        )
        for i, (start, end, pause) in enumerate(_chunk_spans(layout, max_tokens, first_budget))
    ]
    if chunks:
        chunks[-1] = replace(chunks[-1], pause_after=Pause.END)
    return chunks


def chunk_chapters(
    chapters: list[str], *, max_tokens: int, first_chunk_tokens: int | None = None
) -> list[TextChunk]:
    """Chunk each chapter in turn, with indices running on across chapters.

    The last chunk of a chapter pauses for a chapter break, the last of the job ends it; the
    first_chunk_tokens budget applies only to the job's very first chunk.
    """
    chunks: list[TextChunk] = []
    for number, chapter_text in enumerate(chapters):
        part = chunk_text(
            chapter_text,
            max_tokens=max_tokens,
            first_chunk_tokens=None if chunks else first_chunk_tokens,
            chapter=number,
            start_index=len(chunks),
        )
        if part and chunks:
            chunks[-1] = replace(chunks[-1], pause_after=Pause.CHAPTER)
        chunks.extend(part)
    return chunks
