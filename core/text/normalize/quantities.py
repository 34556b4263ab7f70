"""Rules for quantities: money, percentages, degrees and units after a number."""

from __future__ import annotations

import re

from core.text.normalize import numbers as nw
from core.text.normalize.context import keep_period, next_word, prev_word, prev_word_start
from core.text.normalize.numeric import AT_DIGIT, AT_NUMBER, DASH, NUM, SIGN, say_number
from core.text.normalize.tables import (
    CURRENCIES,
    FUNCTION_WORDS,
    MONTHS,
    SCALE_WORDS,
    TEMPERATURE_SCALES,
    UNITS,
    VULGAR_FRACTIONS,
    words,
)

_UNIT_ALT = "|".join(
    re.escape(u) for u in sorted(UNITS, key=len, reverse=True) if not u.endswith(".")
)
# Dotted units ('in.', 'st.'): after a space only, so '1st.' stays an ordinal.
_DOTTED_UNITS = "|".join(re.escape(u) for u in UNITS if u.endswith("."))


def _before_noun(text: str, start: int, end: int) -> bool:
    """After 'a' or 'an' and before a lowercase noun: 'a 90° angle', 'a $20 bill'."""
    if prev_word(text, start).lower() not in ("a", "an"):
        return False
    after = next_word(text, end)
    return after.isalpha() and after.islower() and after not in FUNCTION_WORDS


# --- money ------------------------------------------------------------------------------


def money(m: re.Match, text: str, lang: str) -> str | None:
    one, many, minor_one, minor_many = CURRENCIES[m.group("cur")]
    amount = "".join(c for c in m.group("num") if c.isdecimal() or c == ".")
    scale = m.group("scale")
    if scale:
        return f"{say_number(amount, lang)} {SCALE_WORDS[scale]} {many}"
    whole, _, cents = amount.partition(".")
    if cents and (len(cents) != 2 or not minor_one):
        return f"{say_number(amount, lang)} {many}"
    if not cents and _before_noun(text, m.start(), m.end()):
        # 'a $20 bill', 'a £5 note': the amount describes the noun, the unit stays singular.
        return f"{say_number(whole, lang)}-{one}"
    parts = []
    if int(whole) or not cents or not int(cents):
        # '£2500' is 'twenty-five hundred pounds'; '£2,500' keeps its thousands.
        comma = "," in m.group("num")
        spoken = nw.cardinal(int(whole), lang) if comma else say_number(whole, lang)
        parts.append(f"{spoken} {one if whole == '1' else many}")
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


# '4x4', '2×4': dimensions written close up, said 'four by four'.
DIMENSIONS = re.compile(AT_DIGIT + r"(?P<a>\d{1,4})[x×](?P<b>\d{1,4})(?![\w.,]\w|\w)")


def dimensions_handler(m: re.Match, text: str, lang: str) -> str:
    return f"{nw.cardinal(int(m.group('a')), lang)} by {nw.cardinal(int(m.group('b')), lang)}"


# --- pounds, shillings and pence -------------------------------------------------------

# '2s. 6d.', '3l. 10s.', '6d.', '1½d.': old British money, said as a narrator of the period
# would ('two shillings and sixpence').
LSD = re.compile(
    r"(?=[\d½¼¾])(?<![\w.,])(?:(?P<l>\d{1,5})l\.\s?(?=\d))?"
    r"(?:(?P<s>\d{1,2})s\.?(?:\s?(?=\d|[½¼¾]))?)?"
    r"(?:(?P<d>\d{1,2}|\d?[½¼¾])d\.?)?(?!\w)"
)
_PENCE = words("penny twopence threepence fourpence fivepence sixpence sevenpence eightpence")
_PENCE += words("ninepence tenpence elevenpence")
_PENCE_FRACTIONS = {"½": "halfpenny", "¼": "farthing", "¾": "three farthings"}
_AFTER_DECADE = frozenset(words("the early late mid his her their its my our your"))


def _pence(d: str, lang: str, alone: bool) -> str:
    whole = d.rstrip("½¼¾")
    part = d[len(whole) :]
    if not whole:
        return ("a " if part != "¾" else "") + _PENCE_FRACTIONS[part]
    n = int(whole)
    if (n, part) == (1, "½"):
        return "three halfpence"
    said = (("a " if alone else "one ") + "penny") if n == 1 else ""
    said = said or (_PENCE[n - 1] if n <= 11 else f"{nw.cardinal(n, lang)} pence")
    return said + (" " + _PENCE_FRACTIONS[part] if part else "")


