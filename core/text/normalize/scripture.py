"""Bible references: the books, their short forms, and 'First' before a numbered book.

The chapter and verse themselves ('3:16' 'three sixteen') are said by the ratio rule in
clock.py, which asks here whether a book comes before them.
"""

from __future__ import annotations

import re

from core.text.normalize.context import alternation
from core.text.normalize.tables import words

# Books of the Bible (and their usual abbreviations): 'John 3:16' is a verse, not a ratio.
BIBLE_BOOKS = frozenset(
    words(
        "Genesis Gen Exodus Exod Ex Leviticus Lev Numbers Num Deuteronomy Deut Joshua Josh "
        "Judges Judg Ruth Samuel Sam Kings Chronicles Chron Ezra Nehemiah Neh Esther Job Psalm "
        "Psalms Ps Proverbs Prov Ecclesiastes Eccles Song Isaiah Isa Jeremiah Jer Lamentations "
        "Ezekiel Ezek Daniel Dan Hosea Joel Amos Obadiah Jonah Micah Nahum Habakkuk Zephaniah "
        "Haggai Zechariah Malachi Matthew Matt Mark Luke John Acts Romans Rom Corinthians Cor "
        "Galatians Gal Ephesians Eph Philippians Phil Colossians Col Thessalonians Thess Timothy "
        "Tim Titus Philemon Hebrews Heb James Peter Jude Revelation Rev Revelations"
    )
)

# Shortened books before a chapter and verse ('Matt. 5:3' is 'Matthew five three').
BIBLE_ABBREVIATIONS = {
    "Gen": "Genesis",
    "Exod": "Exodus",
    "Ex": "Exodus",
    "Lev": "Leviticus",
    "Num": "Numbers",
    "Deut": "Deuteronomy",
    "Josh": "Joshua",
    "Judg": "Judges",
    "Sam": "Samuel",
    "Chron": "Chronicles",
    "Neh": "Nehemiah",
    "Ps": "Psalms",
    "Prov": "Proverbs",
    "Eccles": "Ecclesiastes",
    "Isa": "Isaiah",
    "Jer": "Jeremiah",
    "Ezek": "Ezekiel",
    "Dan": "Daniel",
    "Matt": "Matthew",
    "Mk": "Mark",
    "Lk": "Luke",
    "Jn": "John",
    "Rom": "Romans",
    "Cor": "Corinthians",
    "Gal": "Galatians",
    "Eph": "Ephesians",
    "Phil": "Philippians",
    "Col": "Colossians",
    "Thess": "Thessalonians",
    "Tim": "Timothy",
    "Heb": "Hebrews",
    "Rev": "Revelation",
}


BIBLE_BOOK = re.compile(rf"(?P<b>{alternation(BIBLE_ABBREVIATIONS)})\.(?=\s\d{{1,3}}:\d)")


def bible_book_handler(m: re.Match, text: str, lang: str) -> str:
    return BIBLE_ABBREVIATIONS[m.group("b")]


# '1 Cor. 13:4', '2 Kings 5:1': the numbered books are said 'First', 'Second', 'Third'.
NUMBERED_BOOK = re.compile(
    r"(?P<n>[123])(?= (?:Corinthians|Cor\.|Kings|Kgs\.|Samuel|Sam\.|Chronicles|Chron\."
    r"|Thessalonians|Thess\.|Timothy|Tim\.|Peter|Pet\.|John|Jn\.) \d{1,3}:\d)"
)


def numbered_book_handler(m: re.Match, text: str, lang: str) -> str:
    return ("First", "Second", "Third")[int(m.group("n")) - 1]
