"""Words as they are said, and how far what was heard is from what was said.

Speech recognizers write what they hear in their own house style ("$340", "9:15 p.m.", "Dr.",
"USDA"), while a chunk's spoken form has its numbers in words. Both are reduced by
``words_for_scoring`` to plain lowercase words before they are compared, so that the comparison
is about the words spoken, not about spelling. Shared by the worker's proof-listening
(worker/proof.py, core/speech/proof.py) and the tests' recognizer checks (tests/support/asr.py).

Pure and bounded: the patterns are linear in their text, and an alignment costs the product of
its two word counts, which callers keep small (a chunk's words; ``clipped_hypothesis``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.text.inflect_engine import inflect_engine

_ENGINE = inflect_engine()
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# Only the titles Whisper abbreviates by itself; everything else it writes out
TITLES = {"dr": "doctor", "mr": "mister", "mrs": "missus", "ms": "miz", "prof": "professor"}

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
UNITS = {
    "km": "kilometers",
    "kg": "kilograms",
    "cm": "centimeters",
    "mm": "millimeters",
    "ft": "feet",
    "mi": "miles",
    "lb": "pounds",
    "lbs": "pounds",
}


# Longer digit runs are read digit by digit: no one says a number of quadrillions, and the
# number-words engine's cost grows faster than a number's length
MAX_CARDINAL_DIGITS = 15


def cardinal(n: int) -> str:
    # American usage without "and", like the reference pages and the en-us voices
    return _ENGINE.number_to_words(n, andword="", comma="", zero="zero")


def _whole(digits: str) -> str:
    """Written digits (thousands commas allowed) as a cardinal, or digit by digit when long."""
    plain = digits.replace(",", "")
    if len(plain) > MAX_CARDINAL_DIGITS:
        return " ".join(DIGITS[int(d)] for d in plain)
    return cardinal(int(plain))


def year_words(n: int) -> str:
    """As a year is said: 1921 'nineteen twenty-one', 1905 'nineteen oh five', 1900
    'nineteen hundred', 2005 'two thousand five', 2021 'twenty twenty-one'."""
    high, low = divmod(n, 100)
    if n % 1000 == 0 or 2000 <= n < 2010:
        return cardinal(n)
    if low == 0:
        return f"{cardinal(high)} hundred"
    if low < 10:
        return f"{cardinal(high)} oh {cardinal(low)}"
    return f"{cardinal(high)} {cardinal(low)}"


def _plural(words: str) -> str:
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _number(text: str) -> str:
    """A written number as said: years as years, leading zeros digit by digit, decimals with
    'point', the rest as cardinals."""
    if "." in text:
        whole, fraction = text.split(".", 1)
        return f"{_number(whole or '0')} point {' '.join(DIGITS[int(d)] for d in fraction)}"
    if "," in text or len(text) > MAX_CARDINAL_DIGITS:
        return _whole(text)
    if len(text) > 1 and text.startswith("0"):
        return " ".join(DIGITS[int(d)] for d in text)
    n = int(text)
    return year_words(n) if len(text) == 4 and 1100 <= n < 2100 else cardinal(n)


_DIGIT_RUN = re.compile(r"\d+")
_WORD = re.compile(r"[a-z0-9]+")


def _digit_by_digit(m: re.Match) -> str:
    return " , ".join(" ".join(DIGITS[int(d)] for d in group) for group in _DIGIT_RUN.findall(m[0]))


def _one(digits: str) -> bool:
    return digits.replace(",", "").lstrip("0") == "1"


def _money(m: re.Match) -> str:
    whole = m["whole"]
    words = f"{_whole(whole)} {'dollar' if _one(whole) else 'dollars'}"
    if m["cents"] and int(m["cents"]):
        cents = int(m["cents"])
        words += f" and {cardinal(cents)} {'cent' if cents == 1 else 'cents'}"
    return f" {words} "


def _pounds(m: re.Match) -> str:
    whole = m["whole"]
    return f" {_whole(whole)} {'pound' if _one(whole) else 'pounds'} "


def _clock(m: re.Match) -> str:
    hour, minute, half = int(m["hour"]), m["minute"], m["half"]
    words = cardinal(hour)
    if minute and minute != "00":
        words += " " + (
            f"oh {cardinal(int(minute))}" if minute[0] == "0" else cardinal(int(minute))
        )
    elif minute == "00" and not half:
        words += " o'clock"
    if half:
        words += f" {half.lower()} m"
    return f" {words} "


def _ordinal(m: re.Match) -> str:
    return f" {_ENGINE.ordinal(cardinal(int(m[1])))} "


def _day_of_month(m: re.Match) -> str:
    return m[0][: m.start(1) - m.start()] + _ENGINE.ordinal(cardinal(int(m[1])))


def _decade(m: re.Match) -> str:
    return f" {_plural(year_words(int(m[1])))} "


def _letters(m: re.Match) -> str:
    return " " + " ".join(m[0].replace(".", "").lower()) + " "


def _web(m: re.Match) -> str:
    spoken = m[0].replace(".", " dot ").replace("/", " slash ").replace("@", " at ")
    return f" {spoken} "


def _title(m: re.Match) -> str:
    return f" {TITLES[m[1].lower()]} "


def _roman(m: re.Match) -> str:
    value = _roman_value(m["numeral"])
    if m["name"] in ("Chapter", "Part", "Book", "Volume", "Act"):
        return f"{m['name']} {cardinal(value)}"
    return f"{m['name']} the {_ENGINE.ordinal(cardinal(value))}"  # King George the Fifth


def _roman_value(numeral: str) -> int:
    values = [{"I": 1, "V": 5, "X": 10}[c] for c in numeral]
    return sum(-v if v < after else v for v, after in zip(values, [*values[1:], 0], strict=True))


def _saint_or_street(m: re.Match) -> str:
    return " saint " if m["next"] and m["next"][0].isupper() else " street "


# Applied in order to the text as written: each turns one written convention into words
_RULES: tuple[tuple[re.Pattern, object], ...] = (
    (re.compile(r"[’‘]"), "'"),
    (re.compile(r"&"), " and "),
    # Web addresses before numbers and dotted initialisms claim their dots
    # Each starts only where a run of name characters starts (not at every \b inside one):
    # a long run without an address is then read once, not once per dot
    (re.compile(r"(?<![\w.-])[\w.-]+@[\w-]+(?:\.[\w-]+)+"), _web),
    (
        re.compile(
            r"(?<![\w.-])(?:https?://)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,6}(?:/[\w/-]*)?", re.I
        ),
        _web,
    ),
    # Phone numbers digit by digit, including ones with a digit misheard away (612-55-0147)
    (
        re.compile(r"\(\d{3}\) ?\d{3}-\d{4}\b|\b\d{2,4}(?:[.-]\d{2,4}){2,}\b|\b\d{2,4}-\d{4,8}\b"),
        _digit_by_digit,
    ),
    # ...and as Whisper also writes digits read one by one: "612, 5550147", "612,555,0147"
    # (never a cardinal: a thousands group has three digits, and cardinals get commas)
    (re.compile(r"\b\d{3},? ?\d{3},? ?\d{4}\b|\b\d{3},? \d{7}\b|\b\d{7,}\b"), _digit_by_digit),
    (re.compile(r"\$(?P<whole>\d[\d,]*)(?:\.(?P<cents>\d\d))?"), _money),
    (re.compile(r"£(?P<whole>\d[\d,]*)"), _pounds),
    (
        re.compile(r"\b(?P<hour>\d{1,2})(?:[:.](?P<minute>\d\d))?\s*(?P<half>[ap])\.?m\b\.?", re.I),
        _clock,
    ),
    (re.compile(r"\b(?P<hour>\d{1,2}):(?P<minute>\d\d)\b(?P<half>)"), _clock),
    (re.compile(r"(\d)\s*%"), r"\1 percent"),
    (re.compile(r"(\d)\s*(km|kg|cm|mm|ft|mi|lbs?)\b\.?"), lambda m: f"{m[1]} {UNITS[m[2]]}"),
    # No \s* before the sign: spaces left before " degrees" split words all the same
    (re.compile(r"°\s*C\b"), " degrees celsius"),
    (re.compile(r"°\s*F\b"), " degrees fahrenheit"),
    (re.compile(r"°"), " degrees"),
    (re.compile(r"(?<![\w-])[-−](?=\d)"), " minus "),
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.I), _ordinal),
    # The day of a date is said as an ordinal even where Whisper writes "December 4"
    (re.compile(rf"\b(?:{MONTHS}) (\d{{1,2}})\b(?![:.,]?\d|st|nd|rd|th)"), _day_of_month),
    (re.compile(r"\b(\d{4})'?s\b"), _decade),
    (re.compile(r"\b(dr|mr|mrs|ms|prof)\b\.?", re.I), _title),
    # "St. Paul" is a saint, "Fourth St." a street
    (re.compile(r"\bSt\b\.?(?=(?:\s+(?P<next>\w))?)"), _saint_or_street),
    (re.compile(r"\b(?P<name>[A-Z][a-z]+) (?P<numeral>[IVX]{2,}|V|X)\b"), _roman),
    # Dotted initialisms (U.S., Ph.D., p.m.): letter by letter
    (re.compile(r"\b(?:[A-Za-z]{1,2}\.){1,}[A-Za-z]{1,2}\b\.?"), _letters),
    # Initialisms in capitals (USDA, MIT, PM): letter by letter
    (re.compile(r"\b[A-Z]{2,6}\b"), _letters),
    (re.compile(r"\bPhD\b"), _letters),
    (re.compile(r"\d[\d,]*(?:\.\d+)?"), lambda m: f" {_number(m[0].rstrip(','))} "),
)


def words_for_scoring(text: str) -> list[str]:
    """Lowercase words with numbers, money, times, initialisms and symbols as they are said,
    hyphenated words split and punctuation gone: "Dr. Marsh, 34, paid $2.50 at 9:15 p.m." ->
    doctor marsh thirty four paid two dollars and fifty cents at nine fifteen p m."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    text = text.lower().replace("'", "")
    return _WORD.findall(text)


