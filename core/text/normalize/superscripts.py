"""Superscript digits: a digit set raised by mistake, an exponent, or a reference mark.

'²' is a digit to ``str.isdigit`` but not to ``\\d`` or ``int``, so the number rules never see
it. A careful narrator reads it by where it stands:

- inside a number ('1,²34', '12:³0 pm', '¹²:³⁰'), a raised digit is still that digit, as
  scanning or typesetting often leaves it: ``fold_inner_superscripts`` writes it plain (same
  length, so every span stays put) and the number rules read the number;
- after a number or a one- or two-letter symbol ('10⁶', 'x²', 'mc²', '10⁻³'), an exponent:
  'ten to the sixth', 'x squared', 'ten to the minus third';
- after a longer word ('Darwin¹'), after a year ('in 1848¹') or as '¹' after a number, a
  reference mark, not read aloud (after punctuation, core/text/normalize/shorthand.py drops it).

A unit's own superscript ('km²') is the unit rules' (core/text/normalize/quantities.py); a run that
goes on into letters ('²nd') is left as written.
"""

from __future__ import annotations

import re

from core.text.normalize import numbers as nw
from core.text.normalize.numeric import AT_DIGIT, is_year_context, say_number
from core.text.normalize.tables import FUNCTION_WORDS, UNITS

SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
SUPERSCRIPT_MINUS = "⁻"
_PLAIN = str.maketrans(SUPERSCRIPT_DIGITS, "0123456789")
_SUP = f"[{SUPERSCRIPT_DIGITS}]"

ANY_SUPERSCRIPT = re.compile(_SUP)
# A written number whose digits may be raised: digit runs joined by single separators. Tried
# only where such a run starts (the look-behind) and read possessively: linear on any run.
_ANY_DIGIT = rf"[\d{SUPERSCRIPT_DIGITS}]"
_MIXED_NUMBER = re.compile(
    rf"(?<![\w.,:{SUPERSCRIPT_MINUS}]){_ANY_DIGIT}++(?:[,.:]{_ANY_DIGIT}++)*+"
)
# An exponent or mark ends the word: no letter, digit or further mark after it. At most three
# raised digits: a longer run is no exponent a narrator would say.
_EXPONENT = rf"(?P<exp>{SUPERSCRIPT_MINUS}?{_SUP}{{1,3}})(?![\w{SUPERSCRIPT_MINUS}])"
# '10⁶', '2¹⁰', '1.5²', '10⁻³': a plain number and its raised exponent.
NUMBER_POWER = re.compile(
    AT_DIGIT + rf"(?P<base>(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?){_EXPONENT}"
)
# 'x²', 'mc²', 'Darwin¹': raised digits right after a letter; the handler looks at the word.
# ([^\W\d_] takes '²' for a letter too: \w holds every character str.isalnum() accepts.)
AFTER_LETTER = re.compile(rf"(?<=[^\W\d_])(?<!{_SUP}){_EXPONENT}")
# Letters a symbol with an exponent is written with: more make a word and a reference mark.
_SYMBOL_LETTERS = 2


def fold_inner_superscripts(text: str) -> tuple[str, list[int]]:
    """``text`` with the raised digits inside numbers written plain, and their positions.

    A raised digit is inside a number when a plain digit follows it in the same number
    ('1,²34', '12:³0'), or when the whole number is raised and has a separator ('¹²:³⁰').
    Raised digits that end a number after a plain digit or a separator ('10⁶', '1,²') are an
    exponent or a mark and stay.
    """
    if ANY_SUPERSCRIPT.search(text) is None:
        return text, []
    folded: list[int] = []
    for m in _MIXED_NUMBER.finditer(text):
        written = m.group(0)
        raised = [i for i, char in enumerate(written) if char in SUPERSCRIPT_DIGITS]
        if not raised:
            continue
        if not any(char.isdecimal() for char in written if char not in SUPERSCRIPT_DIGITS):
            if written.isalnum():
                continue  # '²³' alone: a mark or an exponent with nothing to go on
        else:
            end = len(written)
            while end and written[end - 1] in SUPERSCRIPT_DIGITS:
                end -= 1  # the trailing raised run is an exponent or a mark
            raised = [i for i in raised if i < end]
        folded.extend(m.start() + i for i in raised)
    if not folded:
        return text, []
    chars = list(text)
    for position in folded:
        chars[position] = chars[position].translate(_PLAIN)
    return "".join(chars), folded


def _power(exp: str, lang: str) -> str:
    """'²' 'squared', '³' 'cubed', '⁶' 'to the sixth', '⁻³' 'to the minus third'."""
    negative = exp.startswith(SUPERSCRIPT_MINUS)
    value = int(exp.lstrip(SUPERSCRIPT_MINUS).translate(_PLAIN))
    if not negative and value in (2, 3):
        return "squared" if value == 2 else "cubed"
    return "to the " + ("minus " if negative else "") + nw.ordinal(value, lang)


def _is_mark(exp: str) -> bool:
    return exp == "¹"  # nobody writes 'to the first': a reference mark


def number_power_handler(m: re.Match, text: str, lang: str) -> str:
    base, exp = m.group("base"), m.group("exp")
    negative = exp.startswith(SUPERSCRIPT_MINUS)
    # 'in 1848¹ the': a year and its reference mark ('1024² bytes' counts: an exponent)
    if not negative and base.isdecimal() and is_year_context(text, m.start(), m.end(), int(base)):
        return nw.year(int(base), lang)
    if _is_mark(exp):
        return say_number(base, lang)
    return f"{say_number(base, lang)} {_power(exp, lang)}"


def after_letter_handler(m: re.Match, text: str, lang: str) -> str | None:
    """Only the raised digits are rewritten; the letters before them stay for other rules."""
    exp = m.group("exp")
    start = word_start = m.start()
    # Back over the letters, one more than a symbol has, to tell a symbol from a word
    reach = max(0, start - _SYMBOL_LETTERS - 1)
    while word_start > reach and text[word_start - 1].isalpha():
        word_start -= 1
    letters = text[word_start:start]
    if letters + exp in UNITS:  # 'km²' is a unit: its rule says it after a number
        return None
    negative = exp.startswith(SUPERSCRIPT_MINUS)
    # One letter is a symbol ('a² + b²'); two are one unless they spell a short word ('in¹')
    word = len(letters) > _SYMBOL_LETTERS or (
        len(letters) > 1 and letters.lower() in FUNCTION_WORDS
    )
    if word or _is_mark(exp):  # 'Darwin¹', 'as shown in²': a word and its reference mark
        return None if negative else ""
    return " " + _power(exp, lang)
