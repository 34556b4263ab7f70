"""Chunk planning: the token budget holds for what is said, markup becomes voices and pauses,
and no written text is lost or reordered."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.speech.spoken import spoken_text
from core.text.chunk_plan import ChapterMarkupError, plan_chunks
from core.text.chunking import Pause, chunk_chapters
from core.text.markup import Alias, PhonemeOverride
from core.text.normalize import spoken_form
from core.text.sentences import estimate_tokens, normalize_text

VOICES = {"jf_alpha", "jm_kumo"}


def check_voice(spec: str) -> str:
    if spec not in VOICES:
        raise ValueError(f"unknown voice {spec!r}")
    return spec


def plan(texts, markup="none", max_tokens=250, first=None):
    return plan_chunks(
        texts, lang="en-us", markup=markup, check_voice=check_voice, max_tokens=max_tokens,
        first_chunk_tokens=first,
    )  # fmt: skip


PROSE = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was "
    "the age of foolishness.\n\nThere were a king with a large jaw and a queen with a plain "
    "face, on the throne of England."
)


def test_plain_prose_is_chunked_as_before():
    planned = plan([PROSE, PROSE], first=40)
    before = chunk_chapters([PROSE, PROSE], max_tokens=250, first_chunk_tokens=40)
    assert [(c.text, c.chapter, c.pause_after) for c in planned] == [
        (c.text, c.chapter, c.pause_after) for c in before
    ]


NUMBERS = (
    "In 1921 the company paid $1,250,000 for 3,400 acres; by 1939 it owned 12,500,000 acres, "
    "and on March 3, 1945 at 9:15 p.m. it sold 45% of them for £7,203.40 an acre. " * 6
)


def test_the_budget_holds_for_the_spoken_form():
    budget = 120
    chunks = plan([NUMBERS], max_tokens=budget)
    for chunk in chunks:
        assert estimate_tokens(spoken_form(chunk.text, "en-us")) <= budget, chunk.text
        # Estimated in the text's context: a chunk's own start may read a capital differently
        assert abs(chunk.tokens - estimate_tokens(spoken_form(chunk.text, "en-us"))) <= 3


def test_no_chunk_ends_inside_something_said_as_one():
    chunks = plan(["Plan B costs 5 km of road and opened at 9:15 p.m. on Jan. 5, 1921."], first=20)
    texts = [c.text for c in chunks]
    assert not any(t.endswith((" 5", "9:15", "Jan.")) for t in texts), texts
    assert not any(t.startswith(("km", "p.m.", "5,")) for t in texts), texts


def test_voice_changes_breaks_and_boundaries_become_chunks_and_pauses():
    text = "[pause:1s]The narrator speaks. [voice:jm_kumo]Then he answers, [pause:2.5s] slowly."
    chunks = plan([text, "The end."], markup="tags")
    silent, narrator, answer, rest, end = chunks
    assert (silent.text, silent.pause_seconds) == ("", 1.0)  # a break before any text
    assert (narrator.text, narrator.voice, narrator.pause_after) == (
        "The narrator speaks.",
        None,
        Pause.SENTENCE,
    )
    assert (answer.text, answer.voice, answer.pause_seconds) == ("Then he answers,", "jm_kumo", 2.5)
    assert (rest.text, rest.voice) == ("slowly.", "jm_kumo")
    assert rest.pause_after == Pause.CHAPTER and end.pause_after == Pause.END
    assert [c.index for c in chunks] == list(range(5))


def test_ssml_paragraphs_and_breaks():
    ssml = '<speak><p>First part.</p><p>Second <break time="500ms"/> part.</p></speak>'
    first, second, third = plan([ssml], markup="ssml")
    assert first.pause_after == Pause.PARAGRAPH
    assert (second.text.strip(), second.pause_seconds) == ("Second", 0.5)
    assert third.pause_after == Pause.END


def test_bad_markup_names_its_chapter_and_position():
    with pytest.raises(ChapterMarkupError) as error:
        plan(["Fine.", "Then [voice:nobody] spoke."], markup="tags")
    assert error.value.chapter == 1 and error.value.position == 5
    assert "unknown voice 'nobody'" in error.value.message


def test_overrides_become_spans_of_the_spoken_text():
    written = "Dr. Hermione met the U.N. envoy on Jan. 5."
    word = written.index("Hermione")
    un = written.index("U.N.")
    spoken = spoken_text(
        written,
        "en-us",
        [PhonemeOverride(word, word + 8, "hɜːmˈaɪəni"), Alias(un, un + 4, "the 2 nations")],
    )
    assert spoken.text == "Doctor Hermione met the the two nations envoy on January fifth."
    (placed,) = spoken.phonemes
    assert spoken.text[placed.start : placed.end] == "Hermione"
    # A rewrite the user's markup overlaps is not made: the markup wins
    held = spoken_text("Call 555-1234 now.", "en-us", [Alias(5, 13, "my office")])
    assert held.text == "Call my office now."


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400), st.integers(min_value=20, max_value=300))
def test_any_text_is_planned_without_losing_or_reordering_a_character(text, budget):
    chunks = plan([text], max_tokens=budget)
    joined = "".join(c.text for c in chunks)
    assert "".join(joined.split()) == "".join(normalize_text(text).split())
