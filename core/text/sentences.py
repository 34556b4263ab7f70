"""Text for Kokoro text-to-speech jobs: cleaning, token estimates, sentence and clause ends.

Kokoro-82M accepts at most MODEL_TOKEN_LIMIT phoneme tokens per inference; core.text.chunking cuts a
job's text into chunks that fit, at the sentence and clause ends found here.

Token counts are estimates from per-character weights (see estimate_tokens). As the estimate of a
string is exactly the sum of its characters' weights, the cost of any slice is a difference of
prefix sums (char_weights), which keeps chunking linear-time.

Languages whose words are written apart (English, Spanish, French...) share the rules here;
Japanese, written without spaces and read by its own G2P, has its own weights and ends its
sentences and clauses at its own punctuation (core/speech/languages.py says which a language is).
"""

import itertools
import re
import unicodedata
from collections.abc import Iterator

from core.speech.languages import DEFAULT_LANGUAGE, is_spaced

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

# Japanese, read by the Japanese G2P (core/speech/phonemizer.py): on Aozora Bunko prose a clause
# phonemizes to at most 0.9 and on average 0.73 tokens per estimated token. Other characters in
# Japanese text (punctuation, digits, Latin letters, symbols) weigh what they weigh in English.
_KANA_WEIGHT = 3  # a mora is one to three phonemes ("a", "ka", "kʲi"), plus a word's space
_KANJI_WEIGHT = 5  # its reading is about two morae
_KANJI_EXTRA = frozenset("々〆〇ヶ")  # iteration mark, shime, zero, ka: read like kanji

# ASCII symbols that are read out as words rather than as a pause
_WORD_SYMBOLS = frozenset("#$%&*+/<=>@\\^_`|~")
# Non-ASCII characters by their Unicode major category: numbers and symbols are read as words
_CATEGORY_WEIGHTS = {"N": _DIGIT_WEIGHT, "S": _SYMBOL_WEIGHT, "P": _PUNCT_WEIGHT}
# The dearest character: a chunk budget below it could not hold every character
MAX_CHAR_WEIGHT = max(
    _LOWER_WEIGHT, _UPPER_WEIGHT, _SPACE_WEIGHT, _PUNCT_WEIGHT, _DIGIT_WEIGHT, _SYMBOL_WEIGHT,
    _WIDE_WEIGHT, _OTHER_LETTER_WEIGHT, _OTHER_WEIGHT, _KANA_WEIGHT, _KANJI_WEIGHT,
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
    {"etc", "inc", "ltd", "co", "corp", "jr", "sr", "no", "nos", "vol", "fig", "al", "ft", "pp",
     "p", "tel", "fax", "ext", "ch", "chap", "sec", "art", "para", "eq", "ref", "op", "ed"}
)  # fmt: skip
_ABBREVIATION_WINDOW = 12  # longer than any abbreviation above, plus a few opening brackets
# Letters between dots never end a sentence either: "e.g.", "i.e.", "U.S. Army", "a.m.", "Ph.D."
_INITIALISM = re.compile(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}")


# Japanese: a sentence ends after 。！？ (or ASCII ! ?, or a fullwidth full stop) and the quotes
# or brackets that close on it, a clause after 、 and its kin; no space follows either
_JAPANESE_TERMINATORS = "。！？!?．"
_JAPANESE_CLOSERS = "」』）】〕〉》”’\"')]"
_JAPANESE_CLAUSE_MARKS = "、，,；;：:"
# A quote closed before these goes on in the same sentence: 「行こう。」と言った
_JAPANESE_QUOTE_GOES_ON = frozenset("とっ")


def _char_class(chars: str) -> str:
    return "[" + "".join(re.escape(c) for c in chars) + "]"


