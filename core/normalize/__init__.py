"""English spoken-form normalizer: written book text -> what a careful narrator says.

``spoken_rewrites`` lists every change as a span of the written text and its spoken words, so
a preview can highlight them; ``spoken_form`` applies them. Text no rule recognises keeps its
exact characters. Covered: cardinals, decimals, negatives, ordinals, fractions, ranges, years
and decades (a four-digit number is a year unless a counted noun follows it), dates, times,
money, percentages, units, titles and dotted abbreviations (with the sentence's period kept
where the abbreviation ended it), Roman numerals after a heading word or a regnal name,
dotted initialisms (said as letters: 'U.S.' -> 'US', which espeak spells out), symbols,
phone numbers, web and e-mail addresses. Number words come from ``inflect`` (see numbers.py).

Modules: numbers (words for numbers), numeric (dates, ranges, years, plain numbers),
fractions, clock (times, durations, ratios, Bible verses), quantities (money, old pounds,
shillings and pence, units), names (titles, saint or street, Monsieur, states), words
(abbreviations, Roman numerals, symbols), shorthand (footnote marks, 'Xmas', 'inst.'),
superscripts (raised digits: inside a number, an exponent 'x²', a reference mark 'Darwin¹'),
scripture (Bible books), addresses (web, e-mail, phone), codes ('Q3', 'FY2024', 'WWII',
'3(b)', school algebra, sums and weekdays either side of a dash), context (looking at
neighbouring words), tables (the shared word lists).

Rules run in priority order (web addresses and phone numbers before money, times and dates,
those before bare numbers, abbreviations before initialisms); a rule may only claim characters
no earlier rule claimed. Each rule is a linear regex scan, only over the stretches of text near
what it needs (a digit, '%', '@'), plus a bounded look at the neighbouring words, so a megabyte
of prose takes about half a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from core.languages import NORMALIZED_LANGUAGES as LANGUAGES
from core.normalize import addresses as a
from core.normalize import clock as c
from core.normalize import codes as cd
from core.normalize import fractions as fr
from core.normalize import names as nm
from core.normalize import numeric as n
from core.normalize import quantities as q
from core.normalize import scripture as sc
from core.normalize import shorthand as sh
from core.normalize import superscripts as sup
from core.normalize import words as w
from core.normalize.context import starts_sentence

__all__ = ["LANGUAGES", "Rewrite", "spoken_form", "spoken_rewrites"]


@dataclass(frozen=True)
class Rewrite:
    start: int  # span [start, end) of the written text
    end: int
    spoken: str  # what is said instead


# A handler returns the spoken words for the whole match, (end, words) to claim only the match
# up to ``end``, or None to leave the match alone.
Handler = Callable[[re.Match, str, str], "str | tuple[int, str] | None"]


_DIGITS = re.compile(r"\d+")
# A window reaches this far either side of what a rule is near, past any written cue
# ('September ', 'pp. '), then on to the next space; never further than _SPAN_LIMIT more.
_REACH = 64
_SPAN_LIMIT = 300


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern
    handler: Handler
    # Only scanned near what this finds (a digit, '%', '@'): most of a book has none of it,
    # and a rule can only match close to it. None: scan everything.
    near: re.Pattern | None
    # A character the match may not follow (checked here: a leading look-behind would keep
    # the regex engine from skipping ahead quickly).
    not_after: re.Pattern | None


RULES: tuple[Rule, ...] = (
    Rule(a.EMAIL, a.email_handler, near=re.compile("@"), not_after=re.compile(r"[\w.+-]")),
    Rule(
        a.URL,
        a.url_handler,
        near=re.compile(r"://|www\.|\.[a-z]{2,4}\b"),
        not_after=re.compile(r"[\w@/.-]"),
    ),
    Rule(
        a.PHONE, a.phone_handler, near=re.compile(r"\d{3}[\s.-]\d|\(\d{3}\)|\+\d"), not_after=None
    ),
    Rule(sh.FOOTNOTE, sh.footnote_handler, near=re.compile(r"\[\d|[¹²³⁴⁵⁶⁷⁸⁹⁰]"), not_after=None),
    Rule(
        sup.NUMBER_POWER,
        sup.number_power_handler,
        near=sup.ANY_SUPERSCRIPT,
        not_after=n.NOT_AFTER_NUMBER,
    ),
    Rule(sup.AFTER_LETTER, sup.after_letter_handler, near=sup.ANY_SUPERSCRIPT, not_after=None),
    Rule(
        sc.NUMBERED_BOOK,
        sc.numbered_book_handler,
        near=re.compile(r"[123] [A-Z]"),
        not_after=re.compile(r"[\w.,]"),
    ),
    Rule(q.MONEY, q.money_handler, near=re.compile("[$£€¥₹]"), not_after=None),
    Rule(cd.MONEY_DASH, cd.money_dash_handler, near=re.compile("[$£€¥₹]"), not_after=None),
    Rule(cd.WEEKDAY_DASH, cd.weekday_dash_handler, near=re.compile(r"\.[–—-]"), not_after=None),
    Rule(q.CENTS, q.cents_handler, near=re.compile("¢"), not_after=n.NOT_AFTER_NUMBER),
    Rule(c.DURATION, c.duration_handler, near=re.compile(r":\d\d"), not_after=n.NOT_AFTER_NUMBER),
    Rule(c.RATIO, c.ratio_handler, near=re.compile(r"\d:\d"), not_after=n.NOT_AFTER_NUMBER),
    Rule(c.TIME, c.time_handler, near=re.compile(r":\d\d"), not_after=n.NOT_AFTER_NUMBER),
    Rule(
        c.TIME_DOT, c.time_dot_handler, near=re.compile(r"\d\.\d\d"), not_after=n.NOT_AFTER_NUMBER
    ),
    Rule(
        c.HOUR_AMPM,
        c.hour_handler,
        near=re.compile(r"\d\s?[aApP]\.?[mM]"),
        not_after=n.NOT_AFTER_NUMBER,
    ),
    Rule(cd.EMERGENCY, cd.emergency_handler, near=re.compile(r"911|999|112"), not_after=None),
    Rule(cd.ZIP, cd.zip_handler, near=re.compile(r"[A-Za-z] \d{5}\b"), not_after=None),
    Rule(cd.LEADING_DOT, cd.leading_dot_handler, near=re.compile(r"\.\d"), not_after=None),
    Rule(cd.EVENS, cd.evens_handler, near=re.compile("50"), not_after=None),
    Rule(cd.PER_UNIT, cd.per_unit_handler, near=re.compile(r"\d [a-zA-Z]+/"), not_after=None),
    Rule(cd.SECONDS, cd.seconds_handler, near=re.compile(r"\d s\b"), not_after=None),
    Rule(cd.SCALED_UNIT, cd.scaled_unit_handler, near=re.compile("illion|ousand"), not_after=None),
    Rule(cd.DECIMAL_MARK, cd.decimal_mark_handler, near=re.compile(r"\d/\d"), not_after=None),
    Rule(cd.FISCAL, cd.fiscal_handler, near=re.compile(r"FY"), not_after=None),
    Rule(cd.WORLD_WAR, cd.world_war_handler, near=re.compile(r"WW"), not_after=None),
    Rule(cd.CODE, cd.code_handler, near=re.compile(r"[A-Z]\d"), not_after=None),
    Rule(cd.PART, cd.part_handler, near=re.compile(r"\d\([a-z]\)"), not_after=None),
    Rule(cd.TERM, cd.term_handler, near=re.compile(cd.TERM_NEAR), not_after=None),
    Rule(n.MONTH_DAY, n.month_day_handler, near=_DIGITS, not_after=None),
    Rule(n.DAY_MONTH, n.day_month_handler, near=_DIGITS, not_after=n.NOT_AFTER_NUMBER),
    Rule(n.MONTH_YEAR, n.month_year_handler, near=_DIGITS, not_after=None),
    Rule(w.NUMBER_PREFIX, w.number_prefix_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(w.SECTION, w.section_handler, near=re.compile("§"), not_after=None),
    Rule(w.HASH_NUMBER, w.hash_handler, near=re.compile(r"#\d"), not_after=None),
    Rule(
        q.FEET_INCHES,
        q.feet_inches_handler,
        near=re.compile(r"\d['′’\"″]"),
        not_after=n.NOT_AFTER_NUMBER,
    ),
    Rule(q.LSD, q.lsd_handler, near=re.compile(r"\d[½¼¾]?[lsd]\b|[½¼¾]d\b"), not_after=None),
    Rule(q.NEW_PENCE, q.new_pence_handler, near=re.compile(r"\dp"), not_after=n.NOT_AFTER_NUMBER),
    Rule(q.PERCENT, q.percent_handler, near=re.compile("%"), not_after=n.NOT_AFTER_NUMBER),
    Rule(q.DEGREES, q.degrees_handler, near=re.compile("°"), not_after=n.NOT_AFTER_NUMBER),
    Rule(
        q.FRACTION_UNIT,
        q.fraction_unit_handler,
        near=re.compile(f"/|[{n.FRACTION_CHARS}]"),
        not_after=None,
    ),
    Rule(q.UNIT, q.unit_handler, near=_DIGITS, not_after=re.compile(r"[\w.,/]")),
    Rule(q.INCHES, q.inches_handler, near=re.compile(r"\d[\"″]"), not_after=n.NOT_AFTER_NUMBER),
    Rule(q.FEET, q.feet_handler, near=re.compile(r"\d['′]"), not_after=n.NOT_AFTER_NUMBER),
    Rule(n.DECADE, n.decade_handler, near=re.compile(r"0['’]?s\b"), not_after=n.NOT_AFTER_NUMBER),
    Rule(
        n.ORDINAL,
        n.ordinal_handler,
        near=re.compile(r"\d(?:st|nd|rd|th|d|ST|ND|RD|TH)\b"),
        not_after=re.compile(r"[\w.,/]"),
    ),
    Rule(n.NUMERIC_DATE, n.numeric_date_handler, near=re.compile(r"\d/\d"), not_after=None),
    Rule(
        fr.MIXED_FRACTION,
        fr.mixed_fraction_handler,
        near=re.compile(r"\d/\d"),
        not_after=n.NOT_AFTER_NUMBER,
    ),
    Rule(
        fr.VULGAR,
        fr.vulgar_handler,
        near=re.compile(f"[{n.FRACTION_CHARS}]"),
        not_after=n.NOT_AFTER_NUMBER,
    ),
    Rule(fr.FRACTION, fr.fraction_handler, near=re.compile(r"\d/\d"), not_after=n.NOT_AFTER_NUMBER),
    Rule(
        n.RANGE, n.range_handler, near=re.compile(r"\d\s?[–—-]\s?\d"), not_after=n.NOT_AFTER_NUMBER
    ),
    Rule(
        q.DIMENSIONS,
        q.dimensions_handler,
        near=re.compile(r"\d[x×]\d"),
        not_after=n.NOT_AFTER_NUMBER,
    ),
    Rule(n.HOUSE_LETTER, n.house_letter_handler, near=_DIGITS, not_after=n.NOT_AFTER_NUMBER),
    Rule(n.SHORT_YEAR, n.short_year_handler, near=re.compile(r"['’]\d\d"), not_after=None),
    Rule(n.NUMBER, n.number_handler, near=_DIGITS, not_after=n.NOT_AFTER_NUMBER),
    Rule(
        nm.STATE, nm.state_handler, near=re.compile(r", [A-Z][a-z]*\.?[A-Za-z]*\."), not_after=None
    ),
    Rule(
        w.DOTTED,
        w.dotted_handler,
        near=re.compile(r"[A-Za-z]\.[A-Za-z]|&c\."),
        not_after=re.compile(r"[\w.&]"),
    ),
    Rule(w.VERSUS, w.versus_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(w.COMPANY, w.company_handler, near=None, not_after=None),
    Rule(
        sc.BIBLE_BOOK,
        sc.bible_book_handler,
        near=re.compile(r"\. \d{1,3}:\d"),
        not_after=re.compile(r"[\w.]"),
    ),
    Rule(nm.MONSIEUR, nm.monsieur_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(nm.TITLE, nm.title_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(w.ABBREVIATION, w.abbreviation_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(w.MONTH_ABBR, w.month_abbr_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(w.WEEKDAY_ABBR, w.weekday_abbr_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(
        w.INITIALISM,
        w.initialism_handler,
        near=re.compile(r"[A-Z]\.[A-Z]"),
        not_after=re.compile(r"[\w.]"),
    ),
    Rule(w.LOWER_ROMAN, w.lower_roman_handler, near=None, not_after=re.compile(r"[\w'’.-]")),
    Rule(sh.LETTER_MONTH, sh.letter_month_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(w.ROMAN, w.roman_handler, near=None, not_after=re.compile(r"[\w'’.-]")),
    Rule(sh.SHORTHAND, sh.shorthand_handler, near=re.compile("(?i)xmas"), not_after=None),
    Rule(w.AMPERSAND, w.ampersand_handler, near=re.compile("&"), not_after=None),
    Rule(w.MATH, w.math_handler, near=re.compile("[+=×]"), not_after=None),
    Rule(cd.MINUS, cd.minus_handler, near=re.compile(r" [-−] "), not_after=None),
    Rule(w.DIM_X, w.dim_x_handler, near=re.compile(r"\d x \d"), not_after=None),
    Rule(w.SLASH_WORDS, w.slash_handler, near=re.compile("/"), not_after=None),
)


def _language(lang: object) -> str | None:
    if not isinstance(lang, str):
        return None
    lang = lang.strip().lower().replace("_", "-")
    return lang if lang in LANGUAGES else None


def _windows(text: str, near: re.Pattern) -> list[tuple[int, int]]:
    """Merged stretches of text around each hit of ``near``, bounded by spaces."""
    windows: list[tuple[int, int]] = []
    for m in near.finditer(text):
        lo = max(0, m.start() - _REACH)
        if windows and lo <= windows[-1][1]:
            lo = windows[-1][0]
        else:
            space = text.rfind(" ", max(0, lo - _SPAN_LIMIT), lo)
            lo = max(0, lo - _SPAN_LIMIT) if space == -1 else space
        hi = m.end() + _REACH
        space = text.find(" ", hi, hi + _SPAN_LIMIT)
        hi = min(len(text), hi + _SPAN_LIMIT if space == -1 else space + 1)
        if windows and lo == windows[-1][0]:
            windows[-1] = (lo, max(hi, windows[-1][1]))
        else:
            windows.append((lo, hi))
    return windows


def _line_start(text: str, pos: int) -> bool:
    """Only spaces, tabs, quotes or brackets between pos and the start of its line."""
    i = pos
    while i > 0 and pos - i < 16 and text[i - 1] in " \t\"'“‘(":
        i -= 1
    return i == 0 or text[i - 1] == "\n"


def _try(rule: Rule, m: re.Match, text: str, lang: str, claimed: bytearray) -> Rewrite | None:
    start, end = m.span()
    if start == end or claimed.find(1, start, end) != -1:
        return None
    if rule.not_after is not None and start and rule.not_after.match(text, start - 1):
        return None
    try:
        result = rule.handler(m, text, lang)
    except Exception:  # a rule's bug must never cost the listener the sentence
        return None
    if result is None:
        return None
    if isinstance(result, tuple):
        end, result = result
        if not start < end <= m.end():
            return None
    if result == text[start:end]:
        return None
    # A capital stays a capital at a sentence start; a digit or symbol gets one only where a
    # line begins (after a dot it may follow an abbreviation: 'pp. 40').
    opens = text[start].isupper() or (not text[start].isalpha() and _line_start(text, start))
    if result[:1].islower() and opens and starts_sentence(text, start):
        result = result[0].upper() + result[1:]
    return Rewrite(start, end, result)


def spoken_rewrites(text: str, lang: str = "en-us") -> list[Rewrite]:
    """Every change that turns ``text`` into its spoken form: ordered, non-overlapping."""
    language = _language(lang)
    if language is None or not isinstance(text, str) or not text:
        return []
    # The rules read raised digits inside numbers as plain ones ('1,²34'); same length, so
    # every span they find is a span of ``text``
    scan, folded = sup.fold_inner_superscripts(text)
    claimed = bytearray(len(text))
    found: list[Rewrite] = []
    everywhere = ((0, len(text)),)
    windows: dict[re.Pattern, list[tuple[int, int]]] = {}
    for rule in RULES:
        spans = everywhere
        if rule.near is not None:
            if rule.near not in windows:
                windows[rule.near] = _windows(scan, rule.near)
            spans = windows[rule.near]
        for lo, hi in spans:
            for m in rule.pattern.finditer(scan, lo, hi):
                rewrite = _try(rule, m, scan, language, claimed)
                if rewrite is not None:
                    claimed[rewrite.start : rewrite.end] = b"\x01" * (rewrite.end - rewrite.start)
                    found.append(rewrite)
    # A raised digit no rule took is still said as the digit it is, never dropped
    found.extend(Rewrite(i, i + 1, scan[i]) for i in folded if not claimed[i])
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