# --- Word error rate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Diff:
    """Where the hypothesis departs from the reference: ``said`` is what was expected,
    ``heard`` what was recognised (either may be empty)."""

    position: int  # index of the first reference word involved
    said: tuple[str, ...]
    heard: tuple[str, ...]


def _alignment(reference: Sequence[str], hypothesis: Sequence[str]) -> list[tuple[int, int]]:
    """Levenshtein over words; the (reference index, hypothesis index) pairs on one cheapest
    path, with -1 for a missing side. Ties go to a match or substitution, then a deletion."""
    rows, cols = len(reference) + 1, len(hypothesis) + 1
    # Plain lists: a chunk's few hundred cells cost less than numpy's per-element indexing
    cost = [[0] * cols for _ in range(rows)]
    cost[0] = list(range(cols))
    for i in range(1, rows):
        above, here = cost[i - 1], cost[i]
        here[0] = i
        said = reference[i - 1]
        for j in range(1, cols):
            here[j] = min(above[j - 1] + (said != hypothesis[j - 1]), above[j] + 1, here[j - 1] + 1)
    path: list[tuple[int, int]] = []
    i, j = rows - 1, cols - 1
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (reference[i - 1] != hypothesis[j - 1]):
            path.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            path.append((i - 1, -1))
            i -= 1
        else:
            path.append((-1, j - 1))
            j -= 1
    return path[::-1]


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    return sum(
        1
        for i, j in _alignment(reference, hypothesis)
        if i < 0 or j < 0 or reference[i] != hypothesis[j]
    )


