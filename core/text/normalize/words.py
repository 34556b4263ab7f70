"""Rules for letters and symbols: abbreviations, Roman numerals, initialisms and symbols."""

from __future__ import annotations

import re

from core.text.normalize import numbers as nw
from core.text.normalize.context import (
    alternation,
    is_capitalised,
    keep_period,
    next_word,
    prev_word,
    prev_word_start,
    starts_sentence,
)
from core.text.normalize.tables import (
    ABBREVIATIONS,
    DOTTED_PHRASES,
    MONTH_ABBREVIATIONS,
    MONTHS,
    NUMBER_PREFIXES,
    REGNAL_NAMES,
    ROMAN_CARDINAL_KEYWORDS,
    SENTENCE_STARTERS,
    WEEKDAY_ABBREVIATIONS,
    words,
)

# --- abbreviations ----------------------------------------------------------------------

DOTTED = re.compile(rf"(?P<a>{alternation(DOTTED_PHRASES)})(?!\w)")


# 'e.g. Mr. Jones', 'cf. Gibbon': these lead into what follows, so a capital after them is a
# name, not a new sentence ('etc.' may well close one). Their dot stays only at a line end.
_LEADS_ON = frozenset(words("e.g. i.e. viz cf Viz Cf"))


def _leads_on_period(text: str, end: int) -> str:
    rest = text[end : end + 4].lstrip(" \t\"'”’)")
    return "." if not rest or rest[0] in "\r\n" else ""


def dotted_handler(m: re.Match, text: str, lang: str) -> str:
    spoken = DOTTED_PHRASES[m.group("a")]
    if m.group("a") in _LEADS_ON:
        return spoken + _leads_on_period(text, m.end())
    initialism = spoken.isupper()
    return keep_period(m, text, spoken, initialism)


NUMBER_PREFIX = re.compile(
    rf"(?P<a>{alternation(NUMBER_PREFIXES)})\.(?P<sp>\s?)(?=[-−]?\d|[IVXLC]+\b|[ivxlc]+\b)"
)
# Before a Roman numeral these name a part of a book ('Vol. II', 'chap. iv', 'p. xii').
_ROMAN_PREFIXES = frozenset(words("vol vols ch chap art sec p pp"))


def number_prefix_handler(m: re.Match, text: str, lang: str) -> tuple[int, str] | None:
    abbr = m.group("a")
    after = text[m.end() : m.end() + 1]
    if abbr.lower() in ("lat", "long") and "°" not in text[m.end() : m.end() + 8]:
        return None  # 'lat. 38°'; but 'so long. 5 minutes later' is no longitude
    if abbr in ("b", "d"):
        # '(b. 1832, d. 1898)': born and died, before a year and after a bracket or comma.
        lead = text[max(0, m.start() - 2) : m.start()]
        if not (lead[-1:] in ("", "(", "\n") or lead in (", ", "; ")):
            return None
        if not re.match(r"\s?(?:c\.\s?)?\d{3,4}\b", text[m.end() : m.end() + 12]):
            return None
    if abbr == "p" and text[m.start() : m.start() + 4] == "p.c.":
        return None  # '10 p.c.' is per cent, for the unit rule
    if abbr.lower() == "ex" and re.match(r"\s?\d+:\d", text[m.end() : m.end() + 8]):
        return None  # 'Ex. 20:13' is Exodus, a verse for the Bible rules
    if after in "IVXLC" and abbr.lower() not in _ROMAN_PREFIXES - {"p", "pp"}:
        return None
    if after in "ivxlc" and abbr.lower() not in _ROMAN_PREFIXES:
        return None
    one, many = NUMBER_PREFIXES[abbr]
    rest = text[m.end() : m.end() + 40]
    plural = abbr.lower() in ("nos", "pp", "vols", "figs", "eqs", "nn") or bool(
        re.match(r"\d+\s?[–—-]\s?\d+", rest)
    )
    spoken = many if plural else one
    end = m.end() - len(m.group("sp"))
    return end, spoken + ("" if m.group("sp") else " ")


SECTION = re.compile(r"(?P<s>§§?)\s?(?=\d)")


def section_handler(m: re.Match, text: str, lang: str) -> str:
    word = "sections" if m.group("s") == "§§" else "section"
    # Glued to what comes before ("www.§1"), the word would join it ("www.section"): a space
    before = text[m.start() - 1 : m.start()]
    return (" " if before.isalnum() or before in "._" else "") + word + " "


