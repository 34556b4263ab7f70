"""English spoken-form normalizer: written book text -> what a careful narrator says.

``spoken_rewrites`` lists every change as a span of the written text and its spoken words, so
a preview can highlight them; ``spoken_form`` applies them. Text no rule recognises keeps its
exact characters. Rules run in priority order (web addresses and phone numbers before money,
times and dates, those before bare numbers, abbreviations before initialisms); a rule may only
claim characters no earlier rule claimed. Each rule is one linear regex scan plus a bounded
look at the neighbouring words, so a megabyte of text takes well under a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from core.normalize import numeric as n
from core.normalize import words as w
from core.normalize.context import starts_sentence

__all__ = ["LANGUAGES", "Rewrite", "spoken_form", "spoken_rewrites"]

LANGUAGES = ("en-us", "en-gb")


@dataclass(frozen=True)
class Rewrite:
    start: int  # span [start, end) of the written text
    end: int
    spoken: str  # what is said instead


# A handler returns the spoken words for the whole match, (end, words) to claim only the match
# up to ``end``, or None to leave the match alone.
Handler = Callable[[re.Match, str, str], "str | tuple[int, str] | None"]

RULES: tuple[tuple[re.Pattern, Handler], ...] = (
    (w.EMAIL, w.email_handler),
    (w.URL, w.url_handler),
    (w.PHONE, w.phone_handler),
    (n.MONEY, n.money_handler),
    (n.CENTS, n.cents_handler),
    (n.TIME, n.time_handler),
    (n.TIME_DOT, n.time_dot_handler),
    (n.HOUR_AMPM, n.hour_handler),
    (n.MONTH_DAY, n.month_day_handler),
    (n.DAY_MONTH, n.day_month_handler),
    (n.MONTH_YEAR, n.month_year_handler),
    (w.NUMBER_PREFIX, w.number_prefix_handler),
    (w.SECTION, w.section_handler),
    (w.HASH_NUMBER, w.hash_handler),
    (n.FEET_INCHES, n.feet_inches_handler),
    (n.PERCENT, n.percent_handler),
    (n.DEGREES, n.degrees_handler),
    (n.UNIT, n.unit_handler),
    (n.INCHES, n.inches_handler),
    (n.FEET, n.feet_handler),
    (n.DECADE, n.decade_handler),
    (n.ORDINAL, n.ordinal_handler),
    (n.MIXED_FRACTION, n.mixed_fraction_handler),
    (n.VULGAR, n.vulgar_handler),
    (n.FRACTION, n.fraction_handler),
    (n.RANGE, n.range_handler),
    (n.NUMBER, n.number_handler),
    (w.DOTTED, w.dotted_handler),
    (w.VERSUS, w.versus_handler),
    (w.COMPANY, w.company_handler),
    (w.TITLE, w.title_handler),
    (w.ABBREVIATION, w.abbreviation_handler),
    (w.MONTH_ABBR, w.month_abbr_handler),
    (w.WEEKDAY_ABBR, w.weekday_abbr_handler),
    (w.INITIALISM, w.initialism_handler),
    (w.ROMAN, w.roman_handler),
    (w.AMPERSAND, w.ampersand_handler),
    (w.MATH, w.math_handler),
    (w.DIM_X, w.dim_x_handler),
    (w.SLASH_WORDS, w.slash_handler),
)


def _language(lang: object) -> str | None:
    if not isinstance(lang, str):
        return None
    lang = lang.strip().lower().replace("_", "-")
    return lang if lang in LANGUAGES else None


def spoken_rewrites(text: str, lang: str = "en-us") -> list[Rewrite]:
    """Every change that turns ``text`` into its spoken form: ordered, non-overlapping."""
    language = _language(lang)
    if language is None or not isinstance(text, str) or not text:
        return []
    claimed = bytearray(len(text))
    found: list[Rewrite] = []
    for pattern, handler in RULES:
        for m in pattern.finditer(text):
            start, end = m.span()
            if start == end or claimed.find(1, start, end) != -1:
                continue
            try:
                result = handler(m, text, language)
            except Exception:  # a rule's bug must never cost the listener the sentence
                result = None
            if result is None:
                continue
            if isinstance(result, tuple):
                end, result = result
                if not start < end <= m.end():
                    continue
            if result == text[start:end]:
                continue
            if result[:1].islower() and text[start].isupper() and starts_sentence(text, start):
                result = result[0].upper() + result[1:]
            claimed[start:end] = b"\x01" * (end - start)
            found.append(Rewrite(start, end, result))
    found.sort(key=lambda r: r.start)
    return found


def apply_rewrites(text: str, rewrites: list[Rewrite]) -> str:
    parts: list[str] = []
    pos = 0
    for r in rewrites:
        parts.append(text[pos : r.start])
        parts.append(r.spoken)
        pos = r.end
    parts.append(text[pos:])
    return "".join(parts)


def spoken_form(text: str, lang: str = "en-us") -> str:
    """``text`` as a narrator says it: numbers, abbreviations and symbols in words."""
    if not isinstance(text, str):
        return text
    return apply_rewrites(text, spoken_rewrites(text, lang))
