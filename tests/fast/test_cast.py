"""core.cast: quotes, their speakers and the characters of a novel (docs/cast.md).

The small texts below each pin one behaviour; the annotated books of tests/data/cast score the
whole (``test_the_annotated_books_are_cast_as_a_reader_would``), and write their figures to
benchmarks/results/cast_accuracy.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.cast import CastAnalysis, analyse_cast, speaker_spans
from core.cast.lexicon import SPEECH_PHRASES, SPEECH_VERBS
from tests.data.cast import build, score

ROOT = Path(__file__).resolve().parents[2]
ACCURACY = ROOT / "benchmarks" / "results" / "cast_accuracy.json"

# What the annotated set must reach (docs/cast.md)
EXPLICIT_SPEAKERS = 0.95
ALL_SPEAKERS = 0.80
BOUNDARIES = 0.98


def spans(text: str) -> list[str]:
    return [quote.text for quote in analyse_cast(text).quotes]


def said(text: str) -> list[tuple[str, str | None]]:
    """(quote, speaker) of each quote."""
    return [(quote.text, quote.speaker) for quote in analyse_cast(text).quotes]


def character(analysis: CastAnalysis, name: str):
    return next(c for c in analysis.characters if c.name == name)


# --- Quotes ----------------------------------------------------------------------------------


def test_a_quote_spans_its_marks_and_the_narration_stays_out():
    text = 'Jane looked up. "I am here," she said, turning away. "Come in."'
    analysis = analyse_cast(text)
    first, second = analysis.quotes
    assert (first.start, first.end) == (text.index('"I am'), text.index(" she said"))
    assert first.text == text[first.start : first.end] == '"I am here,"'
    assert second.text == '"Come in."' and second.end == len(text)
    assert speaker_spans(text, analysis)[1] == (first.start, first.end, "Jane")


@pytest.mark.parametrize(
    "text",
    [
        # straight and curly British single quotes, each apostrophe inside
        "'I don't know,' said Tom. 'It's five o'clock and the Joneses' dog wants 'em fed.'",
        "‘I don’t know,’ said Tom. ‘It’s five o’clock and the Joneses’ dog wants ’em fed.’",
        "''Tis late,' said Tom. ''Tis rock 'n' roll we play, goin' home at nine.'",
        "‘’Tis late,’ said Tom. ‘We played rock ’n’ roll back in ’99, I’m sure.’",
    ],
)
def test_apostrophes_are_never_quotes(text):
    found = spans(text)
    assert len(found) == 2, found
    assert found[0].endswith(("late,'", "late,’", "know,'", "know,’"))
    assert found[1].endswith((".'", ".’"))
    assert all(quote.startswith(("'", "‘")) for quote in found)


def test_apostrophes_in_double_quoted_prose_are_words():
    text = "\"I don't know,\" said Tom. \"'Tis the Joneses' dog; rock 'n' roll at ten o'clock.\""
    assert spans(text) == [
        '"I don\'t know,"',
        "\"'Tis the Joneses' dog; rock 'n' roll at ten o'clock.\"",
    ]


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        ("\"He told me 'go away' and left,\" said Tom.", "\"He told me 'go away' and left,\""),
        ("‘He said “never” to me,’ said Alice.", "‘He said “never” to me,’"),
        ("'He said \"never\" to me,' said Alice.", "'He said \"never\" to me,'"),
        ('"He said "never" to me," said Tom.', '"He said "never" to me,"'),
    ],
)
def test_a_quote_within_a_quote_stays_part_of_it(text, quote):
    found = analyse_cast(text)
    assert [(q.text, q.speaker) for q in found.quotes] == [(quote, text.split()[-1][:-1])]


@pytest.mark.parametrize("marks", ['""', "“”", "‘’"])
def test_a_quotation_over_several_paragraphs_is_one_quote(marks):
    opening, closing = marks
    text = (
        "Holmes leaned back.\n\n"
        f"{opening}It began in March. The client came at nine.\n\n"
        f"{opening}He left at ten, and never came back.\n\n"
        f"{opening}That is all,{closing} said Holmes.\n\n"
        f"{opening}Thank you,{closing} said Watson."
    )
    analysis = analyse_cast(text)
    first, second = analysis.quotes
    assert first.start == text.index(f"{opening}It began")
    assert first.end == text.index(" said Holmes")
    assert first.speaker == "Holmes" and first.paragraph == 1
    assert second.speaker == "Watson"


def test_an_opening_mark_never_closed_ends_its_quote_with_its_paragraph():
    text = '"It was late, said Tom.\n\nThe clock struck. "Go home," said Ann.'
    assert spans(text) == ['"It was late, said Tom.', '"Go home,"']


def test_a_word_shown_in_quotes_is_no_dialogue():
    text = (
        'The sign read "Keep out," and the boys built it for "style," not use. '
        'There was a large "E" on it. "Go home!" cried Jane.'
    )
    assert said(text) == [('"Go home!"', "Jane")]


def test_dialogue_introduced_by_dashes():
    text = (
        "Maria came in from the rain.\n\n"
        "—Where are you going? asked Maria.\n\n"
        "—Home, Pedro said. It is late. You should go too.\n\n"
        "—Not yet.\n\n"
        "—Then good night, he said."
    )
    assert said(text) == [
        ("—Where are you going?", "Maria"),
        ("—Home,", "Pedro"),
        ("It is late. You should go too.", "Pedro"),
        ("—Not yet.", "Maria"),
        ("—Then good night,", "Pedro"),
    ]


def test_a_dash_inside_narration_is_no_dialogue():
    text = 'She waited—for an hour—and then left. "Well," said Jane.'
    assert spans(text) == ['"Well,"']


# --- Speakers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ('"Yes," said Elizabeth.', "Elizabeth"),
        ('"Yes," Elizabeth said.', "Elizabeth"),
        ('"Do you?" asked Mr. Darcy.', "Mr. Darcy"),
        ('"Come," replied the old man.', "the old man"),
        ('"Oh, Jane," cried Lydia. "How happy you will be!"', "Lydia"),
        ('Elizabeth said: "I shall go."', "Elizabeth"),
        ('Then Jane spoke: "I shall go."', "Jane"),
        ('Elizabeth said, "I shall go."', "Elizabeth"),
        ('Dracula bowed as he replied:—"I am Dracula."', "Dracula"),
        ('Mr. Darcy walked in.\n\n"Good morning," he said, smiling.', "Mr. Darcy"),
        ('Jane sat down.\n\n"Of course," she answered.', "Jane"),
    ],
)
def test_explicit_attributions(text, speaker):
    for quote in analyse_cast(text).quotes:
        assert quote.speaker == speaker and quote.attributed
        assert 0.5 <= quote.confidence <= 1


def test_his_wife_is_mrs_of_the_man_she_speaks_to():
    text = (
        '"My dear Mr. Bennet," said his lady, "have you heard?"\n\n'
        '"I have not," said Mr. Bennet.\n\n"But it is," cried his wife.\n\n'
        "Mrs. Bennet deigned not to make any reply."
    )
    assert [speaker for _, speaker in said(text)] == [
        "Mrs. Bennet", "Mrs. Bennet", "Mr. Bennet", "Mrs. Bennet"
    ]  # fmt: skip


def test_a_pronoun_is_the_person_the_narration_is_about():
    text = (
        "Elizabeth walked to the window. Darcy stood by the door.\n\n"
        '"It is raining," she said.\n\n"So it is," he answered.'
    )
    assert [speaker for _, speaker in said(text)] == ["Elizabeth", "Darcy"]


def test_he_in_a_new_paragraph_is_the_other_man_of_the_exchange():
    text = (
        '"It is your best work, Basil," said Lord Henry.\n\n'
        '"I shall not send it anywhere," he answered.\n\n'
        '"Not send it anywhere?" said Lord Henry.'
    )
    assert [speaker for _, speaker in said(text)] == ["Lord Henry", "Basil", "Lord Henry"]


def test_untagged_turns_alternate():
    text = (
        "Mrs. Bennet came in.\n\n"
        '"What is his name?" asked Mr. Bennet.\n\n"Bingley," said his wife.\n\n'
        '"Is he married or single?"\n\n"Oh! Single, my dear."\n\n"How so?"\n\n"You know."'
    )
    speakers = [speaker for _, speaker in said(text)]
    assert speakers == ["Mr. Bennet", "Mrs. Bennet"] * 3
    analysis = analyse_cast(text)
    assert [q.attributed for q in analysis.quotes] == [True, True, False, False, False, False]
    assert all(q.confidence < analysis.quotes[0].confidence for q in analysis.quotes[2:])


def test_a_speaker_named_in_the_narration_of_the_paragraph():
    text = '"Will you come?" asked Tom.\n\nJane smiled. "Of course."'
    assert said(text)[1] == ('"Of course."', "Jane")


def test_a_quote_never_speaks_to_its_speaker():
    text = (
        '"Are you ready?" asked Tom.\n\n"Jane, come here," said Mary.\n\n'
        '"In a moment."\n\n"Come here, Jane."\n\n"I am coming, Mary!"'
    )
    speakers = [speaker for _, speaker in said(text)]
    assert speakers[2] == "Jane"  # she answers the one who called her
    assert speakers[3] == "Mary"  # not Jane: she is the one addressed
    assert speakers[4] == "Jane"


def test_the_narrator_is_named_by_what_the_others_call_them():
    text = (
        '"You have been in Afghanistan, Watson," said Holmes.\n\n'
        '"How did you know?" I asked.\n\n"I deduce it, Watson," said he.'
    )
    analysis = analyse_cast(text)
    assert [q.speaker for q in analysis.quotes] == ["Holmes", "Watson", "Holmes"]
    assert character(analysis, "Watson").lines == 1


# --- Characters ------------------------------------------------------------------------------


def test_forms_of_a_name_are_one_character():
    text = (
        'Mr. Fitzwilliam Darcy entered. "Good day," said Mr. Darcy.\n\n'
        '"Good day to you, Darcy," said Elizabeth.\n\n'
        '"You are welcome," said Fitzwilliam Darcy. Darcy bowed.'
    )
    analysis = analyse_cast(text)
    darcy, elizabeth = analysis.characters
    forms = {"Mr. Darcy", "Mr. Fitzwilliam Darcy", "Darcy", "Fitzwilliam Darcy"}
    assert {darcy.name, *darcy.aliases} == forms
    assert darcy.lines == 2 and darcy.mentions == 5 and darcy.gender == "male"
    assert (elizabeth.name, elizabeth.lines) == ("Elizabeth", 1)


def test_mr_and_mrs_are_two_people():
    text = (
        '"My dear," said Mrs. Bennet, "he is come."\n\n'
        '"Is he?" said Mr. Bennet.\n\n"He is!" said Mrs. Bennet. Bennet sighed.'
    )
    analysis = analyse_cast(text)
    mrs, mr = character(analysis, "Mrs. Bennet"), character(analysis, "Mr. Bennet")
    assert (mrs.lines, mrs.gender, mrs.aliases) == (3, "female", [])
    assert (mr.lines, mr.gender, mr.aliases) == (1, "male", [])
    assert [c.name for c in analysis.characters][:2] == ["Mrs. Bennet", "Mr. Bennet"]


def test_gender_from_the_pronouns_after_a_name():
    text = (
        "Stamford came in. He took off his coat.\n\n"
        '"Good evening," said Stamford.\n\n'
        '"Hello," said Ormsby. Ormsby looked up, and her face was pale.'
    )
    analysis = analyse_cast(text)
    assert character(analysis, "Stamford").gender == "male"
    assert character(analysis, "Ormsby").gender == "female"


def test_a_text_without_quotes_has_no_cast_and_is_all_narration():
    text = "It was a dark night. Mr. Darcy walked home, and Elizabeth stayed.\n\nThe end."
    analysis = analyse_cast(text)
    assert analysis == CastAnalysis(characters=[], quotes=[])
    assert speaker_spans(text, analysis) == [(0, len(text), None)]
    assert speaker_spans("", analyse_cast("")) == []


def test_speaker_spans_cover_the_text_in_order():
    text = 'Once. "Hello," said Ann. "Are you well?"\n\n"Yes," said Bob.\n\n"Good." Then silence.'
    analysis = analyse_cast(text)
    cut = speaker_spans(text, analysis)
    assert cut[0][0] == 0 and cut[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(cut, cut[1:], strict=False))
    assert all(a[2] != b[2] for a, b in zip(cut, cut[1:], strict=False))
    for start, end, speaker in cut:
        inside = [q for q in analysis.quotes if start <= q.start and q.end <= end]
        assert all(q.speaker == speaker for q in inside)
    ann = [text[s:e] for s, e, who in cut if who == "Ann"]
    assert ann == ['"Hello,"', '"Are you well?"', '"Good."']  # the last: her turn again
    assert [text[s:e] for s, e, who in cut if who == "Bob"] == ['"Yes,"']


# Pieces that every rule above reads: marks, dashes, names, titles, tags, relations
PIECES = [
    *"abXY \n\"'“”‘’—–-,.!?:;()«»",
    *("\n\n", "\n\n—", '"\n\n"', "said", "Mr. ", "Mrs. ", "he", "she", "I", "Tom", "Jane"),
    *("the man", "his wife", "a man entered", " asked ", "'tis", "o'clock", "rock 'n' roll"),
    *("my companion", "the other", "’s voice", "the uncle", "Uncle!", "replied:—", "He turned"),
    *("I called myself", "During the", "one of the", "Darcy's", "the stranger", "the Count"),
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=60).map("".join))
def test_any_text_is_cast_without_error_and_consistently(text):
    analysis = analyse_cast(text)
    names = [c.name for c in analysis.characters]
    assert len(set(names)) == len(names)
    previous_end = 0
    for quote in analysis.quotes:
        assert quote.text == text[quote.start : quote.end] and quote.start >= previous_end
        assert quote.speaker is None or quote.speaker in names
        assert 0 <= quote.confidence <= 1
        previous_end = quote.end
    cut = speaker_spans(text, analysis)
    assert "".join(text[start:end] for start, end, _ in cut) == text


# --- The annotated books ---------------------------------------------------------------------


def test_the_built_books_match_their_annotated_sources():
    for book in build.load_sources():
        assert (build.HERE / f"{book.name}.txt").read_text(encoding="utf-8") == book.text
        stored = json.loads((build.HERE / f"{book.name}.json").read_text(encoding="utf-8"))
        assert stored == book.annotation, f"run tests/data/cast/build.py ({book.name})"


def test_explicit_means_a_speech_verb_in_the_paragraph_or_leading_into_it():
    """The annotation's rule, checked on every book: an explicitly attributed quote has a
    speech verb in its paragraph's narration, or after a colon that ends the paragraph
    before it; an implicit one has neither, unless another speaker's tag is in its
    paragraph."""
    speech_word = re.compile(r"[a-z]+")

    def has_speech_verb(narration: str) -> bool:
        words = speech_word.findall(narration)
        pairs = zip(words, words[1:], strict=False)
        return any(w in SPEECH_VERBS for w in words) or any(p in SPEECH_PHRASES for p in pairs)

    for book in build.load_sources():
        text, quotes = book.text, book.annotation["quotes"]
        paragraphs = [m.span() for m in re.finditer(r"\S(?:.|\n(?!\s*\n))*", text)]
        for quote in quotes:
            index = next(i for i, (a, b) in enumerate(paragraphs) if a <= quote["start"] < b)
            lo, hi = paragraphs[index]
            narration = text[lo:hi]
            siblings = [q for q in quotes if lo <= q["start"] < hi]
            for sibling in siblings:
                narration = narration.replace(sibling["text"], " ")
            verb = has_speech_verb(narration)
            before = text[paragraphs[index - 1][0] : paragraphs[index - 1][1]] if index else ""
            lead = quote["start"] == lo and before.endswith(":")
            lead = lead and has_speech_verb(before[-200:])
            where = f"{book.name}: {quote['text'][:50]!r}"
            if quote["explicit"]:
                assert verb or lead, where
            elif len({q["speaker"] for q in siblings}) == 1:
                assert not verb and not lead, where


def test_the_annotated_books_are_cast_as_a_reader_would(capsys):
    books = score.score_all()
    totals = score.totals(books)
    ACCURACY.parent.mkdir(parents=True, exist_ok=True)
    report = {"total": totals, "books": {book.name: book.figures() for book in books}}
    ACCURACY.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    with capsys.disabled():
        print("\n" + score.table(books))
    assert totals["books"] >= 6 and totals["authors"] >= 6 and totals["quotes"] >= 320
    assert totals["explicit_speaker_accuracy"] >= EXPLICIT_SPEAKERS, totals
    assert totals["speaker_accuracy"] >= ALL_SPEAKERS, totals
    assert totals["boundary_recall"] >= BOUNDARIES, totals
    assert totals["boundary_precision"] >= BOUNDARIES, totals