HASH_NUMBER = re.compile(r"(?<![\w&])#(?=\d)")


def hash_handler(m: re.Match, text: str, lang: str) -> str:
    return "number "


# Lowercase abbreviations also open sentences ('Approx. 300 men').
_ABBREVIATIONS = {
    **{k.capitalize(): v.capitalize() for k, v in ABBREVIATIONS.items() if k.islower()},
    **ABBREVIATIONS,
}
ABBREVIATION = re.compile(rf"(?P<a>{alternation(_ABBREVIATIONS)})\.(?!\w)")


def abbreviation_handler(m: re.Match, text: str, lang: str) -> str | None:
    a = m.group("a")
    if a in ("ca", "Ca") and not next_word(text, m.end())[:1].isdecimal():
        return None
    if a in _LEADS_ON:
        return _ABBREVIATIONS[a] + _leads_on_period(text, m.end())
    return keep_period(m, text, _ABBREVIATIONS[a])


VERSUS = re.compile(r"(?:vs\.?|v\.)(?=\s)")


def versus_handler(m: re.Match, text: str, lang: str) -> str | None:
    if m.group(0) == "v." and not (
        is_capitalised(prev_word(text, m.start())) and is_capitalised(next_word(text, m.end()))
    ):
        return None
    return "versus"


COMPANY = re.compile(r"Co\.(?<=[\w&] Co\.)(?!\w)")


def company_handler(m: re.Match, text: str, lang: str) -> str:
    return keep_period(m, text, "Company")


MONTH_ABBR = re.compile(rf"(?P<a>{alternation(MONTH_ABBREVIATIONS)})\.(?!\w)")


def month_abbr_handler(m: re.Match, text: str, lang: str) -> str:
    return keep_period(m, text, MONTH_ABBREVIATIONS[m.group("a")])


WEEKDAY_ABBR = re.compile(rf"(?P<a>{alternation(WEEKDAY_ABBREVIATIONS)})\.(?=,|\s|[–—-]\w)")


_AFTER_WEEKDAY = frozenset(words("the morning afternoon evening night next last week"))
_BEFORE_WEEKDAY = frozenset(words("on until till by next last every"))


def weekday_abbr_handler(m: re.Match, text: str, lang: str) -> str | None:
    after = text[m.end() : m.end() + 1]
    nxt = next_word(text, m.end()).rstrip(".")
    dated = nxt[:1].isdecimal() or nxt in MONTHS or nxt in MONTH_ABBREVIATIONS
    # 'on Thurs. the 5th', 'on Sat. night': a weekday by what follows it or the 'on' before.
    daylike = nxt in _AFTER_WEEKDAY or prev_word(text, m.start()).lower() in _BEFORE_WEEKDAY
    # 'Mon.–Fri.': either end of a range of days
    daylike = daylike or after in "–—-" or text[m.start() - 1 : m.start()] in ("–", "—", "-")
    if after != "," and not dated and not daylike:
        return None
    return WEEKDAY_ABBREVIATIONS[m.group("a")]


# Single capital letters with dots: 'U.S.', 'U.S.A.', 'M.D.'
INITIALISM = re.compile(r"[A-Z]\.(?:[A-Z]\.)+(?!\w)")


def initialism_handler(m: re.Match, text: str, lang: str) -> str:
    letters = m.group(0).replace(".", "")
    return keep_period(m, text, letters, initialism=True)


# --- Roman numerals ---------------------------------------------------------------------

