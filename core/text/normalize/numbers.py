"""Number words: cardinals, ordinals, years, decimals, fractions and digit strings.

The words come from ``inflect`` (MIT licence, pure Python, maintained): its ``number_to_words``
takes the ``andword`` that separates American ("one hundred twenty-three") from British ("one
hundred and twenty-three") usage, and ``ordinal`` turns any cardinal phrase into its ordinal.
``num2words`` could do the same but is LGPL-2.1, a heavier obligation for a service that may be
redistributed. Every rule about *when* a digit string is a year, a count or a fraction lives in
the rule modules; this one only says numbers.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from core.text.inflect_engine import inflect_engine

_ENGINE = inflect_engine()

# Past this many digits nobody says the number as a whole: read it digit by digit.
MAX_CARDINAL_DIGITS = 15

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# Denominators said with their own word rather than the plain ordinal.
_DENOMINATOR_WORDS = {2: ("half", "halves"), 4: ("quarter", "quarters")}


def _andword(lang: str) -> str:
    return "and" if lang == "en-gb" else ""


@lru_cache(maxsize=8192)
def cardinal(n: int, lang: str = "en-us") -> str:
    """'one hundred twenty-three' (en-us) or 'one hundred and twenty-three' (en-gb)."""
    if n < 0:
        return "minus " + cardinal(-n, lang)
    if len(str(n)) > MAX_CARDINAL_DIGITS:
        return digits(str(n))
    words = _ENGINE.number_to_words(n, andword=_andword(lang), comma="", zero="zero")
    return " ".join(str(words).split())


@lru_cache(maxsize=4096)
def ordinal(n: int, lang: str = "en-us") -> str:
    """'first', 'twenty-second', 'one hundred third'."""
    return str(_ENGINE.ordinal(cardinal(n, lang)))


def digits(s: str) -> str:
    """'0199' -> 'zero one nine nine'. Every character with a digit value is said, a raised
    one ('²', which int() refuses) too."""
    return " ".join(DIGIT_WORDS[unicodedata.digit(c)] for c in s if c.isdigit())


def decimal(whole: str, frac: str, lang: str = "en-us") -> str:
    """'3', '14' -> 'three point one four'; '', '5' -> 'point five'."""
    head = cardinal(int(whole.replace(",", "")), lang) + " " if whole else ""
    return f"{head}point {digits(frac)}"


def number(s: str, lang: str = "en-us") -> str:
    """A written number with optional thousands separators and decimals."""
    s = "".join(c for c in s if c.isdecimal() or c == ".")
    if "." in s:
        whole, frac = s.split(".", 1)
        return decimal(whole, frac, lang)
    return cardinal(int(s), lang)


def is_one(s: str) -> bool:
    """True when a written quantity takes a singular unit ('1 km', '1.0 km' is plural)."""
    return s.replace(",", "") == "1"


@lru_cache(maxsize=4096)
def year(n: int, lang: str = "en-us") -> str:
    """A year as said aloud: 1066 'ten sixty-six', 1805 'eighteen oh five', 1900 'nineteen
    hundred', 2000 'two thousand', 2007 'two thousand seven', 2010 'twenty ten'."""
    if n < 1000 or n > 9999:
        return cardinal(n, lang)
    hi, lo = divmod(n, 100)
    if 2000 <= n <= 2009 or n % 1000 == 0:
        return cardinal(n, lang)
    if lo == 0:
        return cardinal(hi, lang) + " hundred"
    if lo < 10:
        return f"{cardinal(hi, lang)} oh {DIGIT_WORDS[lo]}"
    return f"{cardinal(hi, lang)} {cardinal(lo, lang)}"


def house_year(two_digits: str) -> str:
    """The '21 of '3/4/21': 'twenty-one'; '05' is 'oh five'."""
    n = int(two_digits)
    return f"oh {DIGIT_WORDS[n]}" if two_digits[0] == "0" else cardinal(n)


def decade(n: int, lang: str = "en-us") -> str:
    """1980 -> 'nineteen eighties', 1800 -> 'eighteen hundreds', 2000 -> 'two thousands',
    70 -> 'seventies'."""
    if n < 100:
        return _plural(cardinal(n, lang))
    if n % 100 == 0 and n % 1000 != 0:
        return cardinal(n // 100, lang) + " hundreds"
    return _plural(year(n, lang))


def _plural(words: str) -> str:
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith("x"):
        return words + "es"
    return words + "s"


def fraction(num: int, den: int, lang: str = "en-us") -> str:
    """2/3 'two thirds', 1/2 'one half', 3/4 'three quarters', 5/16 'five sixteenths'."""
    if den in _DENOMINATOR_WORDS:
        one, many = _DENOMINATOR_WORDS[den]
    else:
        one = ordinal(den, lang)
        many = one + "s"
    return f"{cardinal(num, lang)} {one if num == 1 else many}"


def mixed_fraction(whole: int, num: int, den: int, lang: str = "en-us") -> str:
    """3 1/2 'three and a half', 2 3/4 'two and three quarters'."""
    part = fraction(num, den, lang)
    if num == 1:
        part = "a " + part.split(" ", 1)[1]
    return f"{cardinal(whole, lang)} and {part}"
