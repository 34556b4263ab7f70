"""Superscript digits in the spoken form (issue 21, finding 14): never dropped or garbled.

A raised digit inside a number is that digit, one that ends a number or a symbol is an
exponent, and one stuck to a word, a year or punctuation is a reference mark.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.text.normalize import numbers as nw
from core.text.normalize import spoken_form, spoken_rewrites

_RAISED = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        # Inside a number: read as the number it is (was 'One,34' and 'Twelve:0 pm')
        ("1,²34", "One thousand two hundred thirty-four"),
        ("It was 12:³0 pm.", "It was twelve thirty PM."),
        ("They left at ¹²:³⁰ sharp.", "They left at twelve thirty sharp."),
        ("It cost $1²5.", "It cost one hundred twenty-five dollars."),
        ("Pi is 3.1⁴159.", "Pi is three point one four one five nine."),
        # An exponent after a number or a symbol
        ("There were 10⁶ of them.", "There were ten to the sixth of them."),
        ("2³ is 8.", "Two cubed is eight."),
        ("Wait 10⁻³ seconds.", "Wait ten to the minus third seconds."),
        ("It grows as 2¹⁰ does.", "It grows as two to the tenth does."),
        ("A 1024² bytes grid.", "A one thousand twenty-four squared bytes grid."),
        ("E = mc²", "E equals mc squared"),
        ("a² + b² = c²", "a squared plus b squared equals c squared"),
        ("Solve 2x² + 3 = 7.", "Solve two x squared plus three equals seven."),
        ("σ² is the variance.", "σ squared is the variance."),
        # A reference mark: not read aloud
        ("Darwin¹ said so.", "Darwin said so."),
        ("as shown in² the table", "as shown in the table"),
        ("In 1848¹ the revolution came.", "In eighteen forty-eight the revolution came."),
        ("In 1848,¹² the revolution came.", "In eighteen forty-eight, the revolution came."),
        ("The day was won.³ Then they slept.", "The day was won. Then they slept."),
        ("he said,² that", "he said, that"),
        # A unit's own superscript stays the unit's
        ("A plot of 5 m² was sold.", "A plot of five square meters was sold."),
        ("The lake has 82,000 km².", "The lake has eighty-two thousand square kilometers."),
        # Where nothing says what it is, the characters stay as written
        ("the ²nd row", "the ²nd row"),
        ("x²3", "x²3"),
    ],
)
def test_superscripts_are_said(written: str, spoken: str) -> None:
    assert spoken_form(written) == spoken


def test_a_raised_digit_no_rule_takes_is_said_as_its_digit() -> None:
    # '1²3a' is no number the rules read (a letter after it), yet the raised digit inside it
    # is plain, never dropped
    assert spoken_form("code 1²3a here") == "code 123a here"
    assert [(r.start, r.end, r.spoken) for r in spoken_rewrites("code 1²3a here")] == [(6, 7, "2")]


def test_rewrites_are_spans_of_the_written_text() -> None:
    text = "At 12:³0 pm 10⁶ men, Darwin¹ said."
    rewrites = spoken_rewrites(text)
    assert [(text[r.start : r.end], r.spoken) for r in rewrites] == [
        ("12:³0 pm", "twelve thirty PM"),
        ("10⁶", "ten to the sixth"),
        ("¹", ""),
    ]


def test_digit_words_take_any_digit() -> None:
    # str.isdigit() accepts '²' but int() does not: digit by digit, a raised digit is said too
    assert nw.digits("1²3") == "one two three"
    assert spoken_form("mail a²@b.com now") == "mail a two at b dot com now"


_WRITTEN_NUMBERS = [
    "1,234",
    "12:30 pm",
    "3.14",
    "1921",
    "42",
    "$15",
    "9:05",
    "1,000,000",
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_WRITTEN_NUMBERS), st.data())
def test_raising_inner_digits_changes_nothing_said(number: str, data) -> None:
    """A number whose last digit is plain reads the same with any of its other digits raised."""
    last = max(i for i, char in enumerate(number) if char.isdecimal())
    inner = [i for i, char in enumerate(number) if char.isdecimal() and i != last]
    if not inner:
        return
    chosen = data.draw(st.sets(st.sampled_from(inner), min_size=1))
    raised = "".join(
        char.translate(_RAISED) if i in chosen else char for i, char in enumerate(number)
    )
    text = f"They counted {raised} that day."
    assert spoken_form(text) == spoken_form(f"They counted {number} that day."), raised
