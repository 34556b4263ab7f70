"""Word timings from phoneme durations (core/speech/word_timing.py) and the cues made of them."""

import pytest

from core.audio.formats import SAMPLE_RATE
from core.audio.subtitles import build_cues, word_cues
from core.audio.timeline import pause_samples, place
from core.speech.word_timing import (
    SAMPLES_PER_FRAME,
    TimedWord,
    even_edges,
    from_rows,
    placed_words,
    shifted,
    timed_words,
    token_edges,
    words_json,
)

# What espeak says for each word alone (as the worker phonemizes them); punctuation is kept
LEXICON = {
    "it": "ɪt",
    "was": "wʌz",
    "the": "ðə",
    "best": "bˈɛst",
    "of": "ʌv",
    "times": "tˈaɪmz",
    "in": "ˈɪn",
    "nineteen": "nˈaɪntiːn",
    "twenty-one": "twˈɛntiwˌʌn",
    "they": "ðeɪ",
    "left": "lˈɛft",
    "well": "wˈɛl",
    "he": "hiː",
    "said": "sˈɛd",
    "yes": "jˈɛs",
    "didn't": "dˈɪdnt",
    "go": "ɡˈoʊ",
    "o'clock": "əklˈɑːk",
    "at": "æt",
    "nine": "nˈaɪn",
    "january": "dʒˈænjuːˌɛɹi",
    "fifth": "fˈɪfθ",
    "hermione": "hɜːmˈaɪəni",
    "waved": "wˈeɪvd",
    "a": "ˈeɪ",  # the letter: alone, espeak does not say the article
    "good": "ɡˈʊd",
}
PUNCTUATION = ".,;:!?—“”\"'()"


def phonemes_of(word: str) -> str:
    core = word.strip(PUNCTUATION)
    lead = word[: len(word) - len(word.lstrip(PUNCTUATION))]
    trail = word[len(word.rstrip(PUNCTUATION)) :]
    return lead + LEXICON.get(core.lower(), "") + trail


def frames_for(tokens: str, pauses: dict[int, int] | None = None) -> list[int]:
    """Durations: 4 frames of pad either end, 2 per token, more where ``pauses`` says."""
    return [4, *(2 + (pauses or {}).get(i, 0) for i in range(len(tokens))), 4]


def timed(written, spoken, tokens, pauses=None, said_alone=lambda w: w):
    edges = token_edges(frames_for(tokens, pauses), SAMPLES_PER_FRAME)
    return timed_words(written, spoken, tokens, edges, phonemes_of, said_alone), edges


def token_start(tokens: str, edges: list[int], fragment: str) -> int:
    return edges[tokens.index(fragment)]


def test_token_edges_follow_the_cumulative_durations():
    edges = token_edges([3, 2, 5, 1, 4], SAMPLES_PER_FRAME)
    assert edges == [1800, 3000, 6000, 6600]  # after the pad; the last is the end of the last
    assert len(even_edges(4, 100)) == 5 and even_edges(4, 100)[-1] == 100
    with pytest.raises(ValueError, match="pad tokens"):
        token_edges([3], SAMPLES_PER_FRAME)


def test_plain_words_even_where_espeak_joins_them():
    tokens = "ɪt wʌzðə bˈɛst ʌv tˈaɪmz."  # espeak says "was the" as one word
    words, edges = timed("It was the best of times.", "It was the best of times.", tokens)
    assert [w.word for w in words] == ["It", "was", "the", "best", "of", "times"]
    by_word = {w.word: w for w in words}
    assert by_word["It"].start == edges[0] == 4 * SAMPLES_PER_FRAME
    assert by_word["was"].end == by_word["the"].start == token_start(tokens, edges, "ðə")
    assert by_word["best"].start == token_start(tokens, edges, "bˈɛst")
    # A word ends with its last sound, before the full stop
    assert by_word["times"].end == token_start(tokens, edges, ".")
    assert all(a.end <= b.start for a, b in zip(words, words[1:], strict=False))


def test_a_weak_word_run_into_the_one_before_still_gets_its_sound():
    tokens = "ɪt wʌz əvə ɡˈʊd ɐ tˈaɪmz."  # "of a" said as one word, "a" never as alone
    words, edges = timed("It was of a good a times.", "It was of a good a times.", tokens)
    assert [w.word for w in words] == ["It", "was", "of", "a", "good", "a", "times"]
    of, a, good, other_a = words[2], words[3], words[4], words[5]
    assert of.end == a.start == token_start(tokens, edges, "ə ɡ") and a.end <= good.start
    assert other_a.start == token_start(tokens, edges, "ɐ") < other_a.end
    assert all(w.start < w.end for w in words)


def test_a_number_said_as_several_words_is_one_written_word():
    tokens = "ˈɪn nˈaɪntiːn twˈɛntiwˌʌn ðeɪ lˈɛft."
    words, edges = timed("In 1921 they left.", "In nineteen twenty-one they left.", tokens)
    assert [w.word for w in words] == ["In", "1921", "they", "left"]
    year = words[1]
    assert year.start == token_start(tokens, edges, "nˈaɪn")
    assert year.end == token_start(tokens, edges, " ðeɪ")


