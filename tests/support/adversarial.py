"""Adversarial text families for checking that what reads user text costs linear time.

Each family is a function of n giving a string of about n characters (never fewer than n, and
not much more): a run of one character, an alternation repeated, or a fixed frame around a run
(a heading line of spaces, a word followed by closing brackets). A backtracking regex is slow
on one of these shapes long before it is slow on prose: a run a pattern can start a match at
every position of and then fail at the end of (quadratic), or two quantifiers that can share
the same run (cubic and worse).

Keep every family here, so a new pattern is checked against all of them
(tests/fast/test_regex_linearity.py); add a family when a new shape is found.
"""

from __future__ import annotations

import string
from collections.abc import Callable

Family = Callable[[int], str]


def _run(unit: str) -> Family:
    """``unit`` repeated to at least n characters."""
    return lambda n: unit * -(-n // len(unit))


def _framed(head: str, unit: str, tail: str) -> Family:
    """``head``, ``unit`` repeated to fill n characters, then ``tail``."""
    return lambda n: head + unit * max(1, -(-(n - len(head) - len(tail)) // len(unit))) + tail


# Punctuation outside ASCII that prose, typography and other scripts write
_UNICODE_PUNCTUATION = (
    "“”‘’«»„‹›"  # quotes
    "–—‑−"  # en and em dash, non-breaking hyphen, minus
    "…·•"  # ellipsis, middle dot, bullet
    "（）［］｛｝「」『』【】〔〕〈〉《》"  # brackets, many of them Japanese
    "。、！？．，；："  # Japanese and fullwidth sentence and clause marks
    "§¶°′″¢£€¥₹×÷½¼¾©®™"  # signs that the normalizer reads as words
)
# Whitespace, and the invisible characters (word joiner, zero-width space) that cleaning drops
_SPACING = (" ", "\t", "\n", "\r\n", "\u00a0", "\u2009", "\u202f", "\u3000", "\u2060", "\u200b")
_DIGITS = (
    "0",
    "1",
    "9",
    "²",  # superscripts: str.isdigit() says yes, \d and int() say no
    "¹²³",
    "⁰⁴⁵⁶⁷⁸⁹⁻",
    "₂",  # subscript
    "٣",  # Arabic-Indic: \d and int() both accept it
    "１",  # fullwidth
)
_LETTERS = ("a", "A", "x", "I", "é", "ß", "Ж", "日", "あ", "ア", "😀", "e\u0301")

# Alternations: a run of letters or digits broken by punctuation or spaces at every step, the
# shapes that dates, times, numbers, initialisms, addresses and markup are matched in.
_MIXED = (
    "a.", "A.", "ab.", "a. ", "A. ", "a.b", "e.g.", "U.S.", "Mr. ", "etc. ", "a b", "a, ",
    "a-", "-a", "a'", "'a", "a’", "a/", "a@", "@a.", "a_", "a:", "a;",
    "1,", "1.", "1:", "1/", "1-", "-1", "1 ", "1\u2009", "1 000 ", "1,000", "12:30 ", "1/2 ",
    "1²", "²1", "1,²", ":³0", "1x", "x1", "1a", "a1", "1st ", "1s", "10s ", "'1", "$1", "1%",
    "£1 ", "1°", "1'", '1"', "1 m ", "1 x ", "1½", "Q3 ", "FY", "WW", "IV", "MCM", "iv ",
    ". ", ".,", "..", "!?", "?!", ", ", "; ", ": ", " (", "( ", ") ", ")a", "]a", "a)", "a]",
    "[(", ")]", "[]", "()", "[1]", "(1)", "1(a)", "[a](", "![", "](", "[pause:", "[voice:",
    "<a", "</", "<b>", "&amp;", "&#", "<!", "<speak>", "*a", "**", "__", "`a", "~~", "# ",
    "#\n", "# a\n", "-\n", "> ", "\n\n", " \n", ".\n", ".)", '."', ".”", "!)", "?”", "—a",
    "–1", "a—", ". .", "http://", "www.", "a.com ", "//", "\\", "%%", "&c.", "x ", "= ",
    "+", "1+", "x²", "mc²", "a¹", ".¹", "Xmas ", "No. ", "p. 1", "3 B", "A 1", ", A",
)  # fmt: skip

# Fixed frames around a run: the shapes found slow before (issue 21)
_FRAMES = {
    "heading line '# a' + spaces + 'b'": _framed("# a", " ", "b"),
    "heading line '# a' + tabs + 'b'": _framed("# a", "\t", "b"),
    "heading line '## ' + '#'s + ' x'": _framed("## ", "#", " x"),
    "'Hello ' + run of ')'": _framed("Hello ", ")", ""),
    "'Hello ' + run of ']'": _framed("Hello ", "]", ""),
    "'Hello' + run of '.' + 'x'": _framed("Hello", ".", "x"),
    "'a' + spaces + '('": _framed("a", " ", "("),
    "'a' + spaces + 'b'": _framed("a", " ", "b"),
    "'a ' + run of '1' + ' b'": _framed("a ", "1", " b"),
    "run of '[' + '](x)'": _framed("", "[", "](x)"),
    "'[' + letters + ']'": _framed("[", "a", "]"),
    "'[' + letters, never closed": _framed("[", "a", ""),
    "'<speak>' + text, never closed": _framed("<speak>", "a ", ""),
    "'<' + letters, never closed": _framed("<", "a", ""),
    "'1.' + digits + 'x'": _framed("1.", "1", "x"),
    "'x' + spaces": _framed("x", " ", ""),
    "spaces + 'x'": _framed("", " ", "x"),
    "'\\n' + spaces + '\\n'": _framed("\n", " ", "\n"),
    # a run that a pattern takes whole, then refuses for the character after it
    "run of 'I' + 'a'": _framed("", "I", "a"),
    "run of 'i' + 'z'": _framed("", "i", "z"),
    "run of 'a' + '1'": _framed("", "a", "1"),
    "run of '1' + 'a'": _framed("", "1", "a"),
    "run of '1' + '.5'": _framed("", "1", ".5"),
    "run of 'A' + '-'": _framed("", "A", "-"),
    "run of '.' + 'a'": _framed("", ".", "a"),
    "'I' + spaces + 'b'": _framed("I", " ", "b"),
    "'\\nI' + spaces + 'b'": _framed("\nI", " ", "b"),
}


def _name(unit: str) -> str:
    return f"run of {unit!r}"


def families() -> dict[str, Family]:
    """Every family by a name that says what it is ("run of '.'", "heading line ...")."""
    found: dict[str, Family] = {}
    for units in (string.punctuation, _UNICODE_PUNCTUATION, _SPACING, _DIGITS, _LETTERS):
        for unit in units:
            found[_name(unit)] = _run(unit)
    for unit in _MIXED:
        found.setdefault(_name(unit), _run(unit))
    found.update(_FRAMES)
    return found


FAMILIES: dict[str, Family] = families()
