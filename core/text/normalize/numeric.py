"""Rules for digits: dates, ranges, ordinals, decades, years, house numbers, plain numbers
(times are clock.py's, fractions fractions.py's).

Each rule is a regex plus a handler that returns the spoken words, or None to leave the match
alone. Whether a four-digit number is a year is decided here from its neighbours.
"""

from __future__ import annotations

import re

from core.text.normalize import numbers as nw
from core.text.normalize.context import keep_period, next_word, prev_word
from core.text.normalize.tables import (
    FUNCTION_WORDS,
    MONTH_ABBREVIATIONS,
    MONTHS,
    SENTENCE_STARTERS,
    VULGAR_FRACTIONS,
    YEAR_CUES,
    YEAR_FOLLOWERS,
    words,
)

# A written number: thousands groups or plain digits, optional decimals. Never preceded by a
# letter, digit or dot, never followed by a letter or by more digits after a dot or comma.
LB = r"(?<![\w.,])"
# Rules that start with a number say which character may not precede it through this, checked
# outside the regex so the scan can jump from digit to digit.
NOT_AFTER_NUMBER = re.compile(r"[\w.,]")
# The same test inside the regex, after a look-ahead for the first character: it keeps a scan
# from restarting inside a long run of digits (quadratic) while still letting it skip ahead.
AT_DIGIT = r"(?=\d)(?<![\w.,])"
AT_NUMBER = r"(?=[-−\d])(?<![\w.,])"
RB = r"(?![\w]|[.,]\d)"
# Thousands go in groups after commas, or after (thin, no-break) spaces as in European print.
NUM = r"(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3}(?!\d))+|\d+)(?:\.\d+)?"
SIGN = r"(?:(?P<sign>[-−])(?<![\w.,\-−][-−]))?"
DASH = r"\s?[–—]\s?|-"

_MONTH_ALT = "|".join([*MONTHS, *(re.escape(a + ".") for a in MONTH_ABBREVIATIONS)])
_MONTH = rf"(?P<month>{_MONTH_ALT})"
FRACTION_CHARS = "".join(VULGAR_FRACTIONS)
_DETERMINERS = frozenset(words("the his her its their our my your this that"))
_YEAR_COUNT_CUES = frozenset(words("no nos number numbers page pages p pp vol room flight"))


def _month_name(written: str) -> str:
    return MONTH_ABBREVIATIONS.get(written.rstrip("."), written)


def say_number(s: str, lang: str) -> str:
    if len(s.replace(",", "").split(".")[0]) > nw.MAX_CARDINAL_DIGITS:
        return nw.digits(s)
    if len(s) == 4 and s.isdecimal() and int(s) % 100 == 0 and int(s) % 1000:
        # '1500 men', '£2500 a year': round hundreds written without a comma are counted in
        # hundreds by narrators ('fifteen hundred'); '1,500' keeps 'one thousand five hundred'.
        return nw.year(int(s), lang)
    return nw.number(s, lang)


def is_year_context(text: str, start: int, end: int, value: int) -> bool:
    """A bare four-digit number 1000-2099 is a year unless a noun follows it ('1921 soldiers')
    or a count cue precedes it ('No. 1921', 'page 1921')."""
    if not 1000 <= value <= 2099:
        return False
    before = prev_word(text, start).rstrip(".").lower()
    if before in _YEAR_COUNT_CUES:
        return False
    if before in ("year", "the year") or before.capitalize() in MONTHS:
        return True
    after = next_word(text, end)
    plural = after.endswith("s") and not after.endswith(("ss", "us", "is"))
    if before in _DETERMINERS and after.isalpha() and not plural:
        return True  # 'the 1920 election', 'his 1905 paper'
    # A verb or adverb after it ('of 1666 destroyed', '1805 finally') is no counted noun.
    verbish = after.endswith(("ed", "ly"))
    noun_follows = (
        after.isalpha() and after.islower() and after not in FUNCTION_WORDS and not verbish
    )
    return not noun_follows


# --- dates ------------------------------------------------------------------------------

_ORD = r"(?:st|nd|rd|th)?"
MONTH_DAY = re.compile(
    rf"\b{_MONTH}\s(?P<d>\d{{1,2}}){_ORD}(?![\w:]|[.,]\d)(?:(?P<comma>,?)\s(?P<y>\d{{4}})(?!\w))?"
)
DAY_MONTH = re.compile(
    AT_DIGIT + rf"(?P<d>\d{{1,2}}){_ORD}\s(?:of\s)?{_MONTH}(?![\w])(?:,?\s(?P<y>\d{{4}})(?!\w))?"
)
MONTH_YEAR = re.compile(rf"\b{_MONTH}\s(?P<y>\d{{4}})(?!\w|[.,]\d)")


def _day(m: re.Match) -> int | None:
    d = int(m.group("d"))
    return d if 1 <= d <= 31 else None


def month_day_handler(m: re.Match, text: str, lang: str) -> str | None:
    d = _day(m)
    if d is None:
        return None
    spoken = f"{_month_name(m.group('month'))} {nw.ordinal(d, lang)}"
    if m.group("y"):
        spoken += f", {nw.year(int(m.group('y')), lang)}"
    return spoken


