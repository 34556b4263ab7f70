"""Rules for a dash said as 'to' between things that are not plain numbers: two sums
('$10-$15') and two shortened weekdays or months ('Mon.–Fri.')."""

from __future__ import annotations

import re

# '€90–€120', '$10-$15': a dash between two sums is 'to'.
MONEY_DASH = re.compile(r"(?<=\d)\s?[–—-]\s?(?=[$£€¥₹]\d)")


def money_dash_handler(m: re.Match, text: str, lang: str) -> str:
    return " to "


# 'Mon.–Fri.', 'Apr.–Oct.': a dash between two shortened weekdays or months is 'to'.
_DAY = (
    r"(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|"
    r"Oct|Nov|Dec)\."
)
WEEKDAY_DASH = re.compile(rf"(?<=\.)[–—-](?={_DAY})")


def weekday_dash_handler(m: re.Match, text: str, lang: str) -> str | None:
    if not re.search(rf"\b{_DAY}$", text[max(0, m.start() - 6) : m.start()]):
        return None
    return " to "
