"""Tests for core.text.sentences and core.text.chunking: normalization, token estimates and
chunking.

The property tests pin down the product's promise: chunking never drops or reorders text.
"""

import random
import string
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.text.chunking import Pause, TextChunk, chunk_chapters, chunk_text
from core.text.sentences import (
    MODEL_TOKEN_LIMIT,
    estimate_tokens,
    has_speakable_text,
    normalize_text,
)

_COMMON = """
    the of and a to in is was he she it that for on with as his her they at by this had not but
    from or have an were which one all we when there can been would time said could what about
    into more other then them these so some like him over only very
"""
WORDS = _COMMON.split()
# Words with dots, quotes, brackets and digits that sentence splitting must handle
TRICKY_WORDS = [
    "Mr.", "Mrs.", "Dr.", "St.", "e.g.", "i.e.", "etc.", "U.S.", "3.14", "1,000", "12:30",
    '"Stop."', '"Why?"', "(aside)", "(see", "above).", "—", "–", "well,", "so;", "thus:",
    "…", "...", "$5", "50%", "A&B", "x@y.com", "naïve", "café", "Привет", "日本語", "😀",
]  # fmt: skip


def assert_chunks_cover(source: str, chunks: list[TextChunk], max_tokens: int) -> None:
    """The key invariant: chunks are, in order, non-overlapping slices of source with only
    whitespace between them and around them, each within the token budget."""
    pos = 0
    for chunk in chunks:
        assert chunk.text
        assert chunk.text == chunk.text.strip()
        assert chunk.tokens == estimate_tokens(chunk.text) <= max_tokens
        at = source.find(chunk.text, pos)
        assert at >= 0, f"chunk {chunk.index} is not the next slice"
        assert source[pos:at].strip() == "", f"text dropped before chunk {chunk.index}"
        pos = at + len(chunk.text)
    assert source[pos:].strip() == "", "text dropped at the end"
    assert "".join("".join(c.text.split()) for c in chunks) == "".join(source.split())


def gaps(source: str, chunks: list[TextChunk]) -> list[str]:
    """The text between each chunk and the next (chunks known to be consecutive slices)."""
    found, pos = [], 0
    for chunk in chunks:
        at = source.find(chunk.text, pos)
        found.append(source[pos:at])
        pos = at + len(chunk.text)
    return found[1:]


def assert_well_formed(chunks: list[TextChunk], *, start_index: int = 0) -> None:
    assert [c.index for c in chunks] == list(range(start_index, start_index + len(chunks)))
    if chunks:
        assert chunks[-1].pause_after is Pause.END
        assert all(c.pause_after is not Pause.END for c in chunks[:-1])


def texts(chunks: list[TextChunk]) -> list[str]:
    return [c.text for c in chunks]


# --- Strategies ----------------------------------------------------------------------------------

any_text = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=["Cs"]),
        st.sampled_from(list(" \n\n\t\r.!?,;:—–\"'“”()[]…\u200b\ufeff\u00a0\u0301\x00%$7")),
    ),
    max_size=600,
)
word = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(TRICKY_WORDS),
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=14),
    st.integers(0, 10**12).map(str),
)
sentence = st.builds(
    lambda words, end: " ".join(words) + end,
    st.lists(word, min_size=1, max_size=40),
    st.sampled_from([".", ".", "!", "?", "...", '."', "?)", ",", ""]),
)
paragraph = st.lists(sentence, min_size=1, max_size=8).map(" ".join)
prose = st.builds(
    lambda paras, sep: sep.join(paras),
    st.lists(paragraph, min_size=1, max_size=5),
    st.sampled_from(["\n\n", "\n\n\n", "\r\n\r\n", "\n \n"]),
)
budgets = st.integers(20, MODEL_TOKEN_LIMIT)


# --- normalize_text ------------------------------------------------------------------------------


def test_normalize_composes_to_nfc() -> None:
    assert normalize_text("cafe\u0301") == "caf\u00e9"


def test_normalize_joins_hard_wrapped_lines_and_keeps_paragraphs() -> None:
    text = "  First line\nwrapped   here.\n\n\n  Second\n paragraph.  \n \n\nThird.\n"
    assert normalize_text(text) == "First line wrapped here.\n\nSecond paragraph.\n\nThird."


