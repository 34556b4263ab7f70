"""Inline markup: tags and the SSML subset become Speech, Break and Boundary segments."""

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.speech.lexicon import check_phonemes
from core.text.markup import (
    MAX_PAUSE_SECONDS,
    Alias,
    Boundary,
    Break,
    MarkupError,
    PhonemeOverride,
    Speech,
    parse_markup,
)
from core.text.ssml import BREAK_STRENGTHS
from core.voices.specs import canonical_voice

VOICES = ("af_heart", "am_adam", "bf_emma")


def check_voice(spec: str) -> str:
    return canonical_voice(spec, VOICES)


def tags(text: str, **kwargs):
    return parse_markup(text, "tags", check_voice=check_voice, **kwargs)


def ssml(text: str, **kwargs):
    return parse_markup(text, "ssml", check_voice=check_voice, **kwargs)


def error_of(text: str, mode: str, **kwargs) -> MarkupError:
    with pytest.raises(MarkupError) as caught:
        parse_markup(text, mode, check_voice=check_voice, **kwargs)
    return caught.value


# --- none ----------------------------------------------------------------------------------


def test_none_leaves_markup_as_text():
    text = "Wait [pause:1s] for <b>bold</b> &amp; [voice:x] [w](/x/) <!DOCTYPE x>"
    assert parse_markup(text, "none", check_voice=check_voice) == [Speech(text, None)]


def test_unknown_mode_lists_the_modes():
    with pytest.raises(ValueError, match="none, tags, ssml") as caught:
        parse_markup("x", "html", check_voice=check_voice)
    assert not isinstance(caught.value, MarkupError)


# --- tags ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "seconds"),
    [("1.5s", 1.5), ("500ms", 0.5), ("0s", 0.0), ("10s", 10.0), (" 2 S ", 2.0), (".25s", 0.25)],
)
def test_pause_tag(tag, seconds):
    assert tags(f"Hello [pause:{tag}] world") == [
        Speech("Hello ", None),
        Break(seconds),
        Speech(" world", None),
    ]


def test_tag_names_ignore_case():
    assert tags("a [PAUSE:1s] b [Voice:am_adam]c") == [
        Speech("a ", None),
        Break(1.0),
        Speech(" b ", None),
        Speech("c", "am_adam"),
    ]


def test_voice_tags_switch_and_return():
    segments = tags(
        "Narrator. [voice:am_adam]“Hi,” [voice:af_heart:0.7,bf_emma:0.3]she said. "
        "[voice]Back. [voice:bf_emma]Emma. [voice:default]Back again."
    )
    assert segments == [
        Speech("Narrator. ", None),
        Speech("“Hi,” ", "am_adam"),
        Speech("she said. ", "af_heart:0.7,bf_emma:0.3"),
        Speech("Back. ", None),
        Speech("Emma. ", "bf_emma"),
        Speech("Back again.", None),
    ]


def test_same_voice_text_is_one_segment():
    assert tags("One [voice:am_adam]two [voice:am_adam]three") == [
        Speech("One ", None),
        Speech("two three", "am_adam"),
    ]
    # a voice blend is compared in its canonical form
    assert tags("[voice:am_adam:1,bf_emma:1]a [voice: am_adam:0.5, bf_emma:0.5 ]b") == [
        Speech("a b", "am_adam:0.5,bf_emma:0.5")
    ]


def test_word_pronunciation_span():
    [speech] = tags("I met [Hermione](/hɜːmˈaɪəni/) and [New York](/nuː jˈɔːɹk/) today.")
    assert speech.written == "I met Hermione and New York today."
    assert speech.phonemes == (
        PhonemeOverride(6, 14, "hɜːmˈaɪəni"),
        PhonemeOverride(19, 27, "nuː jˈɔːɹk"),
    )
    assert [speech.written[p.start : p.end] for p in speech.phonemes] == ["Hermione", "New York"]
    assert speech.overrides == speech.phonemes


