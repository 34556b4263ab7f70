"""A book's details beyond title and author, as a job keeps them (``jobs.book_info``) and its
finished file's tags carry them: series and place in it, description, year and ISBN. The
narrator is not one of them: it is the job's voice."""

from collections.abc import Mapping

# What jobs.book_info may hold, in the order the API documents them
BOOK_FIELDS = ("series", "series_index", "description", "year", "isbn")
MAX_SERIES_CHARS = 500  # as a title
MAX_SERIES_INDEX = 100_000  # far past any real series: a typo beyond it
MAX_DESCRIPTION_CHARS = 20_000  # a long blurb is 2,000; an EPUB's longer one is cut here
MIN_YEAR, MAX_YEAR = 1, 9999
MAX_ISBN_CHARS = 40  # 13 digits with hyphens, spaces or a "urn:isbn:" prefix
_ISBN_PREFIXES = ("urn:isbn:", "isbn:", "isbn")
_ISBN_SEPARATORS = str.maketrans("", "", "- \u2010\u2011\u2012\u2013")


class IsbnError(ValueError):
    """Not an ISBN: its message says what is wrong with it, for the person who typed it."""


def normalized_isbn(value: str) -> str:
    """``value`` as the 10 or 13 characters of a valid ISBN (hyphens and spaces removed, a
    check digit X upper case), else IsbnError saying why it is not one."""
    if len(value) > MAX_ISBN_CHARS:
        raise IsbnError(f"an ISBN has 10 or 13 digits; this has {len(value)} characters")
    compact = value.strip().lower()
    for prefix in _ISBN_PREFIXES:
        if compact.startswith(prefix):
            compact = compact[len(prefix) :].strip()
            break
    compact = compact.translate(_ISBN_SEPARATORS).upper()
    if not compact.isascii():
        compact = ""  # other scripts' digits are not an ISBN's
    if len(compact) == 10 and compact[:9].isdecimal() and compact[9] in "0123456789X":
        digits = [10 if c == "X" else int(c) for c in compact]
        if sum((10 - i) * d for i, d in enumerate(digits)) % 11:
            raise IsbnError(f"{value!r} is not a valid ISBN-10: its check digit does not match")
        return compact
    if len(compact) == 13 and compact.isdecimal():
        if sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(compact)) % 10:
            raise IsbnError(f"{value!r} is not a valid ISBN-13: its check digit does not match")
        return compact
    raise IsbnError(
        f"{value!r} is not an ISBN: give its 13 digits (978...) or 10 characters (the last "
        "may be X), hyphens and spaces allowed"
    )


def isbn_of(identifier: str, *, declared: bool) -> str | None:
    """The ISBN an EPUB's dc:identifier holds, else None. One not ``declared`` an ISBN (by
    its scheme or a urn:isbn: prefix) counts only as 13 digits starting 978 or 979: a check
    digit alone would let one other number in eleven pass for an ISBN-10."""
    declared = declared or identifier.strip().lower().startswith(("urn:isbn:", "isbn"))
    try:
        isbn = normalized_isbn(identifier)
    except IsbnError:
        return None
    return isbn if declared or isbn.startswith(("978", "979")) else None


def year_of(date: str) -> int | None:
    """The year of a date as EPUBs write it (2019, 2019-05, 2019-05-01T...), else None."""
    year = date.strip()[:4]
    if len(year) == 4 and year.isascii() and year.isdecimal():
        number = int(year)
        return number if MIN_YEAR <= number <= MAX_YEAR else None
    return None


def series_index_of(text: str) -> float | None:
    """A place in a series as an EPUB writes it ("2", "2.0", "1.5"), else None."""
    text = text.strip()
    if not text or len(text) > 12 or not text.replace(".", "", 1).isdecimal() or not text.isascii():
        return None
    number = float(text)
    return number if 0 <= number <= MAX_SERIES_INDEX else None


def book_info(values: Mapping[str, object]) -> dict | None:
    """The details among ``values`` that are given, as jobs.book_info holds them; None for
    none."""
    info = {name: values[name] for name in BOOK_FIELDS if values.get(name) is not None}
    return info or None


def narrator(voice: str) -> str:
    """Who reads the book, as players show it: the job's voice (or blend)."""
    return voice