def test_normalize_line_endings() -> None:
    assert normalize_text("one\r\ntwo\r\n\r\nthree\rfour\r\rfive") == (
        "one two\n\nthree four\n\nfive"
    )


def test_normalize_tabs_and_unicode_spaces() -> None:
    assert normalize_text("a\tb\u00a0\u00a0c\u2003d\u3000e \x0b f") == "a b c d e f"


def test_normalize_removes_zero_width_and_control_characters() -> None:
    assert normalize_text("\ufeffze\u200bro\u200c wi\u200ddth\x00\x07\x1b!") == "zero width!"


def test_normalize_composes_across_a_removed_character() -> None:
    assert normalize_text("e\u200b\u0301") == "\u00e9"


def test_normalize_whitespace_only() -> None:
    assert normalize_text(" \n\t\r\n \u200b ") == ""


@given(any_text)
@example("e\u200b\u0301")
@example(" \u0301\n\u0301")
@example("a\u2028b\u2029c\x85d")
def test_normalize_is_idempotent_and_canonical(text: str) -> None:
    normal = normalize_text(text)
    assert normalize_text(normal) == normal
    assert unicodedata.is_normalized("NFC", normal)
    assert normal == normal.strip()
    assert "  " not in normal
    for para in normal.split("\n\n") if normal else []:
        assert para and para == para.strip() and "\n" not in para
    assert not any(c.isspace() and c not in " \n" for c in normal)
    assert not any(unicodedata.category(c) == "Cc" and c != "\n" for c in normal)


@given(any_text)
def test_normalize_keeps_every_visible_character(text: str) -> None:
    def visible(s: str) -> str:
        kept = (c for c in s if not c.isspace() and unicodedata.category(c) not in ("Cc", "Cf"))
        return unicodedata.normalize("NFC", "".join(kept))

    assert visible(normalize_text(text)) == visible(text)


# --- estimate_tokens -----------------------------------------------------------------------------


def test_estimate_tokens_basics() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("a") >= 1
    assert estimate_tokens("1999") > estimate_tokens("year")
    assert estimate_tokens("%") > estimate_tokens(".")
    assert estimate_tokens("The quick brown fox.") >= len("The quick brown fox.")


@given(st.text(), st.text())
def test_estimate_tokens_is_additive_and_at_least_one_per_character(a: str, b: str) -> None:
    assert estimate_tokens(a + b) == estimate_tokens(a) + estimate_tokens(b)
    assert estimate_tokens(a) >= len(a)


# --- chunk_text: sentences, clauses, words -------------------------------------------------------

STORY = (
    'Mr. Smith paid 3.14 dollars. He said "Stop." Then he left!\n\n'
    "It rained. We stayed in.\n\n"
    "The end."
)


def test_packs_sentences_greedily_within_paragraphs() -> None:
    first = 'Mr. Smith paid 3.14 dollars. He said "Stop."'
    budget = estimate_tokens(first)  # the first two sentences fit exactly; the third cannot
    assert estimate_tokens("It rained. We stayed in.") <= budget
    chunks = chunk_text(STORY, max_tokens=budget)
    assert texts(chunks) == [first, "Then he left!", "It rained. We stayed in.", "The end."]
    assert [c.pause_after for c in chunks] == [
        Pause.SENTENCE,
        Pause.PARAGRAPH,
        Pause.PARAGRAPH,
        Pause.END,
    ]
    assert [c.index for c in chunks] == [0, 1, 2, 3]
    assert all(c.chapter == 0 for c in chunks)
    assert all(c.tokens == estimate_tokens(c.text) for c in chunks)


def test_one_chunk_per_paragraph_when_the_budget_is_large() -> None:
    chunks = chunk_text(STORY, max_tokens=MODEL_TOKEN_LIMIT)
    assert texts(chunks) == STORY.split("\n\n")
    assert [c.pause_after for c in chunks] == [Pause.PARAGRAPH, Pause.PARAGRAPH, Pause.END]