def test_a_rewritten_span_of_several_words_is_shared_by_what_each_says_alone():
    spoken_alone = {"Jan.": "January", "5,": "fifth,", "1921": "nineteen twenty-one"}
    tokens = "æt dʒˈænjuːˌɛɹi fˈɪfθ, nˈaɪntiːn twˈɛntiwˌʌn."
    words, edges = timed(
        "at Jan. 5, 1921.",
        "at January fifth, nineteen twenty-one.",
        tokens,
        said_alone=lambda w: spoken_alone.get(w.rstrip("."), w),
    )
    assert [w.word for w in words] == ["at", "Jan", "5", "1921"]
    assert words[1].end == token_start(tokens, edges, " fˈɪfθ")
    assert words[2].start == token_start(tokens, edges, "fˈɪfθ")
    assert words[3].start == token_start(tokens, edges, "nˈaɪn")


def test_punctuation_is_not_a_word_and_apostrophes_stay():
    tokens = "“wˈɛl,” hiː sˈɛd — jˈɛs. dˈɪdnt ɡˈoʊ æt nˈaɪn əklˈɑːk."
    written = "“Well,” he said — yes. Didn't go at nine o'clock."
    words, _ = timed(written, written, tokens)
    assert [w.word for w in words] == [
        "Well",
        "he",
        "said",
        "yes",
        "Didn't",
        "go",
        "at",
        "nine",
        "o'clock",
    ]


def test_pauses_belong_to_no_word():
    tokens = "ɪt wʌz, ðə bˈɛst."
    pauses = {tokens.index(","): 20, tokens.index("."): 30}  # long silences at the marks
    words, edges = timed("It was, the best.", "It was, the best.", tokens, pauses)
    was, the = words[1], words[2]
    assert was.end == token_start(tokens, edges, ",")
    assert the.start == token_start(tokens, edges, "ðə")
    assert the.start - was.end >= 20 * SAMPLES_PER_FRAME  # the pause lies between them
    assert words[-1].end == token_start(tokens, edges, ".")


def test_a_word_said_by_a_pronunciation_gets_the_time_between_its_neighbours():
    tokens = "hɜːmaɪnɪ wˈeɪvd."  # the user's pronunciation: nothing like espeak's
    words, edges = timed("Hermione waved.", "Hermione waved.", tokens)
    assert [w.word for w in words] == ["Hermione", "waved"]
    assert words[0].start == edges[0]
    assert words[0].end <= words[1].start == token_start(tokens, edges, "wˈeɪvd")


def test_edges_must_match_the_tokens():
    with pytest.raises(ValueError, match="one per token"):
        timed_words("It.", "It.", "ɪt.", [0, 1], phonemes_of)


def test_trimming_shifts_words_and_clamps_them_to_what_is_stored():
    words = [TimedWord("a", 100, 500), TimedWord("b", 600, 1200)]
    assert shifted(words, 150, 900) == [TimedWord("a", 0, 350), TimedWord("b", 450, 900)]
    assert from_rows([w.as_row() for w in words]) == words
    assert words_json([["a", 0, 12_000]]) == [{"word": "a", "start": 0.0, "end": 0.5}]


def test_words_are_placed_in_the_file_with_the_pauses():
    slots = place([(0, 24_000, pause_samples("sentence")), (1, 12_000, 0)])
    chunks = [
        (0, slots[0], [TimedWord("one", 0, 10_000), TimedWord("two", 12_000, 30_000)]),
        (1, slots[1], [TimedWord("three", 100, 12_000)]),
    ]
    placed = placed_words(chunks)
    assert [(p.word, p.chunk, p.chapter) for p in placed] == [
        ("one", 0, 0),
        ("two", 0, 0),
        ("three", 1, 1),
    ]
    assert placed[1].end == 24_000  # clamped to its chunk's audio
    assert placed[2].start == 24_000 + pause_samples("sentence") + 100


def test_word_cues_are_in_order_and_never_overlap():
    slots = place([(0, 48_000, pause_samples("clause")), (0, 24_000, 0)])
    overlapping = [TimedWord("a", 0, 30_000), TimedWord("b", 20_000, 50_000)]
    cues = word_cues([(0, slots[0], overlapping), (1, slots[1], [TimedWord("c", 0, 100)])])
    assert [c.text for c in cues] == ["a", "b", "c"]
    assert all(c.start <= c.end for c in cues)
    assert all(a.end <= b.start for a, b in zip(cues, cues[1:], strict=False))
    assert cues[1].end == 2.0  # within its chunk


def test_sentence_cues_are_exact_with_words_and_estimated_without():
    text = "It was the best. Of times."
    slot = place([(0, 48_000, 0)])[0]
    words = [
        TimedWord("It", 1_000, 3_000),
        TimedWord("was", 3_000, 5_000),
        TimedWord("the", 5_000, 6_000),
        TimedWord("best", 6_000, 9_000),
        TimedWord("Of", 20_000, 22_000),
        TimedWord("times", 22_000, 40_000),
    ]
    exact = build_cues([(text, slot, words)])
    assert [(c.text, c.start, c.end) for c in exact] == [
        ("It was the best.", 1_000 / SAMPLE_RATE, 9_000 / SAMPLE_RATE),
        ("Of times.", 20_000 / SAMPLE_RATE, 40_000 / SAMPLE_RATE),
    ]
    estimated = build_cues([(text, slot)])
    assert estimated[0].start == 0 and estimated[-1].end == 2.0
    # Words that do not follow the text (another chunk's): the estimate, not a wrong cue
    assert build_cues([(text, slot, words[:2])]) == estimated
