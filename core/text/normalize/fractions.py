"""Rules for fractions: '3/4', '2 1/2', '½', and when one is a mark ('8/10') or a name
('9/11')."""

from __future__ import annotations

import re

from core.text.normalize import numbers as nw
from core.text.normalize.context import next_word, prev_word
from core.text.normalize.numeric import AT_DIGIT, FRACTION_CHARS, RB
from core.text.normalize.tables import VULGAR_FRACTIONS, words

MIXED_FRACTION = re.compile(AT_DIGIT + rf"(?P<w>\d+)[ -](?P<n>\d+)/(?P<d>\d+){RB}(?!/)")
# '1/3rd': the denominator may carry its ordinal ending.
FRACTION = re.compile(AT_DIGIT + rf"(?P<n>\d+)/(?P<d>\d+)(?:st|nd|rd|th)?{RB}(?!/)")
VULGAR = re.compile(
    rf"(?=[\d{FRACTION_CHARS}])(?<![\w.,])(?:(?P<w>\d+)[ -]?)?(?P<f>[{FRACTION_CHARS}])"
)


def _proper(n: int, d: int) -> bool:
    return 0 < n < d <= 100


def mixed_fraction_handler(m: re.Match, text: str, lang: str) -> str | None:
    w, n, d = int(m.group("w")), int(m.group("n")), int(m.group("d"))
    return nw.mixed_fraction(w, n, d, lang) if _proper(n, d) and len(m.group("w")) < 7 else None


# Denominators a fraction is commonly written with; '9/11', '7/11' are names, said as pairs.
_COMMON_DENOMINATORS = frozenset((2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 32, 64, 100))


# Measures that one part of is 'a quarter mile', 'a half hour' (but 'one third full').
_MEASURES = frozenset(
    words(
        "mile hour inch cup pound ounce teaspoon tablespoon tsp tbsp lb oz yard acre day week "
        "month year minute second foot pint gallon dozen century league fathom"
    )
)


def _one_part(n: int, d: int, text: str, end: int, lang: str) -> str | None:
    """'1/4 mile', '1/2 hour': one part of a measure is 'a quarter', 'a half'."""
    if n != 1 or next_word(text, end) not in _MEASURES:
        return None
    return "a " + nw.fraction(n, d, lang).split(" ", 1)[1]


def _is_score(text: str, end: int) -> bool:
    """'97/100 on the test', 'rated it 8/10.': marks, not parts of something ('of', a unit)."""
    after = next_word(text, end)
    return after in ("on", "in", "for", "and", "") and not text[end : end + 1].isalnum()


def _pressure(n: int, lang: str) -> str:
    """'120' of '120/80' is said 'one twenty'."""
    if 100 <= n < 300 and n % 100 >= 10:
        return f"{nw.cardinal(n // 100, lang)} {nw.cardinal(n % 100, lang)}"
    return nw.cardinal(n, lang)


def fraction_handler(m: re.Match, text: str, lang: str) -> str | None:
    n, d = int(m.group("n")[:4]), int(m.group("d")[:4])
    glued = text[m.end() : m.end() + 1] == "-" and text[m.end() + 1 : m.end() + 2].isalpha()
    if n == 1 and glued and prev_word(text, m.start()).lower() in ("a", "an"):
        return nw.fraction(n, d, lang).split(" ", 1)[1]  # 'a 1/4-acre lot': 'a quarter-acre'
    if (n, d) == (1, 2) and next_word(text, m.end()) in ("a", "an", "the"):
        return "half"  # '1/2 a cup' is 'half a cup', '1/2 the men' 'half the men'
    if _proper(n, d) and d not in _COMMON_DENOMINATORS and next_word(text, m.end()) != "of":
        return f"{nw.cardinal(n, lang)} {nw.cardinal(d, lang)}"
    if _proper(n, d) and d in (10, 20, 50, 100) and n > 1 and _is_score(text, m.end()):
        return f"{nw.cardinal(n, lang)} out of {nw.cardinal(d, lang)}"  # 'scored 97/100'
    if _proper(n, d):
        return _one_part(n, d, text, m.end(), lang) or nw.fraction(n, d, lang)
    if n > d and re.search(r"pressure|\bBP\b", text[max(0, m.start() - 40) : m.start()]):
        return f"{_pressure(n, lang)} over {nw.cardinal(d, lang)}"  # blood pressure '120/80'
    if n >= d and len(m.group("n")) <= 3 and len(m.group("d")) <= 3:
        # '24/7', '50/50': said as the two numbers.
        return f"{nw.cardinal(n, lang)} {nw.cardinal(d, lang)}"
    return None


def vulgar_handler(m: re.Match, text: str, lang: str) -> str | None:
    n, d = VULGAR_FRACTIONS[m.group("f")]
    w = m.group("w")
    if not w and (n, d) == (1, 2) and next_word(text, m.end()) in ("a", "an"):
        return "half"
    if w:
        return nw.mixed_fraction(int(w[:12]), n, d, lang)
    return _one_part(n, d, text, m.end(), lang) or nw.fraction(n, d, lang)
