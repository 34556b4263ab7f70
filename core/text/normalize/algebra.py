"""Rules for school algebra: a number stuck to a variable ('2x + 3 = 7', '2x²') and the minus
between two terms of an equation."""

from __future__ import annotations

import re

from core.text.normalize import numbers as nw

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