# Tried only where a run of numeral letters starts (the look-behind), so a long run followed by
# a letter is read once, not again from each of its positions.
# A reference mark may follow ("Henry VIII²"): a raised digit does not make a longer word
_ROMAN_END = r"(?!-|(?![⁰¹²³⁴⁵⁶⁷⁸⁹])\w)"
ROMAN = re.compile(r"(?<![IVXLCDM])[IVXLCDM]++" + _ROMAN_END)
_VALID_ROMAN = re.compile(r"M{0,4}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_KEYWORDS = frozenset(ROMAN_CARDINAL_KEYWORDS)
_PAIRED_KEYWORDS = {"War": "World", "Bowl": "Super"}
# Spaces, then a mark, the end, or a word that makes 'I' a numeral: the spaces are read once,
# from their first (the look-behind), and never handed back.
_AFTER_REGNAL_I = re.compile(
    r"['’]s\b|(?<!\s)\s*+(?:[,;:.)!?]|$|(?<=\s)(?:of|who|whose|reigned|died|became|succeeded)\b)"
)
# A dot and a capitalised title after a numeral that opens its line: no pronoun is followed
# by a dot and a new capital at the start of a line.
_HEADING_AFTER = re.compile(r"\.[ \t]+[\"“‘']?(?P<w>[A-Z][A-Za-z'’-]+)")


def _opens_title(word: str) -> bool:
    """After a one-letter numeral ('V. The Red-Headed League') the title must open with a
    word no surname is ('V. Woolf' is an initial): a sentence opener or a word in capitals."""
    return word in SENTENCE_STARTERS or word.isupper()


# Nothing but a dot and spaces up to the end of the line. The two runs of spaces could share
# the same spaces (cubic on a long run): the first is possessive, and only tried from the
# start of a run.
# A reference mark may come first ("XIV²")
_LINE_ALONE = re.compile(r"(?<![ \t])[⁰¹²³⁴⁵⁶⁷⁸⁹]*+[ \t]*+\.?[ \t]*+(?:\r?\n|$)")


_RULER_TITLES = frozenset(words("King Queen Pope Emperor Empress Tsar Czar Kaiser Saint Sultan"))


# After these, 'Napoleon I' names the emperor ('under Napoleon I and ...').
_REGNAL_LEADS = frozenset(words("under of by from before after against with between and"))
# After 'Mary I' these make 'I' the pronoun ('Mary I think was right').
_PRONOUN_VERBS = frozenset(
    words(
        "am think thought will shall would could should can cannot do did don't didn't have "
        "had know knew believe suppose guess mean hope wish say said see saw told must may "
        "might want wanted feel felt"
    )
)


def _regnal_first(text: str, m: re.Match, name: str) -> bool:
    """'Charles I' is the king only where the pronoun 'I' cannot be meant: before a comma or
    'of', or where the name opens the sentence or follows a title or preposition and no verb
    that goes with 'I' comes next."""
    if _AFTER_REGNAL_I.match(text, m.end()):
        return True
    name_start = prev_word_start(text, m.start())
    lead = prev_word(text, name_start)
    if not (lead in _RULER_TITLES or lead in _REGNAL_LEADS or starts_sentence(text, name_start)):
        return False
    return next_word(text, m.end()).lower() not in _PRONOUN_VERBS


def roman_value(s: str) -> int | None:
    if not s or not _VALID_ROMAN.fullmatch(s):
        return None
    total = 0
    for i, c in enumerate(s):
        v = _ROMAN_VALUES[c]
        nxt = _ROMAN_VALUES[s[i + 1]] if i + 1 < len(s) else 0
        total += -v if v < nxt else v
    return total


def _title_case(words: str) -> str:
    return "-".join(p[:1].upper() + p[1:] for p in words.split("-"))


# Names that merely look regnal.
_NOT_REGNAL = frozenset(("Malcolm X",))


def _name_word(word: str) -> bool:
    """A capitalised name ('Ramses', 'Sargon'), not a sentence opener, month or shout."""
    return (
        word.isalpha()
        and word[0].isupper()
        and word[1:].islower()
        and len(word) > 1
        and word not in SENTENCE_STARTERS
        and word not in MONTHS
    )


def roman_handler(m: re.Match, text: str, lang: str) -> str | None:
    r = m.group(0)
    value = roman_value(r)
    if value is None or (len(r) == 1 and r not in "IVX"):
        return None
    before = prev_word(text, m.start())
    bare = before.rstrip(".")
    keyword = bare.capitalize() if bare.isupper() and len(bare) > 2 else bare
    if keyword in _KEYWORDS:
        pair = _PAIRED_KEYWORDS.get(keyword)
        if pair and prev_word(text, prev_word_start(text, m.start())) != pair:
            return None
        return " ".join(_title_case(w) for w in nw.cardinal(value, lang).split(" "))
    if f"{bare} {r}" in _NOT_REGNAL:
        return None
    if bare in REGNAL_NAMES and before == bare:
        if r == "I" and not _regnal_first(text, m, before):
            return None
        return "the " + " ".join(_title_case(w) for w in nw.ordinal(value, lang).split(" "))
    if len(r) >= 2 and value < 40 and _name_word(before):
        lead = prev_word(text, prev_word_start(text, m.start())).lower()
        if lead in ("the", "a", "an", "his", "their", "our"):
            # 'the England XI': a side of eleven players, not a king.
            return "eleven" if r == "XI" else None
        # 'Ramses II', 'Sargon II': past the known rulers, a name takes the ordinal once the
        # numeral has two letters (one alone is too often a letter or the pronoun).
        return "the " + " ".join(_title_case(w) for w in nw.ordinal(value, lang).split(" "))
    if r[0] == "M" and len(r) >= 4 and 1000 <= value <= 2099:
        return nw.year(value, lang)  # 'in the year MDCCCXLII': a year printed in numerals
    line_start = m.start() == 0 or text[m.start() - 1] == "\n"
    if line_start and _LINE_ALONE.match(text, m.end()) and r != "I":
        return _title_case(nw.cardinal(value, lang))
    heading = _HEADING_AFTER.match(text, m.end())
    if line_start and heading and (len(r) > 1 or _opens_title(heading.group("w"))):
        return _title_case(nw.cardinal(value, lang))  # 'I. THE BEGINNING': a numbered heading
    return None


# 'chap. iv', 'p. xii', 'Act ii': lowercase numerals, after the word for a part of a book. A
# numeral starts a word: matching the 'd' of every 'word' cost a fifth of a book's planning
LOWER_ROMAN = re.compile(r"(?<![\w'’.-])[ivxlcdm]++" + _ROMAN_END)
_LOWER_ROMAN_CUES = frozenset(
    words(
        "chap ch chapter p pp page pages vol vols volume book bk part pt act scene sc canto "
        "letter sec sect section art article psalm stave preface"
    )
)


def lower_roman_handler(m: re.Match, text: str, lang: str) -> str | None:
    r = m.group(0)
    if prev_word(text, m.start()).rstrip(".").lower() not in _LOWER_ROMAN_CUES:
        return None
    value = roman_value(r.upper())
    if value is None or (len(r) == 1 and r not in "ivx"):
        return None
    return nw.cardinal(value, lang)


# --- symbols ----------------------------------------------------------------------------

AMPERSAND = re.compile(r"&(?<=\s&)(?=\s)")


def ampersand_handler(m: re.Match, text: str, lang: str) -> str:
    return "and"


MATH = re.compile(r"(?P<op>[+=×])(?<=[\d\s].)(?=[\s\d])")


def math_handler(m: re.Match, text: str, lang: str) -> str | None:
    op = m.group("op")
    left = text[m.start() - 1] if m.start() else ""
    right = text[m.end() : m.end() + 1]
    spoken = {"+": "plus", "=": "equals", "×": "by"}[op]
    if op == "×" and "=" in text[m.end() : m.end() + 20]:
        spoken = "times"
    return (" " if left.isdecimal() else "") + spoken + (" " if right.isdecimal() else "")


DIM_X = re.compile(r"x(?<=\d x)(?= \d)")


def dim_x_handler(m: re.Match, text: str, lang: str) -> str:
    return "by"


_NUMBER_WORDS = frozenset(
    words(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
        "eighty ninety hundred thousand million billion trillion oh"
    )
)
SLASH_WORDS = re.compile(r"/(?<=[A-Za-z]{2}/)(?=[A-Za-z]{2})")
_WORD_BEFORE = re.compile(r"(?<![\w/.])([A-Za-z]{2,})$")
# From the start of a run of letters only, and never handing letters back: linear on any run
_WORD_AFTER = re.compile(r"(?<![A-Za-z])([A-Za-z]{2,}+)(?![\w/])")


def slash_handler(m: re.Match, text: str, lang: str) -> str | None:
    """'his/her' -> 'his or her'; 'and/or' -> 'and or'. Only the slash is replaced."""
    before = _WORD_BEFORE.search(text, max(0, m.start() - 40), m.start())
    after = _WORD_AFTER.match(text, m.end())
    if not before or not after:
        return None
    words_ = (before.group(1).lower(), after.group(1).lower())
    if words_[0] in _NUMBER_WORDS or words_[1] in _NUMBER_WORDS:
        return None  # digits this module already said ('1/1921'), left as they were
    return " " if "or" in words_ or words_[0] == "and" else " or "
