"""Rules for reference marks and old shorthand: footnote marks, 'Xmas', 'the 14th inst.'."""

from __future__ import annotations

import re

from core.text.normalize.context import keep_period, prev_word

# '...was won.[1]', 'he said,[12]', 'in 1848,¹²': a reference mark stuck to its punctuation is
# not read aloud (after a word or a number: core/text/normalize/superscripts.py). Raised digits that
# go on into a number ('1,²34') are no mark.
FOOTNOTE = re.compile(
    r"\[\d{1,3}\]|(?<=[.,;:!?\"”’)])[¹²³⁴⁵⁶⁷⁸⁹⁰]{1,3}(?![\w⁻]|[.,:][\d¹²³⁴⁵⁶⁷⁸⁹⁰])"
)


def footnote_handler(m: re.Match, text: str, lang: str) -> str | None:
    if m.group(0)[0] == "[" and (not m.start() or text[m.start() - 1] in " \t\n(["):
        return None  # '[1] The first item': a numbered list, read as written
    return ""


SHORTHAND = re.compile(r"\b(?P<w>Xmas|XMAS|xmas)(?=['’]?s?\b)")


def shorthand_handler(m: re.Match, text: str, lang: str) -> str:
    return {"Xmas": "Christmas", "XMAS": "CHRISTMAS"}.get(m.group("w"), "christmas")


# 'your letter of the 14th inst.': this month (instant), last month (ultimo), next (proximo).
LETTER_MONTH = re.compile(r"(?P<w>inst|ult|prox)\.(?!\w)")
_LETTER_MONTHS = {"inst": "instant", "ult": "ultimo", "prox": "proximo"}


def letter_month_handler(m: re.Match, text: str, lang: str) -> str | None:
    before = prev_word(text, m.start())
    if not re.fullmatch(r"\d{1,2}(?:st|nd|rd|th|d)", before):
        return None
    return keep_period(m, text, _LETTER_MONTHS[m.group("w")])