def lsd_handler(m: re.Match, text: str, lang: str) -> str | None:
    pounds, shillings, pence = m.group("l"), m.group("s"), m.group("d")
    written = m.group(0)
    if not (shillings or pence) or not written.endswith(".") and not (shillings and pence):
        return None  # a dot or a shillings-and-pence pair marks old money ('5s', '6d' alone no)
    if shillings and not pence and not pounds:
        before = prev_word(text, m.start())
        lead = prev_word_start(text, m.start())
        after_money = (lead > 0 and text[lead - 1] == "£") or before.endswith("l.")
        # '80s. a quarter': a dot the sentence runs on past is the shillings' own
        runs_on = re.match(r"\s[a-z]", text[m.end() : m.end() + 2]) is not None
        decade = int(shillings) % 10 == 0 and not after_money and not runs_on
        if decade or before.lower() in _AFTER_DECADE:
            return None  # 'in the 60s.': a decade
    if pence and not shillings and not pounds and pence[-1].isdecimal():
        before = prev_word(text, m.start())
        if int(pence) % 10 in (2, 3) and (before.lower() in ("the", "of") or before in MONTHS):
            return None  # 'the 3d of May': an old-style ordinal
    parts = []
    if pounds:
        parts.append(f"{nw.cardinal(int(pounds), lang)} pound{'' if pounds == '1' else 's'}")
    if shillings:
        n = int(shillings)
        parts.append(f"{nw.cardinal(n, lang)} shilling{'' if n == 1 else 's'}")
    if pence:
        parts.append(_pence(pence, lang, alone=not parts))
    spoken = " ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return keep_period(m, text, spoken)


# '99p', '50p': decimal pence, written close up.
NEW_PENCE = re.compile(AT_DIGIT + r"(?P<n>\d{1,3})p(?![\w'’]|\.\w)")


def new_pence_handler(m: re.Match, text: str, lang: str) -> str:
    n = int(m.group("n"))
    return f"{nw.cardinal(n, lang)} {'penny' if n == 1 else 'pence'}"


# --- units, percentages, degrees --------------------------------------------------------