@pytest.mark.parametrize(
    ("text", "first_chunk"),
    [
        # Sentence ends, with closing quotes and brackets kept with their sentence
        ('He said "Stop." Then he left.', 'He said "Stop."'),
        ("(It was late.) We left.", "(It was late.)"),
        ("It is 3.14 today. Yes.", "It is 3.14 today."),
        ("It cost 3.14. Then it rose.", "It cost 3.14."),
        ("See www.example.com. It works.", "See www.example.com."),
        ("Wait... what? No!", "Wait... what?"),
        ('She asked "Why?" and left. Fine.', 'She asked "Why?" and left.'),
        ("I bought pens etc. Then I left.", "I bought pens etc."),
        ("Call No. 5 now. Go.", "Call No. 5 now."),
        ("J. R. R. Tolkien wrote it. Yes.", "J. R. R. Tolkien wrote it."),
        # No sentence end: abbreviations and decimals hold, the cut falls on a clause or a word
        (
            "Mr. Smith met Dr. Jones at St. Paul's, e.g. Sunday mass, at 3.14 pm.",
            "Mr. Smith met Dr. Jones at St. Paul's, e.g. Sunday mass,",
        ),
        ("Tea, cakes, etc. were served.", "Tea, cakes,"),
        ("In the U.S. Army, they won.", "In the U.S. Army,"),
        ("Dr. Who, it seems, arrived.", "Dr. Who, it seems,"),
    ],
)
def test_sentence_boundaries(text: str, first_chunk: str) -> None:
    # One token short of the whole text: the chunker must cut at the best boundary it has
    budget = estimate_tokens(text) - 1
    chunks = chunk_text(text, max_tokens=budget)
    assert_chunks_cover(text, chunks, budget)
    assert chunks[0].text == first_chunk


def test_long_sentence_splits_at_clauses_then_evenly_at_words() -> None:
    text = (
        "When the storm came, the sailors took in the sails; the captain, who had seen worse, "
        "stood at the wheel — calm as ever (or so it seemed) until the dawn."
    )
    chunks = chunk_text(text, max_tokens=30)
    assert_chunks_cover(text, chunks, 30)
    assert texts(chunks) == [
        "When the storm came,",
        "the sailors took",  # a clause too long for the budget: cut in two even halves
        "in the sails;",
        "the captain,",
        "who had seen worse,",
        "stood at the wheel —",
        "calm as ever",
        "(or so it seemed)",
        "until the dawn.",
    ]
    # All cuts fall inside the one sentence: a clause-length pause after each
    assert [c.pause_after for c in chunks] == [Pause.CLAUSE] * 8 + [Pause.END]


def test_no_dangling_word_when_a_clause_is_cut_at_words() -> None:
    text = " ".join(["word"] * 41)  # costs a little over two chunks of 100
    chunks = chunk_text(text, max_tokens=100)
    assert_chunks_cover(text, chunks, 100)
    assert len(chunks) == 3
    assert min(c.tokens for c in chunks) > 50


def test_words_then_hard_slices_when_nothing_better_fits() -> None:
    text = "short " + "x" * 100 + " tail"
    chunks = chunk_text(text, max_tokens=30)
    assert_chunks_cover(text, chunks, 30)
    assert texts(chunks) == ["short", "x" * 30, "x" * 30, "x" * 30, "x" * 10 + " tail"]


def test_hard_slice_keeps_combining_marks_with_their_letter() -> None:
    text = ("e\u0301" * 5 + "a") * 20  # no NFC here: decomposed on purpose
    chunks = chunk_text(text, max_tokens=20)
    assert_chunks_cover(text, chunks, 20)
    assert all(not unicodedata.combining(c.text[0]) for c in chunks)


def test_empty_and_whitespace_only_text() -> None:
    assert chunk_text("", max_tokens=100) == []
    assert chunk_text(" \n\n \t ", max_tokens=100) == []


def test_start_index_and_chapter_are_applied() -> None:
    chunks = chunk_text("One. Two.\n\nThree.", max_tokens=20, chapter=3, start_index=7)
    assert texts(chunks) == ["One. Two.", "Three."]
    assert [c.index for c in chunks] == [7, 8]
    assert_well_formed(chunks, start_index=7)
    assert all(c.chapter == 3 for c in chunks)


def test_budget_below_one_character_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_text("text", max_tokens=1)
    with pytest.raises(ValueError, match="first_chunk_tokens"):
        chunk_text("text", max_tokens=100, first_chunk_tokens=1)


# --- first_chunk_tokens --------------------------------------------------------------------------