def day_month_handler(m: re.Match, text: str, lang: str) -> str | None:
    d = _day(m)
    if d is None:
        return None
    the = "" if prev_word(text, m.start()).lower() == "the" else "the "
    spoken = f"{the}{nw.ordinal(d, lang)} of {_month_name(m.group('month'))}"
    if m.group("y"):
        spoken += f", {nw.year(int(m.group('y')), lang)}"
    return spoken


def month_year_handler(m: re.Match, text: str, lang: str) -> str | None:
    return f"{_month_name(m.group('month'))} {nw.year(int(m.group('y')), lang)}"


# --- ranges, fractions, ordinals, decades -----------------------------------------------

_INT = r"\d{1,3}(?:,\d{3})+|\d+"
RANGE = re.compile(AT_DIGIT + rf"(?P<a>{_INT})(?P<dash>{DASH})(?P<b>{_INT}){RB}(?!-\d)")


def range_handler(m: re.Match, text: str, lang: str) -> str | None:
    a_s, b_s = m.group("a"), m.group("b")
    if m.group("dash") == "-" and m.start() > 0 and text[m.start() - 1] in "-–":
        return None
    b_s = b_s.replace(",", "")
    a, b = int(a_s.replace(",", "")), int(b_s)
    if (
        len(a_s) == 4
        and 1000 <= a <= 2099
        and ((len(b_s) == 4 and a < b <= 2099) or (len(b_s) == 2 and b > a % 100))
    ):
        tail = nw.year(b, lang) if len(b_s) == 4 else nw.cardinal(b, lang)
        return f"{nw.year(a, lang)} to {tail}"
    if len(a_s) > 7 or len(b_s) > 7:
        return None
    return f"{nw.cardinal(a, lang)} to {nw.cardinal(b, lang)}"


NUMERIC_DATE = re.compile(
    AT_DIGIT + r"(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4}|\d{2})(?![\w/]|[.,]\d)"
)


def numeric_date_handler(m: re.Match, text: str, lang: str) -> str | None:
    """'3/4/1921': month first in en-us, day first in en-gb, unless only one order works."""
    a, b = int(m.group("a")), int(m.group("b"))
    month, day = (b, a) if lang == "en-gb" else (a, b)
    if month > 12:
        month, day = day, month
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    y = m.group("y")
    year = nw.year(int(y), lang) if len(y) == 4 else nw.house_year(y)
    return f"{MONTHS[month - 1]} {nw.ordinal(day, lang)}, {year}"


ORDINAL = re.compile(
    AT_DIGIT + r"(?P<n>\d{1,3}(?:,\d{3})+|\d{1,15})(?P<suf>st|nd|rd|th|ST|ND|RD|TH|d)(?!\w)"
    r"(?P<c>\s(?:c|cent)\.)?"
)


def ordinal_handler(m: re.Match, text: str, lang: str) -> str | None:
    n = int(m.group("n").replace(",", ""))
    if m.group("suf") == "d" and n % 10 not in (2, 3):
        return None
    spoken = nw.ordinal(n, lang)
    if m.group("c"):
        if re.match(r"\s+(?:B\.?C|A\.?D|C\.?E)", text[m.end() : m.end() + 8]):
            return spoken + " century"  # '3rd c. B.C.': the era goes on, no sentence ends
        return keep_period(m, text, spoken + " century")
    return spoken


DECADE = re.compile(r"(?=[\d'’])(?<![\w.,])(?:(?P<full>\d{1,3}0)|['’](?P<short>\d0))['’]?s(?!\w)")


def decade_handler(m: re.Match, text: str, lang: str) -> str | None:
    if m.group("short"):
        return nw.decade(int(m.group("short")), lang)
    full = m.group("full")
    n = int(full)
    if len(full) == 2:
        return nw.decade(n, lang) if n >= 10 else None
    if n in (100, 1000) and next_word(text, m.end()) == "of":
        return "hundreds" if n == 100 else "thousands"  # '1000s of them'
    if len(full) == 3:
        return None
    return nw.decade(n, lang)


# --- plain numbers ----------------------------------------------------------------------

NUMBER = re.compile(AT_NUMBER + rf"{SIGN}(?P<n>{NUM}){RB}")


_STREET_AFTER = re.compile(
    r"(?:\s[A-Z][a-z]+){1,3}\s(?:St\.?|Street|Road|Rd\.?|Avenue|Ave\.?|Lane|Square|Place|Terrace"
    r"|Crescent|Drive|Boulevard|Blvd\.?|Gardens|Row|Court|Way)(?!\w)"
)


# Capitalised words after which a number is counted ('Chapter 101', 'Psalm 119').
_COUNTING_NAMES = frozenset(
    words("Chapter Psalm Page Part Book Volume Section Article Verse Line Number No Nos Hymn")
)


