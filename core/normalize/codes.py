"""Rules for letter-and-number codes and school algebra: 'Q3', 'B12', 'FY2024', 'WWII',
'3(b)', '2x + 3 = 7'."""

from __future__ import annotations

import re

from core.normalize import numbers as nw
from core.normalize.tables import UNITS

# 'Q3', 'vitamin B12', 'the M1', 'the G7': one capital and a short number are said as the
# letter, then the number. Longer numbers are serials or models, said however the reader likes.
CODE = re.compile(r"(?<![\w-])(?P<l>[A-Z])(?P<n>[1-9]\d{0,2})\b(?![.,]\d|['’]\w|-\w)")


def code_handler(m: re.Match, text: str, lang: str) -> str:
    return f"{m.group('l')} {nw.cardinal(int(m.group('n')), lang)}"


# 'FY 2024', 'FY2021', 'FY24': a fiscal year is said as one ('fiscal year twenty twenty-four').
FISCAL = re.compile(r"\bFY\s?(?P<y>\d{4}|\d{2})\b(?![.,]\d)")


def fiscal_handler(m: re.Match, text: str, lang: str) -> str:
    y = m.group("y")
    year = nw.year(int(y), lang) if len(y) == 4 else nw.house_year(y)
    return f"fiscal year {year}"


# 'WWI', 'WWII', 'WW2': the wars by name.
WORLD_WAR = re.compile(r"\bWW(?P<n>II|I|1|2)\b")


def world_war_handler(m: re.Match, text: str, lang: str) -> str:
    return "World War " + ("Two" if m.group("n") in ("II", "2") else "One")


# 'Question 3(b)', 'clause 4(a)': a lettered part of a numbered one.
PART = re.compile(r"(?<![\w.,])(?P<n>\d{1,3})\((?P<l>[a-z])\)")


def part_handler(m: re.Match, text: str, lang: str) -> str:
    return f"{nw.cardinal(int(m.group('n')), lang)} {m.group('l')}"


# '2x + 3 = 7', 'if 3y = 12', '2x²': a number stuck to a variable, where an operator or an
# exponent is next to it (otherwise '4x' may be 'four times': 'a 4x zoom'). A raised digit is
# a word character to \b: the variable ends before one too.
_RAISED = "[¹²³⁴⁵⁶⁷⁸⁹⁰]"
TERM_END = rf"(?:\b|(?={_RAISED}))"
TERM_NEAR = rf"\d[a-z]{TERM_END}"
TERM = re.compile(
    rf"(?<![\w.,])(?P<n>\d{{1,4}})(?P<v>[a-z]){TERM_END}(?=\s?[-+=−×/<>)]|\s?\^|{_RAISED})|"
    rf"(?<=[-+=−×(<>]\s)(?P<n2>\d{{1,4}})(?P<v2>[a-z]){TERM_END}"
)


def term_handler(m: re.Match, text: str, lang: str) -> str | None:
    n, v = m.group("n") or m.group("n2"), m.group("v") or m.group("v2")
    if v not in "abcnxyz":
        return None  # '5 m - 3 m' or '3d' pence belong to other rules
    return f"{nw.cardinal(int(n), lang)} {v}"


# ' - ' between two terms of an equation ('5x - 2 = 13') is 'minus'; a dash between words or
# sentences is left alone, so the equation must hold an '=' close by.
MINUS = re.compile(r"(?<=[\dxyzn] )[-−](?= [\dxyzn(])")


def minus_handler(m: re.Match, text: str, lang: str) -> str | None:
    near = text[max(0, m.start() - 24) : m.end() + 24]
    if "=" not in near:
        return None
    return "minus"


# '€90–€120', '$10-$15': a dash between two sums is 'to'.
MONEY_DASH = re.compile(r"(?<=\d)\s?[–—-]\s?(?=[$£€¥₹]\d)")


def money_dash_handler(m: re.Match, text: str, lang: str) -> str:
    return " to "


# 'Mon.–Fri.', 'Apr.–Oct.': a dash between two shortened weekdays or months is 'to'.
_DAY = (
    r"(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|"
    r"Oct|Nov|Dec)\."
)
WEEKDAY_DASH = re.compile(rf"(?<=\.)[–—-](?={_DAY})")


def weekday_dash_handler(m: re.Match, text: str, lang: str) -> str | None:
    if not re.search(rf"\b{_DAY}$", text[max(0, m.start() - 6) : m.start()]):
        return None
    return " to "


# 'dial 911', 'ring 999': an emergency number is said digit by digit.
EMERGENCY = re.compile(r"(?<=[Dd]ial |[Cc]all |[Rr]ing )(?P<n>911|999|112)\b(?![.,]\d)")


def emergency_handler(m: re.Match, text: str, lang: str) -> str:
    return nw.digits(m.group("n"))


# '.300 for the season', 'a .45 revolver': a number written from its point. A batting
# average or a calibre is said as a whole number; anything else is 'point' and its digits.
LEADING_DOT = re.compile(r"(?<![\w.,])\.(?P<d>\d{1,3})\b(?![.,]\d)")
_CALIBRE = re.compile(r"[-\s](?:caliber|calibre|rifle|revolver|pistol|Colt|automatic|Magnum)")
_BATTING = re.compile(r"(?:batted|batting|hit|hitting|average of|averaged)\s$")


def leading_dot_handler(m: re.Match, text: str, lang: str) -> str:
    d = m.group("d")
    if _CALIBRE.match(text, m.end()) or _BATTING.search(text[max(0, m.start() - 14) : m.start()]):
        return nw.cardinal(int(d), lang)
    return "point " + nw.digits(d)


# 'New York, NY 10118', 'Springfield, Illinois 62701': a postal state and its ZIP code, said
# digit by digit.
_POSTAL = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa",
    "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi",
    "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire",
    "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming", "DC": "D C",
}  # fmt: skip
_STATE_ALT = "|".join(sorted({*_POSTAL, *_POSTAL.values()}, key=len, reverse=True))
ZIP = re.compile(rf"(?<=[A-Za-z], )(?P<st>{_STATE_ALT}) (?P<zip>\d{{5}})(?:-(?P<plus>\d{{4}}))?\b")


def zip_handler(m: re.Match, text: str, lang: str) -> str | None:
    if text[m.end() : m.end() + 2] in (",0", ",1", ".0", ".1") or text[m.end() : m.end() + 1] in (
        "%",
    ):
        return None
    spoken = f"{_POSTAL.get(m.group('st'), m.group('st'))} {nw.digits(m.group('zip'))}"
    if m.group("plus"):
        spoken += " " + nw.digits(m.group("plus"))
    return spoken


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


# 'a 50-50 chance': evens, said as one word.
EVENS = re.compile(r"(?<![\w.,-])50[-–/]50(?![\w-])")


def evens_handler(m: re.Match, text: str, lang: str) -> str:
    return "fifty-fifty"


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


# 'scored 8.5/10', 'rated 4.5/5': a mark with a decimal, out of a round total.
DECIMAL_MARK = re.compile(r"(?<![\w.,])(?P<n>\d{1,2}\.\d)/(?P<d>5|10|20|100)(?![\w/]|[.,]\d)")


def decimal_mark_handler(m: re.Match, text: str, lang: str) -> str:
    whole, _, frac = m.group("n").partition(".")
    mark = nw.decimal(whole, frac, lang)
    return f"{mark} out of {nw.cardinal(int(m.group('d')), lang)}"
