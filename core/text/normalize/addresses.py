"""Rules for addresses said character by character: web, e-mail, phone and emergency numbers,
and ZIP codes after a state."""

from __future__ import annotations

import re

from core.text.normalize import numbers as nw

# --- web, e-mail, phone -----------------------------------------------------------------

EMAIL = re.compile(r"(?<![\w.+-])[\w+-]+(?:\.[\w+-]+)*@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?!\w)")
_TLD = "com|org|net|edu|gov|mil|int|info|biz|io|co|uk|us|ca|au|de|fr|ai|dev|app"
_URL_CHAR = r"[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]"
URL = re.compile(
    rf"(?<![\w@/.-])(?:(?:https?|ftp)://{_URL_CHAR}+|www\.{_URL_CHAR}+"
    rf"|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:{_TLD})(?![\w.-]|\.\w)(?:/{_URL_CHAR}*)?)"
)
_URL_TRAILING = ".,;:!?)]}'\"’”"
_URL_SYMBOLS = {
    ".": "dot",
    "/": "slash",
    "-": "dash",
    "_": "underscore",
    "@": "at",
    "+": "plus",
    "?": "question mark",
    "=": "equals",
    "&": "and",
    "#": "hash",
    ":": "colon",
    "~": "tilde",
    "%": "percent",
}
_URL_PIECE = re.compile(r"[A-Za-z]+|\d+|.", re.DOTALL)


def _say_address(s: str) -> str:
    words = []
    for piece in _URL_PIECE.findall(s):
        if piece.isdigit():  # raised digits too: nw.digits says them
            words.append(nw.digits(piece))
        elif piece.isalpha():
            words.append("w w w" if piece.lower() == "www" else piece)
        elif piece in _URL_SYMBOLS:
            words.append(_URL_SYMBOLS[piece])
        elif not piece.isspace():
            words.append(piece)
    return " ".join(words)


def email_handler(m: re.Match, text: str, lang: str) -> str:
    return _say_address(m.group(0))


def url_handler(m: re.Match, text: str, lang: str) -> tuple[int, str] | None:
    s = m.group(0)
    trimmed = s.rstrip(_URL_TRAILING)
    if not trimmed or "." not in trimmed:
        return None
    body = re.sub(r"^(?:https?|ftp)://", "", trimmed).rstrip("/")
    return m.start() + len(trimmed), _say_address(body)


PHONE = re.compile(
    r"(?<![\w+\-.,/])(?:(?P<cc>\+\d{1,3})[\s.-]?)?"
    r"(?:\((?P<area>\d{3})\)\s?|(?P<area2>\d{3})[\s.-])(?P<x>\d{3})[\s.-](?P<y>\d{4})(?![\w-]|[.,]\d)"
    r"|(?<![\w+\-.,/])(?P<x7>\d{3})-(?P<y7>\d{4})(?![\w-]|[.,]\d)"
    r"|(?<![\w+])(?P<intl>\+\d{1,3}(?:[\s.-]\d{2,4}){2,4})(?![\w-]|[.,]\d)"
    r"|(?<![\w+\-.,/])(?P<uk>0\d{2,4}[\s-]\d{3,4}[\s-]\d{3,4})(?![\w-]|[.,]\d)"
)


def phone_handler(m: re.Match, text: str, lang: str) -> str:
    groups = re.findall(r"\+?\d+", m.group(0))
    said = [("plus " if g.startswith("+") else "") + nw.digits(g) for g in groups]
    return ", ".join(said)


# --- emergency numbers and ZIP codes ---------------------------------------------------

# 'dial 911', 'ring 999': an emergency number is said digit by digit.
EMERGENCY = re.compile(r"(?<=[Dd]ial |[Cc]all |[Rr]ing )(?P<n>911|999|112)\b(?![.,]\d)")


def emergency_handler(m: re.Match, text: str, lang: str) -> str:
    return nw.digits(m.group("n"))


# 'New York, NY 10118', 'Springfield, Illinois 62701': a postal state and its ZIP code, said
# digit by digit.
_POSTAL = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa",
    "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi",
    "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire",
    "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming", "DC": "D C",
}  # fmt: skip
_STATE_ALT = "|".join(sorted({*_POSTAL, *_POSTAL.values()}, key=len, reverse=True))
ZIP = re.compile(rf"(?<=[A-Za-z], )(?P<st>{_STATE_ALT}) (?P<zip>\d{{5}})(?:-(?P<plus>\d{{4}}))?\b")


def zip_handler(m: re.Match, text: str, lang: str) -> str | None:
    if text[m.end() : m.end() + 2] in (",0", ",1", ".0", ".1") or text[m.end() : m.end() + 1] in (
        "%",
    ):
        return None
    spoken = f"{_POSTAL.get(m.group('st'), m.group('st'))} {nw.digits(m.group('zip'))}"
    if m.group("plus"):
        spoken += " " + nw.digits(m.group("plus"))
    return spoken