# Every regex here is linear. A match that may fail at the end of a run (of dots, closing
# brackets, spaces) starts only at the run's first character, by a look-behind, and takes the
# run with a possessive quantifier: a run of 50,000 dots or brackets not followed by a space is
# read once, not again from each of its positions (which would be quadratic).
_SENTENCE_END = re.compile(
    rf"(?<!{_char_class(_TERMINATORS)})({_char_class(_TERMINATORS)}++)"
    rf"{_char_class(_CLOSERS)}*+(?=\s)"
)
_ASIDE_CLOSERS = ")]"
_OTHER_CLOSERS = "".join(c for c in _CLOSERS if c not in _ASIDE_CLOSERS)
_CLAUSE_END = re.compile(
    rf"[,;:]{_char_class(_CLOSERS)}*+(?=\s)"  # after , ; : and its closing quotes, before a space
    # after an aside: a run of closers holding a ) or ], before a space (only the end is used)
    rf"|(?<!{_char_class(_CLOSERS)}){_char_class(_OTHER_CLOSERS)}*+"
    rf"{_char_class(_ASIDE_CLOSERS)}{_char_class(_CLOSERS)}*+(?=\s)"
    rf"|[—–]{_char_class(_CLOSERS)}*+"  # after a dash, spaced or not
    r"|(?<=\S)(?=\s++\()"  # before " (": the aside starts the next chunk
)
_NON_WS = re.compile(r"\S")
_JAPANESE_SENTENCE_END = re.compile(
    rf"{_char_class(_JAPANESE_TERMINATORS)}++({_char_class(_JAPANESE_CLOSERS)}*+)"
)
_JAPANESE_CLAUSE_END = re.compile(
    rf"{_char_class(_JAPANESE_CLAUSE_MARKS)}++{_char_class(_JAPANESE_CLOSERS)}*+"
)


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


def _japanese_char_weight(char: str) -> int:
    name = unicodedata.name(char, "")
    if name.startswith(("HIRAGANA", "KATAKANA")):
        return _KANA_WEIGHT
    if name.startswith("CJK UNIFIED IDEOGRAPH") or char in _KANJI_EXTRA:
        return _KANJI_WEIGHT
    return _char_weight(char)  # 。、「 weigh as punctuation does: . , “ and a space


class _WeightTable(dict[str, int]):
    """A memoized weight function, so that weighing a string is a C-level map over its
    characters."""

    def __init__(self, weigh) -> None:
        super().__init__()
        self._weigh = weigh

    def __missing__(self, char: str) -> int:
        weight = self[char] = self._weigh(char)
        return weight


_WEIGHTS = _WeightTable(_char_weight)
_JAPANESE_WEIGHTS = _WeightTable(_japanese_char_weight)


def _weights(lang: str) -> _WeightTable:
    return _WEIGHTS if is_spaced(lang) else _JAPANESE_WEIGHTS


def estimate_tokens(text: str, lang: str = DEFAULT_LANGUAGE) -> int:
    """Conservative estimate of the phoneme tokens Kokoro sees for text in ``lang`` (espeak-ng's,
    or the Japanese G2P's).

    Exactly additive: estimate_tokens(a + b) == estimate_tokens(a) + estimate_tokens(b), and at
    least 1 per character.
    """
    return sum(map(_weights(lang).__getitem__, text))


def char_weights(text: str, lang: str = DEFAULT_LANGUAGE) -> Iterator[int]:
    """Each character's estimated tokens, in order: they sum to estimate_tokens(text, lang)."""
    return map(_weights(lang).__getitem__, text)


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


def _ends_japanese_sentence(text: str, match: re.Match[str]) -> bool:
    quoted = bool(match.group(1))
    return not (quoted and text[match.end() : match.end() + 1] in _JAPANESE_QUOTE_GOES_ON)


def sentence_ends(text: str, lang: str = DEFAULT_LANGUAGE) -> list[int]:
    """The offsets just after each sentence end (its terminators and closing quotes)."""
    if not is_spaced(lang):
        return [
            m.end()
            for m in _JAPANESE_SENTENCE_END.finditer(text)
            if _ends_japanese_sentence(text, m)
        ]
    return [m.end() for m in _SENTENCE_END.finditer(text) if _ends_sentence(text, m)]


def clause_ends(text: str, lang: str = DEFAULT_LANGUAGE) -> list[int]:
    """The offsets of the clause boundaries inside sentences: after , ; : a dash or an aside,
    and before an opening parenthesis (in Japanese: after 、 and its kin)."""
    pattern = _CLAUSE_END if is_spaced(lang) else _JAPANESE_CLAUSE_END
    return [m.end() for m in pattern.finditer(text)]


def split_sentences(text: str, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """The sentences of a chunk (or any text), by the same rules that chunking cuts at."""
    bounds = [0, *sentence_ends(text, lang), len(text)]
    pieces = (text[start:end].strip() for start, end in itertools.pairwise(bounds))
    return [piece for piece in pieces if piece]