def test_first_chunk_is_short_and_ends_on_a_sentence() -> None:
    text = "Hello there. " * 30 + "\n\nSecond paragraph here."
    chunks = chunk_text(text.strip(), max_tokens=200, first_chunk_tokens=40)
    assert_chunks_cover(text, chunks, 200)
    assert chunks[0].tokens <= 40
    assert chunks[0].text.endswith("there.")
    assert chunks[1].tokens > 40  # only the first chunk is held back


def test_first_chunk_splits_at_a_clause_when_the_first_sentence_is_long() -> None:
    text = "Once upon a time, in a land far away, there lived a king who had three daughters."
    chunks = chunk_text(text, max_tokens=MODEL_TOKEN_LIMIT, first_chunk_tokens=60)
    assert chunks[0].text == "Once upon a time, in a land far away,"
    assert texts(chunks[1:]) == ["there lived a king who had three daughters."]


def test_first_chunk_budget_above_max_tokens_is_capped() -> None:
    chunks = chunk_text("Word. " * 200, max_tokens=50, first_chunk_tokens=400)
    assert all(c.tokens <= 50 for c in chunks)


@settings(deadline=None, max_examples=50)
@given(prose, budgets, st.integers(20, 200))
def test_first_chunk_budget_property(text: str, max_tokens: int, first: int) -> None:
    normal = normalize_text(text)
    chunks = chunk_text(normal, max_tokens=max_tokens, first_chunk_tokens=first)
    assert_chunks_cover(normal, chunks, max_tokens)
    assert chunks[0].tokens <= min(first, max_tokens)


# --- The key invariant, over arbitrary and prose-like text ---------------------------------------


@settings(deadline=None, max_examples=300)
@given(any_text, budgets)
def test_invariant_over_arbitrary_text(text: str, max_tokens: int) -> None:
    normal = normalize_text(text)
    chunks = chunk_text(normal, max_tokens=max_tokens)
    assert_chunks_cover(normal, chunks, max_tokens)
    assert_well_formed(chunks)
    # Paragraph pauses fall exactly on the paragraph breaks of normalized text
    for chunk, gap in zip(chunks, gaps(normal, chunks), strict=False):
        assert (chunk.pause_after is Pause.PARAGRAPH) == (gap == "\n\n")
        assert gap in ("", " ", "\n\n")


@settings(deadline=None, max_examples=300)
@given(any_text, budgets)
def test_invariant_over_unnormalized_text(text: str, max_tokens: int) -> None:
    chunks = chunk_text(text, max_tokens=max_tokens)  # must behave on any string
    assert_chunks_cover(text, chunks, max_tokens)
    assert_well_formed(chunks)


@settings(deadline=None, max_examples=150)
@given(prose, budgets)
def test_invariant_over_prose(text: str, max_tokens: int) -> None:
    normal = normalize_text(text)
    chunks = chunk_text(normal, max_tokens=max_tokens)
    assert_chunks_cover(normal, chunks, max_tokens)
    assert_well_formed(chunks)
    paragraphs = normal.split("\n\n")
    assert sum(c.pause_after in (Pause.PARAGRAPH, Pause.END) for c in chunks) == len(paragraphs)


@settings(deadline=None, max_examples=50)
@given(prose)
def test_chunks_never_cross_paragraphs(text: str) -> None:
    normal = normalize_text(text)
    chunks = chunk_text(normal, max_tokens=MODEL_TOKEN_LIMIT)
    assert all("\n" not in c.text for c in chunks)


# --- Pathological and large inputs ---------------------------------------------------------------


def test_fifty_thousand_characters_without_punctuation() -> None:
    rng = random.Random(1)
    text = " ".join(rng.choice(WORDS) for _ in range(12_000))[:50_000].strip()
    chunks = chunk_text(text, max_tokens=250)
    assert_chunks_cover(text, chunks, 250)
    tokens = [c.tokens for c in chunks]
    assert sum(tokens) / len(tokens) > 240  # packed, not shredded
    assert min(tokens) > 100  # and no dangling end: a remainder is shared evenly