def _is_name_number(text: str, start: int) -> bool:
    """'Room 101', 'Fahrenheit 451', 'Flight 370': a number that names a thing after a
    capitalised word is said like a house number."""
    before = prev_word(text, start)
    if not before[:1].isupper() or not before.isalpha() or before in _COUNTING_NAMES:
        return False
    return before not in MONTHS and before not in SENTENCE_STARTERS and not before.isupper()


# Before a three-digit number these make it a year of the first millennium ('in 476').
_EARLY_YEAR_CUES = frozenset(words("in since until till by ad anno"))


def _is_early_year(text: str, start: int, end: int) -> bool:
    if prev_word(text, start).replace(".", "").lower() not in _EARLY_YEAR_CUES:
        return False
    after = next_word(text, end)
    return not (after.isalpha() and after.islower() and after not in FUNCTION_WORDS)


# '221B Baker Street', 'Room 4B': a house or room number with a letter after it.
HOUSE_LETTER = re.compile(AT_DIGIT + r"(?P<n>\d{1,4})(?P<l>[A-Za-z])(?!\w)")
_LETTERED_PLACES = frozenset(
    words("Room Flat Apartment Apt Suite Platform Gate Ward Block Cell Bay Berth Cabin Stand")
)


def house_letter_handler(m: re.Match, text: str, lang: str) -> str | None:
    letter = m.group("l")
    at_street = bool(_STREET_AFTER.match(text, m.end()))
    if not at_street and not (letter.isupper() and prev_word(text, m.start()) in _LETTERED_PLACES):
        return None
    n = int(m.group("n"))
    said = house_number(n, lang) if at_street else nw.cardinal(n, lang)
    return f"{said} {letter.upper()}"


# "in '45", "the summer of '69": a year written with its century left off.
SHORT_YEAR = re.compile(r"['’](?P<y>\d{2})(?![\w'’%]|[.,]\d)")


def short_year_handler(m: re.Match, text: str, lang: str) -> str | None:
    if m.start() and not text[m.start() - 1].isspace():
        return None
    before = prev_word(text, m.start()).lower()
    # 'the '45' (the Jacobite rising): after 'the' a bare two digits are a year, not a count.
    if before not in YEAR_CUES and before not in ("the", "class", "vintage"):
        return None
    return nw.house_year(m.group("y"))


def house_number(n: int, lang: str) -> str:
    """221 'two twenty-one', 1600 'sixteen hundred': house numbers are said in pairs."""
    if 100 <= n <= 999 and n % 100:
        hi, lo = divmod(n, 100)
        tail = f"oh {nw.DIGIT_WORDS[lo]}" if lo < 10 else nw.cardinal(lo, lang)
        return f"{nw.DIGIT_WORDS[hi]} {tail}"
    return nw.year(n, lang)


def _said_in_pairs(text: str, m: re.Match) -> bool:
    return _is_name_number(text, m.start()) or _is_early_year(text, m.start(), m.end())


_HOURS = frozenset(words("hours hrs"))
_CLOCK_WORDS = frozenset(words("at by until till from before after"))


def _military_time(s: str, lang: str) -> str | None:
    """'0600 hours' 'zero six hundred', '1430 hours' 'fourteen thirty'."""
    h, mins = int(s[:2]), int(s[2:])
    if h > 23 or mins > 59:
        return None
    hour = f"zero {nw.DIGIT_WORDS[h]}" if s[0] == "0" else nw.cardinal(h, lang)
    if not mins:
        return f"{hour} hundred"
    return f"{hour} {'oh ' + nw.DIGIT_WORDS[mins] if mins < 10 else nw.cardinal(mins, lang)}"


def number_handler(m: re.Match, text: str, lang: str) -> str | None:
    s = m.group("n")
    sign = "minus " if m.group("sign") else ""
    if not sign and s.isdecimal() and len(s) in (3, 4) and _STREET_AFTER.match(text, m.end()):
        return house_number(int(s), lang)
    if not sign and len(s) == 3 and s.isdecimal() and s[0] != "0" and _said_in_pairs(text, m):
        return house_number(int(s), lang)
    if len(s) == 4 and s.isdecimal() and next_word(text, m.end()).rstrip(".") in _HOURS:
        # 'at 1430 hours', '0600 hours' tell the time; 'worked 2000 hours' counts them.
        clock = s[0] == "0" or prev_word(text, m.start()).lower() in _CLOCK_WORDS
        said = _military_time(s, lang) if clock else None
        if said:
            return said
    if len(s) > 1 and s[0] == "0" and s[1].isdecimal():
        return nw.digits(s)
    if "," not in s and "." not in s and len(s) == 4 and not sign:
        value = int(s)
        if is_year_context(text, m.start(), m.end(), value):
            return nw.year(value, lang)
    if not sign and "," not in s and "." not in s and len(s) <= 4:
        after = next_word(text, m.end())
        before = prev_word(text, m.start()).replace(".", "").lower()
        if after.rstrip(".").lower() in YEAR_FOLLOWERS or before in ("ad", "anno"):
            return nw.year(int(s), lang) if len(s) == 4 else nw.cardinal(int(s), lang)
    return sign + say_number(s, lang)


def year_cue(word: str) -> bool:
    return word.rstrip(".").lower() in YEAR_CUES
