"""Word error rate and the word forms it compares: pure functions, no model loaded."""

import pytest

from tests.support.asr import Diff, word_diffs, word_error_rate, words_for_scoring


def words(text: str) -> list[str]:
    return text.split()


# --- word_error_rate ----------------------------------------------------------------------------


def test_identical_words_have_no_errors():
    assert word_error_rate(words("the boat came home"), words("the boat came home")) == 0.0


def test_each_kind_of_error_counts_once_over_the_reference_length():
    reference = words("the boat came home at night")
    assert word_error_rate(reference, words("the goat came home at night")) == 1 / 6
    assert word_error_rate(reference, words("the boat home at night")) == 1 / 6
    assert word_error_rate(reference, words("the boat came back home at night")) == 1 / 6
    assert word_error_rate(reference, words("a goat home at noon")) == 4 / 6


def test_error_rate_can_exceed_one_and_needs_a_reference():
    assert word_error_rate(words("yes"), words("no no no")) == 3.0
    assert word_error_rate(words("one two"), []) == 1.0
    with pytest.raises(ValueError):
        word_error_rate([], words("anything"))


def test_order_matters():
    # Same bag of words, different sentence: two substitutions, not zero
    assert word_error_rate(words("dog bites man"), words("man bites dog")) == 2 / 3


def test_diffs_name_what_was_said_and_what_was_heard():
    reference = words("she left boston in nineteen twenty one on the train")
    hypothesis = words("she left austin in nineteen twenty on the night train")
    assert word_diffs(reference, hypothesis) == [
        Diff(2, ("boston",), ("austin",)),
        Diff(6, ("one",), ()),
        Diff(9, (), ("night",)),
    ]
    assert word_diffs(reference, reference) == []


def test_diffs_account_for_every_error():
    reference = words("a b c d e f g")
    hypothesis = words("x b d e e f y z")
    errors = sum(max(len(d.said), len(d.heard)) for d in word_diffs(reference, hypothesis))
    assert errors >= word_error_rate(reference, hypothesis) * len(reference)


# --- words_for_scoring --------------------------------------------------------------------------


def scored(text: str) -> str:
    return " ".join(words_for_scoring(text))


def test_case_punctuation_and_hyphens_go():
    assert scored('"Thirty-four," she said; great-nephew.') == "thirty four she said great nephew"
    assert scored("Henry the Eighth’s physician") == "henry the eighths physician"


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("in 1921", "in nineteen twenty one"),
        ("in 1905", "in nineteen oh five"),
        ("in 1900", "in nineteen hundred"),
        ("in 2005", "in two thousand five"),
        ("in 2021", "in twenty twenty one"),
        ("the 1920s", "the nineteen twenties"),
        ("aged 81", "aged eighty one"),
        ("4,300 pages", "four thousand three hundred pages"),
        ("3,280 feet", "three thousand two hundred eighty feet"),
        ("2.5 miles", "two point five miles"),
        ("March 3rd", "march third"),
        ("June 2nd", "june second"),
        ("$340", "three hundred forty dollars"),
        ("$2.50 a night", "two dollars and fifty cents a night"),
        ("$1", "one dollar"),
        ("£1,000", "one thousand pounds"),
        ("60% of it", "sixty percent of it"),
        ("-12°C", "minus twelve degrees celsius"),
        ("5 km", "five kilometers"),
        ("3,280 ft. in", "three thousand two hundred eighty feet in"),
        ("the 9:15 p.m. train", "the nine fifteen p m train"),
        ("the 9.15pm train", "the nine fifteen p m train"),
        ("at 8 a.m. every", "at eight a m every"),
        ("at 9:05", "at nine oh five"),
        ("at 9:00", "at nine oclock"),
        ("612-555-0147", "six one two five five five zero one four seven"),
        ("(612) 555-0147", "six one two five five five zero one four seven"),
        (
            "telephone 612, 5550147, and",
            "telephone six one two five five five zero one four seven and",
        ),
        ("612,555,0147", "six one two five five five zero one four seven"),
        ("612-550147", "six one two five five zero one four seven"),
        ("612 555 0147", "six one two five five five zero one four seven"),
        ("5550147", "five five five zero one four seven"),
        (
            "1,234,567 people",
            "one million two hundred thirty four thousand five hundred sixty seven people",
        ),
        ("archive.example.org/marsh", "archive dot example dot org slash marsh"),
        ("d.marsh@example.org", "d dot marsh at example dot org"),
        ("the U.S. Department", "the u s department"),
        ("the USDA", "the u s d a"),
        ("Ph.D.", "p h d"),
        ("Marsh, PhD, still", "marsh p h d still"),
        ("Dr. Marsh and Mr. and Mrs. Okafor", "doctor marsh and mister and missus okafor"),
        ("Prof. David Marsh", "professor david marsh"),
        ("St. Paul", "saint paul"),
        ("Fourth St. for", "fourth street for"),
        ("King George V", "king george the fifth"),
        ("Henry VIII's", "henry the eighths"),
        ("Chapter XIV", "chapter fourteen"),
        ("Rain & more rain", "rain and more rain"),
        ("Box 7, Folder 23", "box seven folder twenty three"),
    ],
)
def test_written_forms_become_the_words_said(written, said):
    assert scored(written) == said


def test_words_already_written_out_stay_as_they_are():
    text = "nineteen twenty-one, Doctor Marsh, the U S D A, nine fifteen P M, I left at noon"
    assert scored(text) == (
        "nineteen twenty one doctor marsh the u s d a nine fifteen p m i left at noon"
    )


def test_digits_and_their_words_score_alike():
    # Whisper may write a number either way: the comparison must not care which
    reference = words_for_scoring("In nineteen twenty-one she paid three hundred forty dollars.")
    hypothesis = words_for_scoring("In 1921 she paid $340.")
    assert word_error_rate(reference, hypothesis) == 0.0
    # ...but a wrong number is still wrong
    wrong = words_for_scoring("In 1912 she paid $340.")
    assert word_error_rate(reference, wrong) == 2 / len(reference)
