"""Rules for letter-and-number codes: 'Q3', 'B12', 'FY2024', 'WWII', '3(b)'."""

from __future__ import annotations

import re

from core.text.normalize import numbers as nw

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
