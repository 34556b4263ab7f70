"""Rules for quantities: money, percentages, degrees and units after a number."""

from __future__ import annotations

import re

from core.normalize import numbers as nw
from core.normalize.context import next_word, prev_word
from core.normalize.numeric import AT_DIGIT, AT_NUMBER, DASH, NUM, SIGN, keep_period, say_number
from core.normalize.tables import (
    CURRENCIES,
    FUNCTION_WORDS,
    SCALE_WORDS,
    TEMPERATURE_SCALES,
    UNITS,
)

_UNIT_ALT = "|".join(
    re.escape(u) for u in sorted(UNITS, key=len, reverse=True) if not u.endswith(".")
)

# --- money ------------------------------------------------------------------------------


def money(m: re.Match, text: str, lang: str) -> str | None:
    one, many, minor_one, minor_many = CURRENCIES[m.group("cur")]
    amount = "".join(c for c in m.group("num") if c.isdigit() or c == ".")
    scale = m.group("scale")
    if scale:
        return f"{say_number(amount, lang)} {SCALE_WORDS[scale]} {many}"
    whole, _, cents = amount.partition(".")
    if cents and (len(cents) != 2 or not minor_one):
        return f"{say_number(amount, lang)} {many}"
    parts = []
    if int(whole) or not cents or not int(cents):
        parts.append(f"{nw.cardinal(int(whole), lang)} {one if whole == '1' else many}")
    if cents and int(cents):
        c = int(cents)
        parts.append(f"{nw.cardinal(c, lang)} {minor_one if c == 1 else minor_many}")
    return " and ".join(parts)


MONEY = re.compile(
    rf"(?P<cur>US\$|[$£€¥₹])\s?(?P<num>{NUM})"
    r"(?:\s(?P<scale>thousand|million|billion|trillion)|(?P<scale2>k|K|m|mn|bn|b|tn|M|B))?"
    r"(?!\w|[.,]\d)"
)


def money_handler(m: re.Match, text: str, lang: str) -> str | None:
    if m.group("scale2"):
        scale = m.group("scale2")
        cur, num = m.group("cur"), m.group("num")
        many = CURRENCIES[cur][1]
        return f"{say_number(num, lang)} {SCALE_WORDS[scale]} {many}"
    return money(m, text, lang)


CENTS = re.compile(AT_DIGIT + r"(?P<num>\d+)\s?¢")


def cents_handler(m: re.Match, text: str, lang: str) -> str:
    n = int(m.group("num"))
    return f"{nw.cardinal(n, lang)} {'cent' if n == 1 else 'cents'}"


# --- units, percentages, degrees --------------------------------------------------------

QTY = rf"{SIGN}(?P<a>{NUM})(?:(?P<dash>{DASH})(?P<b>{NUM}))?"
PERCENT = re.compile(AT_NUMBER + rf"{QTY}\s?%")
DEGREES = re.compile(AT_NUMBER + rf"{QTY}\s?°(?:\s?(?P<scale>[FCK])(?!\w))?")
UNIT = re.compile(
    AT_NUMBER + rf"{QTY}(?P<sep>\s|-|)(?P<sq>sq\.?\s?)?(?P<unit>{_UNIT_ALT}|in\.)(?![\w/²])"
    r"(?P<dot>\.(?!\w))?"
)
FEET_INCHES = re.compile(AT_DIGIT + r"(?P<ft>\d{1,2})['′’]\s?(?P<inch>\d{1,2})(?:[\"″”]|'')")
INCHES = re.compile(AT_DIGIT + r"(?P<inch>\d{1,3})[\"″](?!\w)")
FEET = re.compile(AT_DIGIT + r"(?P<ft>\d{1,3})['′](?![\w'])")


def _qty(m: re.Match, lang: str) -> tuple[str, bool]:
    """The quantity's words and whether it takes the singular."""
    words = say_number(m.group("a"), lang)
    if m.group("b"):
        return f"{words} to {say_number(m.group('b'), lang)}", False
    if m.group("sign"):
        words = "minus " + words
    return words, nw.is_one(m.group("a"))


def percent_handler(m: re.Match, text: str, lang: str) -> str:
    words, _ = _qty(m, lang)
    return f"{words} {'per cent' if lang == 'en-gb' else 'percent'}"


def degrees_handler(m: re.Match, text: str, lang: str) -> str:
    words, one = _qty(m, lang)
    spoken = f"{words} {'degree' if one else 'degrees'}"
    if m.group("scale"):
        spoken += " " + TEMPERATURE_SCALES[m.group("scale")]
    return spoken


def unit_handler(m: re.Match, text: str, lang: str) -> str | None:
    unit = m.group("unit")
    one_word, many, british = UNITS[unit]
    if lang == "en-gb" and british:
        one_word = british
        many = british.replace(" per", "s per") if " per " in british else british + "s"
    if m.group("sq"):
        one_word, many = "square " + one_word, "square " + many
    words, one = _qty(m, lang)
    before = prev_word(text, m.start()).lower()
    after = next_word(text, m.end())
    # 'a 10 ft drop', 'the 100 m race': a unit before a noun stays singular.
    article = before in ("a", "an") or (
        before == "the" and after.isalpha() and after.islower() and after not in FUNCTION_WORDS
    )
    if (m.group("sep") == "-" or article) and not m.group("b"):
        # Adjectival '5-km walk', 'a 10 ft drop': the unit stays singular.
        joiner = "-" if m.group("sep") == "-" and " " not in one_word else " "
        return f"{words}{joiner}{one_word}"
    spoken = f"{words} {one_word if one else many}"
    return keep_period(m, text, spoken)


def feet_inches_handler(m: re.Match, text: str, lang: str) -> str:
    ft, inch = int(m.group("ft")), int(m.group("inch"))
    return (
        f"{nw.cardinal(ft, lang)} {'foot' if ft == 1 else 'feet'} "
        f"{nw.cardinal(inch, lang)} {'inch' if inch == 1 else 'inches'}"
    )


def inches_handler(m: re.Match, text: str, lang: str) -> str:
    n = int(m.group("inch"))
    return f"{nw.cardinal(n, lang)} {'inch' if n == 1 else 'inches'}"


def feet_handler(m: re.Match, text: str, lang: str) -> str:
    n = int(m.group("ft"))
    return f"{nw.cardinal(n, lang)} {'foot' if n == 1 else 'feet'}"