QTY = rf"{SIGN}(?P<a>{NUM})(?:(?P<dash>{DASH})(?P<b>{NUM}))?"
PERCENT = re.compile(AT_NUMBER + rf"{QTY}\s?%")
DEGREES = re.compile(
    AT_NUMBER + rf"{QTY}\s?°(?:\s?(?P<min>\d{{1,2}})\s?['′’])?"
    r"(?:\s?(?P<scale>[FCK])(?!\w)|\s?(?P<dir>[NSEW])(?![\w'’]))?"
)
_COMPASS = {"N": "north", "S": "south", "E": "east", "W": "west"}
UNIT = re.compile(
    AT_NUMBER + rf"{QTY}(?P<sep>\s|-|)(?P<sq>sq\.?\s?)?"
    rf"(?P<unit>{_UNIT_ALT}|(?<=\s)(?:{_DOTTED_UNITS}))(?![\w/²])"
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
    plain = not (m.group("min") or m.group("scale") or m.group("dir") or m.group("b"))
    if plain and _before_noun(text, m.start(), m.end()):
        return f"{words}-degree"  # 'a 90° angle'
    spoken = f"{words} {'degree' if one else 'degrees'}"
    if m.group("min"):
        mins = int(m.group("min"))
        spoken += f" {nw.cardinal(mins, lang)} {'minute' if mins == 1 else 'minutes'}"
    if m.group("dir"):
        spoken += " " + _COMPASS[m.group("dir")]
    if m.group("scale"):
        spoken += " " + TEMPERATURE_SCALES[m.group("scale")]
    return spoken


# What "sq" may square: units of length
_LENGTHS = ("meter", "metre", "foot", "inch", "yard", "mile")


def unit_handler(m: re.Match, text: str, lang: str) -> str | None:
    unit = m.group("unit")
    one_word, many, british = UNITS[unit]
    if lang == "en-gb" and british:
        one_word = british
        many = british.replace(" per", "s per") if " per " in british else british + "s"
    if m.group("sq"):
        if not one_word.endswith(_LENGTHS):  # '5 sq ft'; '5 sqg' is no unit
            return None
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


# '1 1/4 lb', '½ tsp', '3/4 oz.': a fraction of a unit.
_VULGAR = "".join(VULGAR_FRACTIONS)
FRACTION_UNIT = re.compile(
    rf"(?=[\d{_VULGAR}])(?<![\w.,/])(?:(?:(?P<w>\d{{1,6}})[ -])?(?P<n>\d{{1,3}})/(?P<d>\d{{1,3}})"
    rf"|(?:(?P<w2>\d{{1,6}})[ -]?)?(?P<f>[{_VULGAR}]))\s?(?P<unit>{_UNIT_ALT})(?![\w/²])"
    r"(?P<dot>\.(?!\w))?"
)


def fraction_unit_handler(m: re.Match, text: str, lang: str) -> str | None:
    if m.group("f"):
        n, d = VULGAR_FRACTIONS[m.group("f")]
        w = m.group("w2")
    else:
        n, d, w = int(m.group("n")), int(m.group("d")), m.group("w")
    if not 0 < n < d <= 100:
        return None
    one_word, many, british = UNITS[m.group("unit")]
    if lang == "en-gb" and british:
        one_word = british
        many = british.replace(" per", "s per") if " per " in british else british + "s"
    if one_word == many and one_word.endswith("s"):
        one_word = one_word[:-1]  # 'lbs', 'hrs': the singular for 'a quarter pound'
    if w:
        spoken = f"{nw.mixed_fraction(int(w), n, d, lang)} {many}"
    elif (n, d) == (1, 2):
        spoken = f"half {'an' if one_word[0] in 'aeiou' else 'a'} {one_word}"
    elif n == 1:
        spoken = f"a {nw.fraction(n, d, lang).split(' ', 1)[1]} {one_word}"
    else:
        spoken = (
            f"{nw.fraction(n, d, lang)} of {'an' if one_word[0] in 'aeiou' else 'a'} {one_word}"
        )
    return keep_period(m, text, spoken) if m.group("dot") else spoken


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


# '5 mg/kg', '30 g/day': one unit per another after a number.
_PER_A = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True) if "/" not in u)
_PER_B = {"day": "day", "s": "second", "h": "hour", "hr": "hour", "yr": "year", "min": "minute"}
_PER_B_ALT = "|".join(sorted({*_PER_B, *(u for u in UNITS if "/" not in u and "." not in u)}))
PER_UNIT = re.compile(rf"(?<=\d )(?P<a>{_PER_A})/(?P<b>{_PER_B_ALT})(?![\w/])")


def per_unit_handler(m: re.Match, text: str, lang: str) -> str | None:
    if m.group("a").endswith("."):
        return None
    one, many, _ = UNITS[m.group("a")]
    b = m.group("b")
    per = _PER_B.get(b) or UNITS[b][0]
    single = re.search(r"(?<![\d.,])1 $", text[max(0, m.start() - 3) : m.start()])
    return f"{one if single else many} per {per}"


# '9.58 s', '3 min 23 s': after a decimal or minutes a lone 's' is seconds (after a plain
# whole number it may be shillings).
SECONDS = re.compile(r"(?<=\d )s\b(?![.\w]\w)")


def seconds_handler(m: re.Match, text: str, lang: str) -> str | None:
    lead = text[max(0, m.start() - 12) : m.start()]
    # '9.58 s', '3 min 23 s': a decimal or the end of a time before it
    if not re.search(r"\d\.\d+ $|\bmin\.? \d{1,2} $", lead):
        return None
    return "seconds"


# '6.4 billion km', '3 million sq mi': a unit after a number's scale word.
_SCALED_UNITS = "|".join(
    re.escape(u) for u in sorted(UNITS, key=len, reverse=True) if not u.endswith(".")
)
SCALED_UNIT = re.compile(
    rf"(?<=\d )(?:thousand|million|billion|trillion) (?P<u>{_SCALED_UNITS})(?![\w/²])"
)


def scaled_unit_handler(m: re.Match, text: str, lang: str) -> tuple[int, str] | None:
    scale = m.group(0).split(" ", 1)[0]
    return m.end(), f"{scale} {UNITS[m.group('u')][1]}"