def word_error_rate(reference: Sequence[str], hypothesis: Sequence[str]) -> float:
    """(substitutions + deletions + insertions) / reference words."""
    if not reference:
        raise ValueError("word error rate needs at least one reference word")
    return edit_distance(reference, hypothesis) / len(reference)


def word_diffs(
    reference: Sequence[str],
    hypothesis: Sequence[str],
    *,
    shown_reference: Sequence[str] | None = None,
    shown_hypothesis: Sequence[str] | None = None,
) -> list[Diff]:
    """The runs of words that differ, each as what was said and what was heard: the words
    compared, or their ``shown_`` forms at the same positions (compared folded, shown as
    written)."""
    shown_said = reference if shown_reference is None else shown_reference
    shown_heard = hypothesis if shown_hypothesis is None else shown_hypothesis
    diffs: list[Diff] = []
    said: list[str] = []
    heard: list[str] = []
    position = next_reference = 0
    for i, j in _alignment(reference, hypothesis):
        if i >= 0 and j >= 0 and reference[i] == hypothesis[j]:
            if said or heard:
                diffs.append(Diff(position, tuple(said), tuple(heard)))
                said, heard = [], []
        else:
            if not said and not heard:
                position = next_reference
            if i >= 0:
                said.append(shown_said[i])
            if j >= 0:
                heard.append(shown_heard[j])
        if i >= 0:
            next_reference = i + 1
    if said or heard:
        diffs.append(Diff(position, tuple(said), tuple(heard)))
    return diffs
