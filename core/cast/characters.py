"""The people of a text: its name mentions joined into characters, each with a gender.

Forms of one name join when the text joins them: "Mr. Fitzwilliam Darcy" joins "Mr. Darcy" and
"Fitzwilliam Darcy"; "Sherlock Holmes" joins "Mr. Holmes" when no other titled Holmes is met;
"Darcy" or "Holmes" alone joins the one character it can be. Two titles never join ("Mr.
Bennet" and "Mrs. Bennet" are two people, and "Bennet" alone is neither), nor two given names
("Buck Mulligan", "Malachi Mulligan"). Speakers known only by a description ("the old man",
"Scrooge’s nephew") are people too, by that description.

A gender is guessed from a title (Mr., Lady, Aunt), a given name (Elizabeth, Tom), the noun of
a description (wife, gentleman) or, failing those, the pronouns that follow the name in the
narration ("Stamford ... him").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from core.cast.lexicon import (
    FEMALE_NAMES,
    FEMALE_NOUNS,
    MALE_NAMES,
    MALE_NOUNS,
    PERSON_VERBS,
    PLACE_WORDS,
    POSSESSIVES,
    TITLES,
)
from core.cast.tags import WORD, Subject, possessive_base
from core.cast.words import Document, Mention, title_key

FEMALE, MALE, UNKNOWN = "female", "male", "unknown"
NARRATOR = "the narrator"
# Titles that mothers and daughters share ("Mrs. Bennet", "Miss Bennet"): a given name joins
# them only where the text writes both together
_FAMILY_TITLES = frozenset({"mrs", "miss", "ms"})
_MALE_PRONOUNS = frozenset({"he", "him", "his", "himself"})
_FEMALE_PRONOUNS = frozenset({"she", "her", "hers", "herself"})
# How far after a name its pronouns are read for a gender, in words
_PRONOUN_REACH = 20
FormKey = tuple[str, tuple[str, ...]]


def form_key(title: str | None, names: tuple[str, ...] | list[str]) -> FormKey:
    return title or "", tuple(possessive_base(name).lower() for name in names)


def mention_key(mention: Mention) -> FormKey:
    if not mention.names and mention.title:
        return "", (mention.title,)  # "the Count": a title used as a name
    return form_key(mention.title, mention.names)


def parse_name(name: str) -> FormKey:
    """The key of a name as a tag writes it: "Mr. Darcy" -> ("mr", ("darcy",))."""
    words = WORD.findall(name)
    if words and title_key(words[0]) is not None and len(words) > 1:
        return form_key(title_key(words[0]), words[1:])
    if len(words) == 1 and title_key(words[0]) is not None:
        return "", (words[0].lower(),)  # "the Count": a title used as a name
    return form_key(None, words)


def _title_gender(title: str) -> str | None:
    return TITLES.get(title) if title else None


def _name_gender(word: str) -> str | None:
    if word in FEMALE_NAMES:
        return FEMALE
    if word in MALE_NAMES:
        return MALE
    return None


@dataclass
class Person:
    """A character being gathered: its forms, mentions and the evidence that it is a person."""

    id: int
    forms: Counter = field(default_factory=Counter)  # display form -> mentions
    tagged: Counter = field(default_factory=Counter)  # display form -> uses as a speaker
    keys: set = field(default_factory=set)
    description: bool = False
    narrator: bool = False
    votes: Counter = field(default_factory=Counter)  # gender -> weight
    person_evidence: bool = False
    place: bool = False  # "Black Hill Cove": no person, even when addressed
    verbs: int = 0
    vocatives: int = 0

    @property
    def mentions(self) -> int:
        return sum(self.forms.values())

    @property
    def name(self) -> str:
        if self.narrator and not self.forms:
            return NARRATOR
        pool = self.tagged if self.tagged else self.forms
        return max(pool, key=lambda form: (pool[form], len(form), form))

    @property
    def aliases(self) -> list[str]:
        name = self.name
        return sorted(form for form in self.forms if form != name)

    @property
    def gender(self) -> str:
        male, female = self.votes[MALE], self.votes[FEMALE]
        if male > female:
            return MALE
        if female > male:
            return FEMALE
        return UNKNOWN

    @property
    def is_person(self) -> bool:
        if self.place and not self.tagged:
            return False
        return (
            self.description
            or self.narrator
            or self.person_evidence
            or bool(self.tagged)
            or self.vocatives > 0
            or self.verbs > 0
        )


class _Union:
    def __init__(self):
        self.parent: dict = {}

    def find(self, item):
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def join(self, a, b) -> None:
        self.parent[self.find(a)] = self.find(b)


def _gender_of_key(key: FormKey) -> str | None:
    title, names = key
    return _title_gender(title) or (_name_gender(names[0]) if len(names) > 1 else None)


def _compatible(a: FormKey, b: FormKey) -> bool:
    ga, gb = _gender_of_key(a), _gender_of_key(b)
    return ga is None or gb is None or ga == gb


def _merge_forms(keys: Counter) -> _Union:
    """Which forms name one character (see the module's doc)."""
    union = _Union()
    titled = [k for k in keys if k[0] and k[1]]
    untitled_full = [k for k in keys if not k[0] and len(k[1]) > 1]
    singles = [k for k in keys if not k[0] and len(k[1]) == 1]
    for key in keys:
        union.find(key)
    given_names: dict[tuple[str, str], set] = {}  # (title, surname) -> given names met
    surname_only: dict[str, list[FormKey]] = {}  # surname -> "Mr. Holmes", "Mrs. Holmes"
    for title, names in titled:
        if len(names) > 1:
            given_names.setdefault((title, names[-1]), set()).add(names[:-1])
        else:
            surname_only.setdefault(names[0], []).append((title, names))
    # "Mr. Fitzwilliam Darcy" joins "Fitzwilliam Darcy", "Mr. Darcy" and "Mr. Fitzwilliam"
    for key in titled:
        title, names = key
        if len(names) < 2:
            continue
        if ("", names) in keys:
            union.join(key, ("", names))
        if len(given_names[(title, names[-1])]) == 1 and (title, names[-1:]) in keys:
            union.join(key, (title, names[-1:]))
        if (title, names[:1]) in keys:
            union.join(key, (title, names[:1]))
    # "Sherlock Holmes" joins "Mr. Holmes" when that is the only titled Holmes
    for key in untitled_full:
        bare = surname_only.get(key[1][-1], [])
        if len(bare) == 1 and bare[0][0] not in _FAMILY_TITLES and _compatible(key, bare[0]):
            union.join(key, bare[0])
    # "Darcy", "Polly", "Holmes" alone join the one character that can be meant
    groups: dict[FormKey, set[FormKey]] = {}
    for key in keys:
        groups.setdefault(union.find(key), set()).add(key)
    claims: dict[str, set[FormKey]] = {}
    for root, members in groups.items():
        for title, names in members:
            claimed = {names[-1]} if (title or len(names) > 1) else set()
            if len(names) > 1 and title not in _FAMILY_TITLES:
                claimed.add(names[0])
            for word in claimed:
                claims.setdefault(word, set()).add(root)
    for key in singles:
        word = key[1][0]
        owners = claims.get(word, set()) - {union.find(key)}
        if len(owners) == 1:
            union.join(key, owners.pop())
    return union


class Cast:
    """The people of a document, found before the speakers are."""

    def __init__(self, doc: Document, tag_names: list[str]):
        self.doc = doc
        self.people: list[Person] = []
        self._by_key: dict[FormKey, int] = {}
        self._descriptions: dict[str, int] = {}
        self._heads: dict[str, list[tuple[bool, int]]] = {}  # "nephew" -> (Scrooge’s?, person)
        self.mention_person: list[int | None] = []
        keys: Counter = Counter()
        for mention in doc.mentions:
            keys[mention_key(mention)] += 1
        tagged_keys = Counter(parse_name(name) for name in tag_names)
        for key in tagged_keys:
            keys.setdefault(key, 0)
        union = _merge_forms(keys)
        roots: dict[FormKey, int] = {}
        for key in sorted(keys, key=lambda k: (-keys[k], k)):
            root = union.find(key)
            if root not in roots:
                roots[root] = self._new_person().id
            self._by_key[key] = roots[root]
            self.people[roots[root]].keys.add(key)
        for name in tag_names:
            person = self.people[self._by_key[parse_name(name)]]
            person.tagged[self._display(parse_name(name), name)] += 1
        for mention in doc.mentions:
            self.mention_person.append(self._count(mention))
        for person in self.people:
            self._guess_gender(person)

    def _new_person(self, **fields) -> Person:
        person = Person(len(self.people), **fields)
        self.people.append(person)
        return person

    @staticmethod
    def _display(key: FormKey, written: str) -> str:
        words = WORD.findall(written)
        if key[0] and words and title_key(words[0]) is not None and len(words) > 1:
            return written[written.find(words[0]) :]
        return " ".join(words) if words else written

    def _count(self, mention: Mention) -> int:
        key = mention_key(mention)
        pid = self._by_key[key]
        person = self.people[pid]
        person.forms[mention.form] += 1
        title, names = key
        if mention.title or _name_gender(names[0]) is not None:
            person.person_evidence = True
        if not title and names[-1] in PLACE_WORDS:
            person.place = True
        if mention.vocative and any(n in self.doc.capital_mid for n in mention.names):
            person.vocatives += 1
        if mention.subject and mention.verb in PERSON_VERBS:
            person.verbs += 1
        gender = _title_gender(mention.title or "") or _name_gender(names[0])
        if gender is not None:
            person.votes[gender] += 3 if title else 2
        elif mention.subject or mention.clause_initial:
            self.pronoun_vote(pid, mention.after, mention.paragraph)
        return pid

    def pronoun_vote(self, pid: int, after: int, paragraph: int) -> None:
        """A vote for a gender: the first he or she (him, her...) of the narration after the
        person's mention at word ``after``, before another name."""
        doc = self.doc
        person = self.people[pid]
        for i in range(after, min(len(doc.words), after + _PRONOUN_REACH)):
            if doc.paragraph_of[i] != paragraph:
                return
            if doc.quote_of[i] >= 0:
                continue
            low = doc.words[i].lower
            if low in _MALE_PRONOUNS:
                person.votes[MALE] += 1
                return
            if low in _FEMALE_PRONOUNS:
                person.votes[FEMALE] += 1
                return
            if doc.words[i].capitalized and not doc.sentence_start[i]:
                return  # another name: the pronoun may be theirs

    def _guess_gender(self, person: Person) -> None:
        for key in person.keys:
            title, names = key
            if len(names) == 1 and not title and names[0] in TITLES:
                gender = _title_gender(names[0])  # "the Count"
                if gender:
                    person.votes[gender] += 3

    # Lookups used while speakers are found

    def by_name(self, name: str) -> int | None:
        return self._by_key.get(parse_name(name))

    def describe(self, subject: Subject, known: int | None = None) -> int:
        """The person a description names ("the old man"); one per description, and
        "Scrooge’s nephew" is "the nephew". With ``known``: that person, by one more
        description ("a man stepped in ... said the stranger")."""
        words = WORD.findall(subject.text)
        low = [word.lower() for word in words]
        if low[:2] == ["one", "of"] and len(low) > 3:  # "one of the gentlemen"
            words, low = words[2:], low[2:]
            low[-1] = words[-1] = _singular(low[-1])
        if low[0] in ("a", "an", "that", "this"):
            low[0] = words[0] = "the"
        elif low[0] in ("the", *POSSESSIVES):
            words[0] = low[0]
        key = description_key(low)
        pid = self._descriptions.get(key, known)
        if pid is None:
            pid = self._same_head(low)
        if pid is None:
            person = self._new_person(description=True)
            if low[-1] in MALE_NOUNS:
                person.votes[MALE] += 3
            elif low[-1] in FEMALE_NOUNS:
                person.votes[FEMALE] += 3
            pid = person.id
        new = key not in self._descriptions
        self._descriptions[key] = pid
        if new and len(low) == 2 and (low[0] == "the" or possessive_base(low[0]) != low[0]):
            owned = possessive_base(low[0]) != low[0]
            self._heads.setdefault(low[1], []).append((owned, pid))
        display = " ".join(words)
        self.people[pid].tagged[display] += 1
        self.people[pid].forms.setdefault(display, 0)
        return pid

    def _same_head(self, low: list[str]) -> int | None:
        """ "the nephew" for "Scrooge’s nephew" (and the other way), when both are two words."""
        if len(low) != 2:
            return None
        owned = possessive_base(low[0]) != low[0]
        for other_owned, pid in self._heads.get(low[1], []):
            if owned != other_owned and (owned or low[0] == "the"):
                return pid
        return None

    def count_descriptions(self) -> None:
        """Each description person's mentions: its phrase wherever the text uses it."""
        phrases: dict[tuple[str, ...], int] = {}
        for key, pid in self._descriptions.items():
            words = tuple(key.split())
            phrases[words] = pid
            if words[0] == "the":
                phrases[("a", *words[1:])] = phrases[("an", *words[1:])] = pid
        if not phrases:
            return
        longest = max(len(words) for words in phrases)
        firsts = {words[0] for words in phrases}
        doc = self.doc
        for i in range(len(doc.words)):
            if doc.words[i].lower not in firsts:
                continue
            for size in range(2, longest + 1):
                if i + size > len(doc.words):
                    break
                words = tuple(doc.words[j].lower.replace("-", "") for j in range(i, i + size))
                pid = phrases.get(words)
                if pid is not None:
                    person = self.people[pid]
                    person.forms[person.name] += 1

    def description_id(self, phrase: str) -> int | None:
        return self._descriptions.get(phrase)

    def narrator(self, named: int | None) -> int:
        if named is not None:
            self.people[named].narrator = True
            return named
        return self._new_person(narrator=True).id

    def gender(self, pid: int | None) -> str:
        return UNKNOWN if pid is None else self.people[pid].gender

    def surnames(self, pid: int) -> set[str]:
        return {key[1][-1] for key in self.people[pid].keys if key[0] and key[1]}

    def titled(self, title: str, surname: str) -> int | None:
        return self._by_key.get((title, (surname,)))

    def is_person(self, pid: int | None) -> bool:
        return pid is not None and self.people[pid].is_person


def description_key(words: list[str]) -> str:
    """A description as one key: lower case, "a" as "the", no hyphens ("the station-master"
    is "the stationmaster")."""
    words = [word.lower().replace("-", "") for word in words]
    if words and words[0] in ("a", "an", "that", "this"):
        words[0] = "the"
    return " ".join(words)


def _singular(word: str) -> str:
    if word.endswith("men"):
        return word[:-3] + "man"
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word