def test_word_pronunciation_is_spanned_within_its_voice_segment():
    segments = tags("Hi [voice:am_adam]dear [Hermione](/hɜːmˈaɪəni/)[pause:1s] [read](/ɹˈɛd/)")
    assert segments == [
        Speech("Hi ", None),
        Speech("dear Hermione", "am_adam", (PhonemeOverride(5, 13, "hɜːmˈaɪəni"),)),
        Break(1.0),
        Speech(" read", "am_adam", (PhonemeOverride(1, 5, "ɹˈɛd"),)),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "[1] a footnote",
        "see [this] and [that]",
        "[pause] [pause 1s] [voices:x] [voicex]",
        "[word](/ipa/",
        "[word](ipa)",
        "[word] (/ipa/)",
        "[[nested]]",
        "an array a[i] and a link [text](https://example.com)",
        "unclosed [pause:1s",
    ],
)
def test_other_brackets_are_plain_text(text):
    assert tags(text) == [Speech(text, None)]


def test_whitespace_only_segments_are_dropped():
    assert tags("[pause:1s] [pause:2s]\n[voice:am_adam] ") == [Break(1.0), Break(2.0)]


@pytest.mark.parametrize(
    ("text", "position", "fix"),
    [
        ("Hi. [pause:11s]", 4, f"longer than the {MAX_PAUSE_SECONDS:g} s"),
        ("Hi. [pause:10001ms]", 4, "longer than"),
        ("Hi. [pause:-1s]", 4, "1.5s or 500ms"),
        ("Hi. [pause:soon]", 4, "1.5s or 500ms"),
        ("Hi. [pause:2]", 4, "1.5s or 500ms"),
        ("Hi. [pause:]", 4, "1.5s or 500ms"),
        ("One two [voice:nobody] x", 8, "available voices: af_heart, am_adam, bf_emma"),
        ("x [voice:am_adam:0.5,nobody:0.5]", 2, "unknown voice 'nobody' in the blend"),
        ("x [voice:am_adam:zero,bf_emma]", 2, "positive numbers"),
        ("é [word](//)", 2, "between the slashes"),
    ],
)
def test_tag_errors_say_where_and_how_to_fix(text, position, fix):
    error = error_of(text, "tags")
    assert error.position == position
    assert fix in str(error)
    assert isinstance(error, ValueError)


def test_phonemes_are_checked_when_asked():
    error = error_of("say [cat](/kæt7/) now", "tags", check_phonemes=check_phonemes)
    assert error.position == 4
    assert "'7'" in str(error)
    [speech] = tags("say [cat](/ kˈæt /)", check_phonemes=check_phonemes)
    assert speech.phonemes == (PhonemeOverride(4, 7, "kˈæt"),)


# The three tag forms, a pronunciation first: "[[pause:1s](/x/)" is "[" and the word "pause:1s"
_TAG_RE = re.compile(
    r"\[(?P<word>[^\[\]]+)\]\(/[^/()]*/\)"
    r"|\[(?i:pause)\s*:[^\[\]]*\]"
    r"|\[(?i:voice)(?:\s*:[^\[\]]*)?\]"
)
_tag_text = st.sampled_from(
    ["[pause:1s]", "[pause:99s]", "[pause:x]", "[voice:am_adam]", "[voice:nobody]", "[voice]",
     "[w](/wˈɜːd/)", "[w](//)", "[", "]", "(/", "/)", "[x]", " ", "\n", "é"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=8), _tag_text), max_size=12).map("".join))
def test_tags_never_raise_anything_else_and_keep_all_text(text):
    try:
        segments = tags(text)
    except MarkupError as error:
        assert 0 <= error.position <= len(text)
        assert text[error.position] == "["
        return
    spoken = "".join(s.written for s in segments if isinstance(s, Speech))
    # Every character outside a recognised tag is kept, in order (a pronunciation tag keeps
    # its word); only whitespace between tags may be dropped
    expected = _TAG_RE.sub(lambda tag: tag["word"] or "", text)
    assert "".join(spoken.split()) == "".join(expected.split())
    for speech in (s for s in segments if isinstance(s, Speech)):
        for override in speech.phonemes:
            assert 0 <= override.start < override.end <= len(speech.written)


# --- SSML ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "seconds"),
    [
        ('<break time="500ms"/>', 0.5),
        ('<break time="2s"/>', 2.0),
        ('<break time="1.25S"/>', 1.25),
        ("<break/>", BREAK_STRENGTHS["medium"]),
        *((f'<break strength="{name}"/>', s) for name, s in BREAK_STRENGTHS.items()),
        ('<break strength="weak" time="3s"/>', 3.0),
    ],
)
def test_ssml_break(element, seconds):
    assert ssml(f"<speak>Hello {element} world</speak>") == [
        Speech("Hello ", None),
        Break(seconds),
        Speech(" world", None),
    ]


