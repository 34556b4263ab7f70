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
scripture (Bible books), addresses (web, e-mail, phone, 'dial 911', ZIP codes), codes ('Q3',
'FY2024', 'WWII', '3(b)'), algebra ('2x + 3 = 7'), dashes (sums and weekdays either side of a
dash), scores ('.300', '50-50', '8.5/10'), context (looking at neighbouring words), tables (the
shared word lists). Each module's test cases are in tests/fast/data/normalize/<module>.tsv.

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

from core.speech.languages import NORMALIZED_LANGUAGES as LANGUAGES
from core.text.normalize import (
    addresses,
    algebra,
    clock,
    codes,
    dashes,
    fractions,
    names,
    numeric,
    quantities,
    scores,
    scripture,
    shorthand,
    superscripts,
    words,
)
from core.text.normalize.context import starts_sentence

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
    Rule(
        addresses.EMAIL,
        addresses.email_handler,
        near=re.compile("@"),
        not_after=re.compile(r"[\w.+-]"),
    ),
    Rule(
        addresses.URL,
        addresses.url_handler,
        near=re.compile(r"://|www\.|\.[a-z]{2,4}\b"),
        not_after=re.compile(r"[\w@/.-]"),
    ),
    Rule(
        addresses.PHONE,
        addresses.phone_handler,
        near=re.compile(r"\d{3}[\s.-]\d|\(\d{3}\)|\+\d"),
        not_after=None,
    ),
    Rule(
        shorthand.FOOTNOTE,
        shorthand.footnote_handler,
        near=re.compile(r"\[\d|[¹²³⁴⁵⁶⁷⁸⁹⁰]"),
        not_after=None,
    ),
    Rule(
        superscripts.NUMBER_POWER,
        superscripts.number_power_handler,
        near=superscripts.ANY_SUPERSCRIPT,
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        superscripts.AFTER_LETTER,
        superscripts.after_letter_handler,
        near=superscripts.ANY_SUPERSCRIPT,
        not_after=None,
    ),
    Rule(
        scripture.NUMBERED_BOOK,
        scripture.numbered_book_handler,
        near=re.compile(r"[123] [A-Z]"),
        not_after=re.compile(r"[\w.,]"),
    ),
    Rule(quantities.MONEY, quantities.money_handler, near=re.compile("[$£€¥₹]"), not_after=None),
    Rule(dashes.MONEY_DASH, dashes.money_dash_handler, near=re.compile("[$£€¥₹]"), not_after=None),
    Rule(
        dashes.WEEKDAY_DASH,
        dashes.weekday_dash_handler,
        near=re.compile(r"\.[–—-]"),
        not_after=None,
    ),
    Rule(
        quantities.CENTS,
        quantities.cents_handler,
        near=re.compile("¢"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        clock.DURATION,
        clock.duration_handler,
        near=re.compile(r":\d\d"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        clock.RATIO,
        clock.ratio_handler,
        near=re.compile(r"\d:\d"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        clock.TIME,
        clock.time_handler,
        near=re.compile(r":\d\d"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        clock.TIME_DOT,
        clock.time_dot_handler,
        near=re.compile(r"\d\.\d\d"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        clock.HOUR_AMPM,
        clock.hour_handler,
        near=re.compile(r"\d\s?[aApP]\.?[mM]"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        addresses.EMERGENCY,
        addresses.emergency_handler,
        near=re.compile(r"911|999|112"),
        not_after=None,
    ),
    Rule(
        addresses.ZIP, addresses.zip_handler, near=re.compile(r"[A-Za-z] \d{5}\b"), not_after=None
    ),
    Rule(scores.LEADING_DOT, scores.leading_dot_handler, near=re.compile(r"\.\d"), not_after=None),
    Rule(scores.EVENS, scores.evens_handler, near=re.compile("50"), not_after=None),
    Rule(
        quantities.PER_UNIT,
        quantities.per_unit_handler,
        near=re.compile(r"\d [a-zA-Z]+/"),
        not_after=None,
    ),
    Rule(
        quantities.SECONDS, quantities.seconds_handler, near=re.compile(r"\d s\b"), not_after=None
    ),
    Rule(
        quantities.SCALED_UNIT,
        quantities.scaled_unit_handler,
        near=re.compile("illion|ousand"),
        not_after=None,
    ),
    Rule(
        scores.DECIMAL_MARK, scores.decimal_mark_handler, near=re.compile(r"\d/\d"), not_after=None
    ),
    Rule(codes.FISCAL, codes.fiscal_handler, near=re.compile(r"FY"), not_after=None),
    Rule(codes.WORLD_WAR, codes.world_war_handler, near=re.compile(r"WW"), not_after=None),
    Rule(codes.CODE, codes.code_handler, near=re.compile(r"[A-Z]\d"), not_after=None),
    Rule(codes.PART, codes.part_handler, near=re.compile(r"\d\([a-z]\)"), not_after=None),
    Rule(algebra.TERM, algebra.term_handler, near=re.compile(algebra.TERM_NEAR), not_after=None),
    Rule(numeric.MONTH_DAY, numeric.month_day_handler, near=_DIGITS, not_after=None),
    Rule(
        numeric.DAY_MONTH,
        numeric.day_month_handler,
        near=_DIGITS,
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(numeric.MONTH_YEAR, numeric.month_year_handler, near=_DIGITS, not_after=None),
    Rule(
        words.NUMBER_PREFIX, words.number_prefix_handler, near=None, not_after=re.compile(r"[\w.]")
    ),
    Rule(words.SECTION, words.section_handler, near=re.compile("§"), not_after=None),
    Rule(words.HASH_NUMBER, words.hash_handler, near=re.compile(r"#\d"), not_after=None),
    Rule(
        quantities.FEET_INCHES,
        quantities.feet_inches_handler,
        near=re.compile(r"\d['′’\"″]"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        quantities.LSD,
        quantities.lsd_handler,
        near=re.compile(r"\d[½¼¾]?[lsd]\b|[½¼¾]d\b"),
        not_after=None,
    ),
    Rule(
        quantities.NEW_PENCE,
        quantities.new_pence_handler,
        near=re.compile(r"\dp"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        quantities.PERCENT,
        quantities.percent_handler,
        near=re.compile("%"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        quantities.DEGREES,
        quantities.degrees_handler,
        near=re.compile("°"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        quantities.FRACTION_UNIT,
        quantities.fraction_unit_handler,
        near=re.compile(f"/|[{numeric.FRACTION_CHARS}]"),
        not_after=None,
    ),
    Rule(quantities.UNIT, quantities.unit_handler, near=_DIGITS, not_after=re.compile(r"[\w.,/]")),
    Rule(
        quantities.INCHES,
        quantities.inches_handler,
        near=re.compile(r"\d[\"″]"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        quantities.FEET,
        quantities.feet_handler,
        near=re.compile(r"\d['′]"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        numeric.DECADE,
        numeric.decade_handler,
        near=re.compile(r"0['’]?s\b"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        numeric.ORDINAL,
        numeric.ordinal_handler,
        near=re.compile(r"\d(?:st|nd|rd|th|d|ST|ND|RD|TH)\b"),
        not_after=re.compile(r"[\w.,/]"),
    ),
    Rule(
        numeric.NUMERIC_DATE,
        numeric.numeric_date_handler,
        near=re.compile(r"\d/\d"),
        not_after=None,
    ),
    Rule(
        fractions.MIXED_FRACTION,
        fractions.mixed_fraction_handler,
        near=re.compile(r"\d/\d"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        fractions.VULGAR,
        fractions.vulgar_handler,
        near=re.compile(f"[{numeric.FRACTION_CHARS}]"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        fractions.FRACTION,
        fractions.fraction_handler,
        near=re.compile(r"\d/\d"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        numeric.RANGE,
        numeric.range_handler,
        near=re.compile(r"\d\s?[–—-]\s?\d"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        quantities.DIMENSIONS,
        quantities.dimensions_handler,
        near=re.compile(r"\d[x×]\d"),
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        numeric.HOUSE_LETTER,
        numeric.house_letter_handler,
        near=_DIGITS,
        not_after=numeric.NOT_AFTER_NUMBER,
    ),
    Rule(
        numeric.SHORT_YEAR, numeric.short_year_handler, near=re.compile(r"['’]\d\d"), not_after=None
    ),
    Rule(numeric.NUMBER, numeric.number_handler, near=_DIGITS, not_after=numeric.NOT_AFTER_NUMBER),
    Rule(
        names.STATE,
        names.state_handler,
        near=re.compile(r", [A-Z][a-z]*\.?[A-Za-z]*\."),
        not_after=None,
    ),
    Rule(
        words.DOTTED,
        words.dotted_handler,
        near=re.compile(r"[A-Za-z]\.[A-Za-z]|&c\."),
        not_after=re.compile(r"[\w.&]"),
    ),
    Rule(words.VERSUS, words.versus_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(words.COMPANY, words.company_handler, near=None, not_after=None),
    Rule(
        scripture.BIBLE_BOOK,
        scripture.bible_book_handler,
        near=re.compile(r"\. \d{1,3}:\d"),
        not_after=re.compile(r"[\w.]"),
    ),
    Rule(names.MONSIEUR, names.monsieur_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(names.TITLE, names.title_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(words.ABBREVIATION, words.abbreviation_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(words.MONTH_ABBR, words.month_abbr_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(words.WEEKDAY_ABBR, words.weekday_abbr_handler, near=None, not_after=re.compile(r"[\w.]")),
    Rule(
        words.INITIALISM,
        words.initialism_handler,
        near=re.compile(r"[A-Z]\.[A-Z]"),
        not_after=re.compile(r"[\w.]"),
    ),
    Rule(words.LOWER_ROMAN, words.lower_roman_handler, near=None, not_after=None),
    Rule(
        shorthand.LETTER_MONTH,
        shorthand.letter_month_handler,
        near=None,
        not_after=re.compile(r"[\w.]"),
    ),
    Rule(words.ROMAN, words.roman_handler, near=None, not_after=re.compile(r"[\w'’.-]")),
    Rule(
        shorthand.SHORTHAND,
        shorthand.shorthand_handler,
        near=re.compile("(?i)xmas"),
        not_after=None,
    ),
    Rule(words.AMPERSAND, words.ampersand_handler, near=re.compile("&"), not_after=None),
    Rule(words.MATH, words.math_handler, near=re.compile("[+=×]"), not_after=None),
    Rule(algebra.MINUS, algebra.minus_handler, near=re.compile(r" [-−] "), not_after=None),
    Rule(words.DIM_X, words.dim_x_handler, near=re.compile(r"\d x \d"), not_after=None),
    Rule(words.SLASH_WORDS, words.slash_handler, near=re.compile("/"), not_after=None),
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
    scan, folded = superscripts.fold_inner_superscripts(text)
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
