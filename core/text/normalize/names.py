"""Rules for words before names: titles, 'St.' and 'Dr.' (saint or street, doctor or drive),
and the French 'M.' (Monsieur)."""

from __future__ import annotations

import re

from core.text.normalize.context import (
    alternation,
    is_capitalised,
    keep_period,
    next_word,
    prev_word,
    prev_word_start,
    starts_sentence,
)
from core.text.normalize.tables import SENTENCE_STARTERS, TITLE_AS_WRITTEN, TITLES, words

_SAINT_NAMES = frozenset(
    words(
        "Paul Peter Mary John James Andrew Andrews Helens Helena Louis Petersburg Lawrence "
        "Augustine Francis Patrick George Michael Mark Luke Matthew Thomas Albans Ives Kitts "
        "Lucia Vincent Bartholomew Anne Agnes Martin Nicholas Stephen Giles Clement Bernard "
        "Pancras Denis Cloud Malo Moritz Gallen Joseph Catherine Margaret Edmund David Benedict "
        "Jude"
    )
)


def _street_context(text: str, m: re.Match, cap_next: bool) -> bool:
    """A capitalised name word right before ('Elm St.', 'Mulholland Dr.'). When that word
    opens the sentence it may be a verb or a greeting ('Ask Dr Smith'), so only a lowercase
    word, punctuation or the end after it makes the street."""
    before = prev_word(text, m.start())
    if not is_capitalised(before) or before in SENTENCE_STARTERS or before.endswith("."):
        return False
    return not cap_next or not starts_sentence(text, prev_word_start(text, m.start()))


TITLE = re.compile(
    rf"(?P<t>{alternation(list(TITLES) + list(TITLE_AS_WRITTEN) + ['Dr', 'St'])})"
    r"(?P<dot>\.?)(?=\s|$|(?<=\.)[,;:)])"
)


def title_handler(m: re.Match, text: str, lang: str) -> str | None:
    t, dot = m.group("t"), m.group("dot")
    nxt = next_word(text, m.end())
    cap_next = is_capitalised(nxt) and nxt not in SENTENCE_STARTERS
    if t in ("Dr", "St"):
        if t == "St" and re.sub("['’]s?$", "", nxt) in _SAINT_NAMES:
            return "Saint"
        if _street_context(text, m, cap_next) and (not cap_next or not dot):
            spoken = "Drive" if t == "Dr" else "Street"
            return keep_period(m, text, spoken) if dot else spoken
        if cap_next:
            return "Doctor" if t == "Dr" else "Saint"
        if dot and nxt:  # 'Dr. and Mrs. Smith'
            return "Doctor" if t == "Dr" else "Saint"
        return None
    if nxt[:1].isdecimal():
        # 'Gen. 1:3', 'Rev. 3:20' cite books of the Bible, not officers and clergy.
        return {"Gen": "Genesis", "Rev": "Revelation"}.get(t) if dot else None
    if not dot and not cap_next:
        return None
    if t in TITLE_AS_WRITTEN:
        return "Miz"
    spoken = TITLES[t]
    return "Honorable" if spoken == "Honourable" and lang == "en-us" else spoken


# 'M. Poirot', 'MM. Dupont and Durand': the French title, where the letter is no initial.
MONSIEUR = re.compile(r"(?P<t>MM?)\.(?= [A-Z][a-z])")


def monsieur_handler(m: re.Match, text: str, lang: str) -> str | None:
    if next_word(text, m.end()) in SENTENCE_STARTERS:
        return None  # 'the letter M. After that': the letter ended a sentence
    before = prev_word(text, m.start())
    # 'James M. Barrie', 'J. M. Barrie': a middle initial after a name or another initial.
    if is_capitalised(before) and before not in SENTENCE_STARTERS:
        return None
    if before.endswith(".") or re.match(r"\.\s?[A-Z]\.", text[m.end() - 1 : m.end() + 4]):
        return None
    if not starts_sentence(text, m.start()) and not before:
        return None  # after punctuation other than a sentence end ('Lee, M. R.')
    return "Messieurs" if m.group("t") == "MM" else "Monsieur"


# 'Springfield, Ill.', 'Albany, N.Y.': a state after a town and its comma.
_STATES = {
    "Ala": "Alabama",
    "Ariz": "Arizona",
    "Ark": "Arkansas",
    "Cal": "California",
    "Calif": "California",
    "Colo": "Colorado",
    "Conn": "Connecticut",
    "Del": "Delaware",
    "Fla": "Florida",
    "Ga": "Georgia",
    "Ill": "Illinois",
    "Ind": "Indiana",
    "Kan": "Kansas",
    "Kans": "Kansas",
    "Ky": "Kentucky",
    "Md": "Maryland",
    "Mass": "Massachusetts",
    "Mich": "Michigan",
    "Minn": "Minnesota",
    "Mont": "Montana",
    "Neb": "Nebraska",
    "Nebr": "Nebraska",
    "Nev": "Nevada",
    "Okla": "Oklahoma",
    "Ore": "Oregon",
    "Penn": "Pennsylvania",
    "Tenn": "Tennessee",
    "Tex": "Texas",
    "Vt": "Vermont",
    "Va": "Virginia",
    "Wash": "Washington",
    "Wis": "Wisconsin",
    "Wisc": "Wisconsin",
    "Wyo": "Wyoming",
    "N.Y": "New York",
    "N.J": "New Jersey",
    "N.H": "New Hampshire",
    "N.C": "North Carolina",
    "S.C": "South Carolina",
    "N.D": "North Dakota",
    "S.D": "South Dakota",
    "R.I": "Rhode Island",
    "N.M": "New Mexico",
}
# 'Pa.', 'Miss.', 'Mo.', 'La.', 'Me.' are left out: after a comma they are more often a
# word of dialogue ('Good night, Pa.').
STATE = re.compile(rf"(?<=[A-Za-z], )(?P<s>{alternation(_STATES)})\.(?![\w.])")


# The word that ends where the search ends, from its first ASCII letter. Tried only where a run
# of word characters starts (the look-behind), so a long run is read once, not from each of
# its positions.
_WORD_END = re.compile(r"(?<![\w'’-])(?:[^\WA-Za-z]|['’-])*+(?P<word>[A-Za-z][\w'’-]*+)$")


def state_handler(m: re.Match, text: str, lang: str) -> str | None:
    before = _WORD_END.search(text, max(0, m.start() - 42), m.start() - 2)
    town = before.group("word") if before else ""
    if not is_capitalised(town) or town in SENTENCE_STARTERS:
        return None
    return keep_period(m, text, _STATES[m.group("s")])
