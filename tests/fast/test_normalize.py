"""The spoken-form normalizer: book sentences, rewrite spans, and properties on any text."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from core.text.normalize import Rewrite, spoken_form, spoken_rewrites
from core.text.normalize.tables import (
    ABBREVIATIONS,
    DOTTED_PHRASES,
    MONTH_ABBREVIATIONS,
    NUMBER_PREFIXES,
    TITLE_AS_WRITTEN,
    TITLES,
    UNITS,
    WEEKDAY_ABBREVIATIONS,
)

# One file of cases for each rule module (as NeMo text processing keeps test_cases_<class>.txt),
# named after it, and untouched.tsv for sentences no rule may change
CASES_DIR = Path(__file__).parent / "data" / "normalize"
RULE_MODULES = Path(__file__).resolve().parents[2] / "core" / "text" / "normalize"
# Modules that hold no rules of their own: words for numbers, neighbouring words, word lists
NOT_RULES = {"__init__", "numbers", "context", "tables"}


def _load_cases(path: Path) -> list[tuple[str, str]]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        written, spoken = line.split("\t")
        cases.append((written, spoken))
    return cases


CASE_FILES = {path.stem: _load_cases(path) for path in sorted(CASES_DIR.glob("*.tsv"))}
CASES = [case for cases in CASE_FILES.values() for case in cases]


def test_every_rule_module_has_its_case_file_and_every_file_a_module() -> None:
    modules = {p.stem for p in RULE_MODULES.glob("*.py")} - NOT_RULES
    assert set(CASE_FILES) == modules | {"untouched"}
    assert all(CASE_FILES.values()), "a case file with no cases"


def test_untouched_sentences_come_back_as_written() -> None:
    changed = [w for w, s in CASE_FILES["untouched"] if w != s or spoken_form(w) != w]
    assert changed == []


def _apply(text: str, rewrites: list[Rewrite]) -> str:
    out, pos = [], 0
    for r in rewrites:
        out += [text[pos : r.start], r.spoken]
        pos = r.end
    return "".join(out) + text[pos:]


def test_the_case_file_is_broad() -> None:
    assert len(CASES) >= 180
    assert len({w for w, _ in CASES}) == len(CASES), "duplicate sentences"


@pytest.mark.parametrize(("written", "spoken"), CASES, ids=[w[:50] for w, _ in CASES])
def test_book_sentence(written: str, spoken: str) -> None:
    assert spoken_form(written) == spoken


@pytest.mark.parametrize(("written", "spoken"), CASES, ids=[w[:50] for w, _ in CASES])
def test_spoken_form_is_a_fixed_point(written: str, spoken: str) -> None:
    assert spoken_form(spoken) == spoken


# --- rewrites ---------------------------------------------------------------------------


def _check_rewrites(text: str, lang: str = "en-us") -> list[Rewrite]:
    rewrites = spoken_rewrites(text, lang)
    pos = 0
    for r in rewrites:
        assert isinstance(r, Rewrite)
        assert pos <= r.start < r.end <= len(text), (r, pos)
        pos = r.end
    assert _apply(text, rewrites) == spoken_form(text, lang)
    return rewrites


def test_rewrites_mark_every_change_and_nothing_else() -> None:
    text = "Dr. Smith paid $5 on Jan. 5, 1921 and left the U.S. Then he wrote Chapter XIV."
    rewrites = _check_rewrites(text)
    assert [(text[r.start : r.end], r.spoken) for r in rewrites] == [
        ("Dr.", "Doctor"),
        ("$5", "five dollars"),
        ("Jan. 5, 1921", "January fifth, nineteen twenty-one"),
        ("U.S.", "US."),
        ("XIV", "Fourteen"),
    ]
    # Between the rewrites the text is exactly as written.
    pos, kept = 0, []
    for r in rewrites:
        kept.append(text[pos : r.start])
        pos = r.end
    assert kept == ["", " Smith paid ", " on ", " and left the ", " Then he wrote Chapter "]


@pytest.mark.parametrize(("written", "spoken"), CASES[:60], ids=[w[:40] for w, _ in CASES[:60]])
def test_rewrites_reproduce_each_case(written: str, spoken: str) -> None:
    _check_rewrites(written)


def test_untouched_text_keeps_its_characters() -> None:
    text = "  Well,\tthen —  “quite so”,\nsaid he…  "
    assert spoken_rewrites(text) == []
    assert spoken_form(text) == text


def test_other_languages_and_odd_input_are_left_alone() -> None:
    text = "Dr. Smith paid $5."
    assert spoken_form(text, "fr") == text
    assert spoken_rewrites(text, "de-de") == []
    assert spoken_form(text, "EN-US") == "Doctor Smith paid five dollars."
    assert spoken_form("") == ""


# --- British usage ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("The cart held 123 sacks.", "The cart held one hundred and twenty-three sacks."),
        ("They walked 5 km to the inn.", "They walked five kilometres to the inn."),
        ("It was 1 km from the sea.", "It was one kilometre from the sea."),
        ("The 103rd Foot marched past.", "The one hundred and third Foot marched past."),
        ("Some 45% of them voted.", "Some forty-five per cent of them voted."),
        ("Pour 500 ml into a jug.", "Pour five hundred millilitres into a jug."),
        ("It cost £1.50 in 1805.", "It cost one pound and fifty pence in eighteen oh five."),
        ("It was 2005 and very wet.", "It was two thousand and five and very wet."),
        ("The train left at 9.30 a.m. sharp.", "The train left at nine thirty AM sharp."),
        ("The Hon. Mrs. Forbes was there.", "The Honourable Missus Forbes was there."),
        (
            "The letter was dated 3/4/1921.",
            "The letter was dated April third, nineteen twenty-one.",
        ),
        ("He had 10 000 men.", "He had ten thousand men."),
    ],
)
def test_british_english(written: str, spoken: str) -> None:
    assert spoken_form(written, "en-gb") == spoken


# --- properties -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(text: str) -> None:
    for lang in ("en-us", "en-gb"):
        _check_rewrites(text, lang)


_PIECES = st.sampled_from(
    [
        "1",
        "12",
        "1921",
        "1,234",
        "3.5",
        "-",
        "–",
        "/",
        ".",
        ". ",
        ",",
        ":",
        "$",
        "£",
        "%",
        "°",
        "'",
        '"',
        "@",
        "&",
        "#",
        "§",
        "½",
        " ",
        "\n",
        "I",
        "XIV",
        "Dr.",
        "St.",
        "U.S.",
        "a.m.",
        "No.",
        "pp.",
        "km",
        "in.",
        "Chapter",
        "Henry",
        "March",
        "May",
        "www.",
        "com",
        "http://",
        # raised digits: a digit to str.isdigit, not to \d or int() (issue 21)
        "²",
        "¹",
        "³⁰",
        "⁻",
        "x²",
        "10⁶",
        "1,²34",
    ]
)
_FUZZ = st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(_FUZZ)
def test_never_raises_on_book_like_fragments(text: str) -> None:
    _check_rewrites(text)


# Words the normalizer may legitimately replace even without a digit next to them: its
# abbreviations, units and address parts. Every other word of letters must survive.
_REPLACEABLE = {
    w.lower()
    for w in [
        *ABBREVIATIONS,
        *TITLES,
        *TITLE_AS_WRITTEN,
        *MONTH_ABBREVIATIONS,
        *WEEKDAY_ABBREVIATIONS,
        *NUMBER_PREFIXES,
        *UNITS,
        *(p.strip(".") for p in DOTTED_PHRASES),
        "dr",
        "st",
        "co",
        "vs",
        "v",
        "www",
        "http",
        "https",
        "ftp",
        "sq",
        "xmas",
        "am",  # after a number, a time of day: "5 Am" is said "five AM"
        "pm",
    ]
}
_ROMAN_LETTERS = set("IVXLCDM")
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1)
_SEPARATOR = st.sampled_from([" ", "  ", ", ", ". ", "; ", "! ", "? ", "\n", " - ", "/", " & "])
_NUMBERISH = st.sampled_from(["", " 5 ", " 1921 ", " 3.5 ", " $20 ", " 12% ", " 4th ", " 9:15 "])


def _survivable(word: str) -> bool:
    """A word the normalizer must never drop: letters only, not an abbreviation or unit it
    knows, not a possible Roman numeral or initialism, and long enough not to be one."""
    return (
        len(word) >= 2
        and word.lower() not in _REPLACEABLE
        and not set(word) <= _ROMAN_LETTERS
        and not (word.isupper() and len(word) <= 3)
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_WORD, _SEPARATOR, _NUMBERISH), max_size=25))
def test_ordinary_words_survive(parts: list[tuple[str, str, str]]) -> None:
    text = "".join(w + sep + num for w, sep, num in parts)
    out = spoken_form(text)
    words_in = Counter(w for w, _, _ in parts if _survivable(w))
    words_out = Counter(re.findall(r"[A-Za-z]+", out))
    for word, count in words_in.items():
        assert words_out[word] >= count, (word, text, out)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_WORD, st.sampled_from([" ", ", ", "; ", "! ", "? ", "\n"])), max_size=9))
def test_plain_prose_is_untouched(parts: list[tuple[str, str]]) -> None:
    """Letters, spaces and non-dot punctuation: nothing to say differently, so nothing
    changes (titles need a dot or a capitalised name after them; Roman numerals a keyword)."""
    text = "".join(w.lower() + sep for w, sep in parts if w.lower() not in _REPLACEABLE)
    assert spoken_form(text) == text


_PLAIN_WORDS = re.compile(r"[A-Za-z\s.,;:!?'\"-]*")


# Derandomized: the same 300 fragments every run, so that a run's verdict is the code's. Fresh
# fragments still turn up rare ones ('pp.x²': an abbreviation glued to a raised digit) that
# read differently a second time; each found is fixed and kept as an @example.
@settings(max_examples=300, deadline=None, derandomize=True)
@example("XIV²")
@example("www.§1")
@given(_FUZZ)
def test_idempotent_once_spoken(text: str) -> None:
    """Once the output is plain words and sentence punctuation, saying it again changes
    nothing. (Leftover digits or symbols next to new words, as in '$1/XIV' -> 'one dollar/XIV',
    may legitimately read differently a second time.)"""
    once = spoken_form(text)
    assume(_PLAIN_WORDS.fullmatch(once))
    assert spoken_form(once) == once


def test_a_megabyte_normalizes_quickly() -> None:
    paragraph = " ".join(w for w, _ in CASES[:40]) + "\n"
    text = (paragraph * (1_000_000 // len(paragraph) + 1))[:1_000_000]
    started = time.perf_counter()
    out = spoken_form(text)
    assert time.perf_counter() - started < 10  # generous for a shared CI box; ~1 s locally
    assert len(out) > len(text)


@pytest.mark.parametrize(
    "text",
    [
        "9" * 5000,
        "1" * 200 + "." + "2" * 200,
        "." * 100_000,
        "A." * 50_000,
        "$" * 10_000 + "5",
        "1/" * 20_000,
        "-1" * 20_000,
        "I " * 50_000,
        "www." + "a." * 20_000,
        "x@" * 20_000,
    ],
)
def test_pathological_inputs_are_linear(text: str) -> None:
    started = time.perf_counter()
    _check_rewrites(text)
    assert time.perf_counter() - started < 5
