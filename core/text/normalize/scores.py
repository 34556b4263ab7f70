"""Rules for scores, odds and marks: a number written from its point ('.300', 'a .45'),
evens ('50-50') and a decimal mark out of a round total ('8.5/10')."""

from __future__ import annotations

import re

from core.text.normalize import numbers as nw

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


# 'a 50-50 chance': evens, said as one word.
EVENS = re.compile(r"(?<![\w.,-])50[-–/]50(?![\w-])")


def evens_handler(m: re.Match, text: str, lang: str) -> str:
    return "fifty-fifty"


# 'scored 8.5/10', 'rated 4.5/5': a mark with a decimal, out of a round total.
DECIMAL_MARK = re.compile(r"(?<![\w.,])(?P<n>\d{1,2}\.\d)/(?P<d>5|10|20|100)(?![\w/]|[.,]\d)")


def decimal_mark_handler(m: re.Match, text: str, lang: str) -> str:
    whole, _, frac = m.group("n").partition(".")
    mark = nw.decimal(whole, frac, lang)
    return f"{mark} out of {nw.cardinal(int(m.group('d')), lang)}"
