"""Rules for numbers joined by colons and clock dots: times, durations, ratios and verses."""

from __future__ import annotations

import re

from core.text.normalize import numbers as nw
from core.text.normalize.context import keep_period, next_word, prev_word
from core.text.normalize.numeric import AT_DIGIT
from core.text.normalize.scripture import BIBLE_BOOKS
from core.text.normalize.tables import words

# 'pm' may end a sentence ('closed at 3pm.'); 'p.m' without its last dot is no 'pm'.
_AMPM = r"(?P<ap>[aApP]\.[mM]\.|[aApP][mM](?![\w]|\.\w)|[AP]\.M\.)"

# --- durations and race times -----------------------------------------------------------

# 'h:mm:ss' with optional tenths, or 'm:ss.t' (a race time: the decimal rules out a clock).
DURATION = re.compile(
    AT_DIGIT + r"(?:(?P<h>\d{1,2}):(?P<m2>[0-5]\d)|(?P<m>\d{1,2})):(?P<s>[0-5]\d)(?P<f>\.\d{1,3})?"
    r"(?!\d|:\d|[.,]\d)"
)
_CLOCK_CUES = frozenset(words("at until till by past from"))


def _unit(n: int, word: str, lang: str) -> str:
    return f"{nw.cardinal(n, lang)} {word}{'' if n == 1 else 's'}"


def duration_handler(m: re.Match, text: str, lang: str) -> str | None:
    frac = m.group("f")
    if m.group("h") is None and not frac:
        return None  # plain 'h:mm': a clock time
    h = int(m.group("h")) if m.group("h") else 0
    mins = int(m.group("m2") or m.group("m"))
    secs = int(m.group("s"))
    if m.group("h") and not frac and prev_word(text, m.start()).lower() in _CLOCK_CUES:
        if h > 24:
            return None
        clock = time_words(h, mins, lang)  # 'at 10:30:15': a clock read to the second
        return keep_period(m, text, clock + (f" and {_unit(secs, 'second', lang)}" if secs else ""))
    parts = []
    if h:
        parts.append(_unit(h, "hour", lang))
    if mins or (not h and not secs and not frac):
        parts.append(_unit(mins, "minute", lang))
    if frac:
        parts.append(f"{nw.decimal(str(secs), frac[1:], lang)} seconds")
    elif secs:
        parts.append(_unit(secs, "second", lang))
    if not parts:
        return None
    spoken = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return keep_period(m, text, spoken)


# --- ratios and Bible verses ------------------------------------------------------------

RATIO = re.compile(
    AT_DIGIT + r"(?P<a>\d{1,3}(?:,\d{3})+|\d{1,4}):(?P<b>\d{1,3}(?:,\d{3})+|\d{1,4})"
    r"(?:[–-](?P<c>\d{1,3}))?(?![\w:]|[.,]\d)"
)


def ratio_handler(m: re.Match, text: str, lang: str) -> str | tuple[int, str] | None:
    a_s, b_s = m.group("a"), m.group("b")
    a, b = int(a_s.replace(",", "")), int(b_s.replace(",", ""))
    if prev_word(text, m.start()).rstrip(".") in BIBLE_BOOKS and "," not in a_s + b_s:
        # 'John 3:16' is said 'John three sixteen'; 'Psalm 23:1-4' 'twenty-three one to four'.
        spoken = f"{nw.cardinal(a, lang)} {nw.cardinal(b, lang)}"
        if m.group("c"):
            spoken += f" to {nw.cardinal(int(m.group('c')), lang)}"
        return spoken
    end = m.end("b")
    if len(b_s) == 2 and a <= 24 and b <= 59:
        return None  # a clock time, said by the time rule
    # '2:1 against', 'a 1:50,000 map': a ratio, 'two to one'.
    return end, f"{nw.cardinal(a, lang)} to {nw.cardinal(b, lang)}"


# --- clock times ------------------------------------------------------------------------

TIME = re.compile(AT_DIGIT + rf"(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?!\d|:\d)(?:\s?{_AMPM})?")
TIME_DOT = re.compile(AT_DIGIT + rf"(?P<h>\d{{1,2}})\.(?P<m>[0-5]\d)(?!\d|[.,]\d)(?:\s?{_AMPM})?")
_TIME_CUES = frozenset(words("at until till past before"))
# 'the 9.15 train', 'the 4.40 from Paddington': a timetable time before what runs on it.
_MEASURED = frozenset(
    words("seconds secs sec metres meters miles feet inches yards percent per points degrees")
)
_TIMETABLE_AFTER = frozenset(
    words("train express boat coach bus mail ferry service flight steamer from to up down")
)


def time_dot_handler(m: re.Match, text: str, lang: str) -> str | None:
    """British '9.30 a.m.' or 'at 9.30': a time only with a.m./p.m., a time preposition or
    a timetable ('the 9.15 train')."""
    before = prev_word(text, m.start()).lower()
    timetable = before == "the" and next_word(text, m.end()).lower() in _TIMETABLE_AFTER
    if not m.group("ap") and before not in _TIME_CUES and not timetable:
        return None
    if not m.group("ap") and next_word(text, m.end()).lower() in _MEASURED:
        return None  # 'at 9.58 seconds', 'at 2.45 metres': a measure, not a time
    return time_handler(m, text, lang)


_TIME_ZONES = frozenset(words("GMT BST UTC EST EDT CST CDT MST MDT PST PDT CET"))
HOUR_AMPM = re.compile(AT_DIGIT + rf"(?P<h>\d{{1,2}})\s?{_AMPM}")


def _ampm(m: re.Match) -> str:
    ap = m.group("ap")
    return " " + ("AM" if ap[0] in "aA" else "PM") if ap else ""


def time_words(h: int, mins: int, lang: str) -> str:
    hour = nw.cardinal(h, lang)
    if mins == 0:
        return hour
    if mins < 10:
        return f"{hour} oh {nw.DIGIT_WORDS[mins]}"
    return f"{hour} {nw.cardinal(mins, lang)}"


def time_handler(m: re.Match, text: str, lang: str) -> str | None:
    h, mins = int(m.group("h")), int(m.group("m"))
    if h > 24 or mins > 59:
        return None
    ap = _ampm(m)
    spoken = time_words(h, mins, lang)
    if mins == 0 and not ap and next_word(text, m.end()) not in ("noon", "midnight"):
        spoken += " o'clock"
    if ap and next_word(text, m.end()) in _TIME_ZONES:
        return spoken + ap  # '10:30 a.m. EST': the zone goes on with the time
    return keep_period(m, text, spoken + ap)


def hour_handler(m: re.Match, text: str, lang: str) -> str | None:
    h = int(m.group("h"))
    if not 0 < h <= 12:
        return None
    if next_word(text, m.end()) in _TIME_ZONES:
        return nw.cardinal(h, lang) + _ampm(m)
    return keep_period(m, text, nw.cardinal(h, lang) + _ampm(m))