def test_break_strengths_grow():
    values = list(BREAK_STRENGTHS.values())
    assert values == sorted(values) and values[0] == 0.0 and values[-1] <= MAX_PAUSE_SECONDS


def test_ssml_sub_and_phoneme_spans():
    [speech] = ssml(
        '<speak>The <sub alias="World Wide Web">WWW</sub> by '
        '<phoneme alphabet="ipa" ph="hɜːmˈaɪəni">Hermione</phoneme> &amp; '
        '<phoneme ph="ɹˈɛd">read</phoneme>.</speak>'
    )
    assert speech.written == "The WWW by Hermione & read."
    assert speech.aliases == (Alias(4, 7, "World Wide Web"),)
    assert speech.phonemes == (
        PhonemeOverride(11, 19, "hɜːmˈaɪəni"),
        PhonemeOverride(22, 26, "ɹˈɛd"),
    )
    assert speech.overrides == (speech.aliases[0], *speech.phonemes)


def test_ssml_nested_voices_restore_the_outer_one():
    assert ssml(
        '<speak>Narrator <voice name="am_adam">Adam <voice name="bf_emma">Emma</voice> '
        'Adam again</voice> narrator <voice name="am_adam">Adam</voice></speak>'
    ) == [
        Speech("Narrator ", None),
        Speech("Adam ", "am_adam"),
        Speech("Emma", "bf_emma"),
        Speech(" Adam again", "am_adam"),
        Speech(" narrator ", None),
        Speech("Adam", "am_adam"),
    ]


def test_ssml_voice_blend_and_default():
    blend = "am_adam:0.75,bf_emma:0.25"
    assert ssml('<voice name="am_adam:3,bf_emma:1">a<voice name="default">b</voice>c</voice>') == [
        Speech("a", blend),
        Speech("b", None),
        Speech("c", blend),
    ]


def test_ssml_paragraphs_and_sentences_are_boundaries():
    segments = ssml(
        "<speak>\n  <p>\n    <s>One.</s>\n    <s>Two.</s>\n  </p>\n  <p>Three.</p>\n"
        '  <break time="1s"/>\n  <p>Four.</p>\n</speak>\n'
    )
    assert segments == [
        Speech("One.", None),
        Boundary("sentence"),
        Speech("Two.", None),
        Boundary("paragraph"),
        Speech("Three.", None),
        Boundary("paragraph"),
        Break(1.0),
        Speech("Four.", None),
    ]


def test_ssml_other_elements_are_read_as_text_and_entities_decoded():
    text = (
        '<speak><emphasis level="strong">Big</emphasis> <b>bold</b> &lt;tag&gt; &#233;&#x301; '
        "&quot;q&quot; &apos;<say-as interpret-as='date'>2024</say-as></speak>"
    )
    assert ssml(text) == [Speech('Big bold <tag> é\u0301 "q" \'2024', None)]


def test_ssml_without_speak_root_and_with_declaration():
    assert ssml("Just <b>text</b>.") == [Speech("Just text.", None)]
    assert ssml('<?xml version="1.0"?>\n<speak>x</speak>') == [Speech("x", None)]


def test_ssml_text_inside_sub_ignores_nested_markup():
    [speech] = ssml('<sub alias="doctor">D<b>r</b>.<break time="9s"/></sub> Who')
    assert speech == Speech("Dr. Who", None, (), (Alias(0, 3, "doctor"),))


