"""SSML is read as the Unicode text a job sends, whatever encoding its XML declaration names;
what would make a parser fetch, expand or decode something else is a MarkupError (a 422 at the
API) that says what to remove."""

import time

import pytest

from core.text.markup import MarkupError, Speech
from core.text.ssml import parse_ssml
from tests.support.growth import MAX_GROWTH, growth


def spoken(text: str) -> str:
    return "".join(s.written for s in parse_ssml(text, str, str) if isinstance(s, Speech))


@pytest.mark.parametrize(
    "encoding", ["UTF-8", "UTF-7", "utf-16", "utf-32", "shift_jis", "ISO-8859-1", "no-such-codec"]
)
def test_the_declared_encoding_is_ignored(encoding):
    declared = f'<?xml version="1.0" encoding="{encoding}"?><speak>Café, naïve 東京.</speak>'
    assert spoken(declared) == "Café, naïve 東京."


def test_a_lone_surrogate_is_a_parse_error():
    with pytest.raises(MarkupError, match="the SSML does not parse"):
        parse_ssml("<speak>a\ud800b</speak>", str, str)


@pytest.mark.parametrize(
    "text",
    [
        # Billion laughs: ten levels of ten references, a gigabyte once expanded
        '<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY l0 "ha">'
        + "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
        + "]><speak>&l9;</speak>",
        '<!DOCTYPE speak [<!ENTITY x SYSTEM "file:///etc/passwd">]><speak>&x;</speak>',
        '<!DOCTYPE speak PUBLIC "-//W3C//DTD SSML 1.0//EN" "http://example.com/x.dtd"><speak/>',
        "<!doctype speak><speak>x</speak>",
    ],
)
def test_dtds_and_entity_declarations_are_refused_before_parsing(text):
    started = time.perf_counter()
    with pytest.raises(MarkupError, match="DTDs and entity declarations are not allowed"):
        parse_ssml(text, str, str)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<speak>&x;</speak>", "undefined entity"),
        ("<speak>&#0;</speak>", "reference to invalid character number"),
        ("<speak>a < b</speak>", "not well-formed"),
        ("<speak><s>open</speak>", "mismatched tag"),
    ],
)
def test_other_parse_errors_say_what_is_wrong(text, reason):
    with pytest.raises(MarkupError, match=reason):
        parse_ssml(text, str, str)


def test_deep_nesting_is_read_in_time_linear_in_its_depth():
    def nested(depth: int) -> str:
        return "<s>" * depth + "word" + "</s>" * depth

    assert growth(lambda text: parse_ssml(text, str, str), nested, 20_000) < MAX_GROWTH