@pytest.mark.parametrize(
    "text",
    [
        "a" * 50_000,
        "".join(random.Random(2).choice("abcdefghijklmnopqrstuvwxyz") for _ in range(50_000)),
        "." * 50_000,
        "7" * 50_000,
        "\u65e5" * 50_000,
        "\u0301" * 50_000,
        "—" * 50_000,
        "a, " * 20_000,
    ],
    ids=["letters", "random", "dots", "digits", "cjk", "marks", "dashes", "commas"],
)
def test_fifty_thousand_characters_without_spaces_or_structure(text: str) -> None:
    text = text.strip()
    chunks = chunk_text(text, max_tokens=250)
    assert_chunks_cover(text, chunks, 250)
    assert_well_formed(chunks)


def test_a_million_characters_of_prose() -> None:
    rng = random.Random(3)
    ends = [".", ".", ",", "", "", "", "?", "!"]
    words = [rng.choice(WORDS) + rng.choice(ends) for _ in range(210_000)]
    paragraphs = [" ".join(words[i : i + 150]) for i in range(0, len(words), 150)]
    text = normalize_text("\n\n".join(paragraphs))
    assert len(text) > 1_000_000
    chunks = chunk_text(text, max_tokens=250, first_chunk_tokens=100)
    assert_chunks_cover(text, chunks, 250)
    assert chunks[0].tokens <= 100


# --- chunk_chapters ------------------------------------------------------------------------------


def test_chunk_chapters_numbers_pauses_and_indices() -> None:
    chapters = [
        "Chapter one starts. It goes on for a while.\n\nA second paragraph.",
        "",
        "  \n ",
        "Chapter three. The end.",
    ]
    chunks = chunk_chapters(chapters, max_tokens=40)
    assert_well_formed(chunks)
    assert texts(chunks) == [
        "Chapter one starts.",
        "It goes on for a while.",
        "A second paragraph.",
        "Chapter three. The end.",
    ]
    assert [c.chapter for c in chunks] == [0, 0, 0, 3]
    assert [c.pause_after for c in chunks] == [
        Pause.SENTENCE,
        Pause.PARAGRAPH,
        Pause.CHAPTER,
        Pause.END,
    ]


def test_chunk_chapters_first_chunk_budget_applies_once() -> None:
    chapter = "Alpha beta gamma delta. Epsilon zeta eta theta. Iota kappa lambda mu."
    chunks = chunk_chapters(["", chapter, chapter], max_tokens=200, first_chunk_tokens=30)
    assert chunks[0].chapter == 1
    assert chunks[0].tokens <= 30
    third = [c for c in chunks if c.chapter == 2]
    assert texts(third) == [chapter]


def test_chunk_chapters_empty() -> None:
    assert chunk_chapters([], max_tokens=100) == []
    assert chunk_chapters(["", " "], max_tokens=100) == []


@settings(deadline=None, max_examples=50)
@given(st.lists(st.one_of(prose, st.just("")), max_size=4), budgets)
def test_chunk_chapters_property(chapters: list[str], max_tokens: int) -> None:
    normal = [normalize_text(c) for c in chapters]
    chunks = chunk_chapters(normal, max_tokens=max_tokens)
    assert_well_formed(chunks)
    for number, text in enumerate(normal):
        mine = [c for c in chunks if c.chapter == number]
        assert_chunks_cover(text, mine, max_tokens)
        if mine and mine[-1] is not chunks[-1]:
            assert mine[-1].pause_after is Pause.CHAPTER
    assert sum(c.pause_after is Pause.CHAPTER for c in chunks) == sum(map(bool, normal)) - (
        1 if any(normal) else 0
    )


# --- has_speakable_text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "speakable"),
    [
        ("Hello", True),
        ("42", True),
        ("  é ", True),
        ("日本", True),
        ("!!! ... ---", False),
        ("", False),
        (" \n\t", False),
        ("😀 ♪ ©", False),
    ],
)
def test_has_speakable_text(text: str, speakable: bool) -> None:
    assert has_speakable_text(text) is speakable


def test_short_first_chunk_cut_inside_a_sentence_pauses_like_a_clause() -> None:
    text = "It is a truth universally acknowledged, that a single man must be in want of a wife."
    chunks = chunk_text(text, max_tokens=200, first_chunk_tokens=50)
    assert texts(chunks) == [
        "It is a truth universally acknowledged,",
        "that a single man must be in want of a wife.",
    ]
    assert [c.pause_after for c in chunks] == [Pause.CLAUSE, Pause.END]