@pytest.mark.parametrize(
    ("text", "position", "fix"),
    [
        ("<speak>Hi <break time='11s'/></speak>", 10, "longer than"),
        ("Hi <break time='-1s'/>", 3, "1.5s or 500ms"),
        ("Hi <break time='soon'/>", 3, "1.5s or 500ms"),
        ("Hi <break strength='loud'/>", 3, "x-weak, weak"),
        ("Hi <phoneme>word</phoneme>", 3, 'ph="..."'),
        ("Hi <phoneme ph=''>word</phoneme>", 3, 'ph="..."'),
        ("Hi <phoneme alphabet='x-sampa' ph='r'>r</phoneme>", 3, 'alphabet="ipa"'),
        ("Hi <phoneme ph='kæt'/>", 3, "no written text"),
        ("Hi <sub>WWW</sub>", 3, 'alias="..."'),
        ("Hi <sub alias='x'></sub>", 3, "no written text"),
        ("Hi <voice>x</voice>", 3, 'name="..."'),
        ("Hi <voice name='nobody'>x</voice>", 3, "available voices: af_heart"),
        ("é <b>bold", 9, "<b> is still open"),
        ("<speak>a <b>b</i></speak>", 15, "mismatched tag"),
        ("a & b", 3, "&amp;"),
        ("a &nbsp; b", 2, "undefined entity"),
        ("<speak>x</speak> y", 17, "junk after document element"),
        ("x\n<a b=>y</a>", 7, "not well-formed"),
    ],
)
def test_ssml_errors_say_where_and_how_to_fix(text, position, fix):
    error = error_of(text, "ssml")
    assert error.position == position, str(error)
    assert fix in str(error)


def test_ssml_phonemes_are_checked_when_asked():
    error = error_of("<speak>a <phoneme ph='k@t'>cat</phoneme></speak>", "ssml",
                     check_phonemes=check_phonemes)  # fmt: skip
    assert error.position == 9 and "'@'" in str(error)


@pytest.mark.parametrize(
    "text",
    [
        '<!DOCTYPE speak [<!ENTITY a "aaaaaaaa">]><speak>&a;</speak>',
        '<?xml version="1.0"?><!doctype speak><speak/>',
        '<speak><!ENTITY x "y"></speak>',
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        "<speak>&lol2;</speak>",
    ],
)
def test_ssml_refuses_dtds_and_entity_declarations(text):
    error = error_of(text, "ssml")
    assert "not allowed" in str(error)
    assert text[error.position] == "<"


def test_long_ssml_parses_in_linear_time():
    text = "<speak>" + '<s>Word <break time="1ms"/> é <voice name="am_adam">x</voice></s>' * 5_000
    started = time.perf_counter()
    segments = ssml(text + "</speak>")
    assert len(segments) == 5_000 * 5 - 1
    assert time.perf_counter() - started < 10.0  # generous: the CPUs are shared
    many_breaks = "<p>a</p>" + "<p><break time='1ms'/></p>" * 20_000 + "<p>b</p>"
    started = time.perf_counter()
    assert len(ssml(many_breaks)) == 20_000 + 3
    assert time.perf_counter() - started < 10.0  # rescanning the breaks: tens of seconds
    # an error near the end is still placed exactly
    error = error_of(text + "<break time='x'/></speak>", "ssml")
    assert error.position == len(text)


_ssml_text = st.sampled_from(
    ["<speak>", "</speak>", "<p>", "</p>", "<s>", "</s>", "<b>", "</b>", '<break time="1s"/>',
     '<break time="x"/>', "<break/>", '<voice name="am_adam">', '<voice name="x">', "</voice>",
     '<sub alias="a">', "</sub>", '<phoneme ph="kˈæt">', "<phoneme>", "</phoneme>", "&amp;",
     "&", "<", ">", "&#0;", "<!DOCTYPE x>", "<?xml version='1.0'?>", "\x00", "é", " "]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=6), _ssml_text), max_size=12).map("".join))
def test_ssml_never_raises_anything_but_markup_error(text):
    try:
        segments = ssml(text)
    except MarkupError as error:
        assert 0 <= error.position <= len(text)
        return
    for speech in (s for s in segments if isinstance(s, Speech)):
        assert speech.written.strip()
        for span in speech.overrides:
            assert 0 <= span.start < span.end <= len(speech.written)


def test_cut_rebases_spans_and_drops_crossed_ones():
    [speech] = tags("Say [Hermione](/hɜːmˈaɪəni/) and [Ron](/ɹˈɑːn/) now")
    assert speech.written == "Say Hermione and Ron now"
    assert speech.cut(13, 24) == Speech("and Ron now", None, (PhonemeOverride(4, 7, "ɹˈɑːn"),))
    assert speech.cut(6, 24).phonemes == (PhonemeOverride(11, 14, "ɹˈɑːn"),)
