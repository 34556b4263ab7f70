"""Every regex that reads user text runs in linear time (issue 21).

Each compiled pattern found at module level in core/, api/, worker/ and storage/ (directly, or
inside a module-level tuple, list, set, dict or dataclass such as the normalizer's RULES) scans
every adversarial family of tests/support/adversarial.py, and so does each public function that
builds or applies patterns as it goes (sentence and clause ends, the normalizer, book
splitting, markup, lexicon matching). The text grows fourfold at each step; a step whose time
grows more than MAX_GROWTH fold fails, naming the module, the pattern and the family.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from collections import deque
from collections.abc import Callable, Iterator

import pytest

from tests.support.adversarial import FAMILIES
from tests.support.growth import MAX_GROWTH, cpu_cost, growth

PACKAGES = ("core", "infra", "api", "worker", "storage")
# Sizes in characters, each 4x the last: small enough that a cubic pattern is caught within
# a second, large enough at the end that a quadratic one stands out from per-call overheads.
PATTERN_SIZES = (80, 320, 1_280, 5_120)
FUNCTION_SIZES = (50, 200, 800, 3_200)
# A step this slow has shown its growth; bigger texts would only cost time.
ENOUGH_S = 0.02
# Below this a time is mostly call overhead and timer noise: no growth is judged from it.
NOISE_FLOOR_S = 0.3e-3
REPEATS = 1
CONFIRM_REPEATS = 5


def superlinear_step(
    run: Callable[[str], object], family: Callable[[int], str], sizes: tuple[int, ...]
) -> tuple[int, float, int, float] | None:
    """(n, time, 4n, time) of the last step measured when its time grows more than MAX_GROWTH
    fold, else None.

    The text grows until a run takes ENOUGH_S or the sizes end, and only that last step is
    judged: a pattern with a bounded window ('.{0,300}') grows faster than its text while the
    text is shorter than the window, and linearly after.
    """
    measured: list[tuple[int, float]] = []
    for size in sizes:
        text = family(size)
        measured.append((size, cpu_cost(lambda text=text: run(text), REPEATS, ENOUGH_S)))
        if measured[-1][1] > ENOUGH_S and len(measured) > 1:
            break
    (n, before), (four_n, after) = measured[-2:]
    if after <= NOISE_FLOOR_S or after <= MAX_GROWTH * before:
        return None
    # Before blaming the code for a busy moment: measure again, more carefully, and one step
    # further (times of a fraction of a millisecond jitter; superlinear growth only grows)
    for step in (n, four_n):
        small, large = family(step), family(4 * step)
        before = cpu_cost(lambda text=small: run(text), CONFIRM_REPEATS, ENOUGH_S)
        after = cpu_cost(lambda text=large: run(text), CONFIRM_REPEATS, ENOUGH_S)
        if after <= NOISE_FLOOR_S or after <= MAX_GROWTH * before:
            return None
    return four_n, before, 4 * four_n, after


def _describe(what: str, family: str, step: tuple[int, float, int, float]) -> str:
    n, before, four_n, after = step
    return (
        f"{what} on {family}: {n:,} chars {before * 1e3:.2f} ms, {four_n:,} chars "
        f"{after * 1e3:.2f} ms ({after / before:.1f}x, at most {MAX_GROWTH:.0f}x)"
    )


# --- Patterns --------------------------------------------------------------------------------


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names.append(package)
        names.extend(info.name for info in pkgutil.walk_packages(root.__path__, package + "."))
    return sorted(names)


def _patterns_in(name: str, value: object, depth: int = 0) -> Iterator[tuple[str, re.Pattern]]:
    """The compiled patterns in a module-level value, each with the path that reaches it."""
    if isinstance(value, re.Pattern):
        yield name, value
    elif depth >= 3:
        return
    elif isinstance(value, (tuple, list, set, frozenset)):
        for i, item in enumerate(value):
            yield from _patterns_in(f"{name}[{i}]", item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _patterns_in(f"{name}[{key!r}]", item, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _patterns_in(f"{name}.{field.name}", getattr(value, field.name), depth + 1)


def _discover() -> dict[str, list[tuple[str, re.Pattern]]]:
    """Each module's patterns. A pattern reached from several modules (imported, or listed in
    the normalizer's RULES) is checked once: under the module that names it directly first."""
    modules = {name: importlib.import_module(name) for name in _modules()}
    found: dict[str, list[tuple[str, re.Pattern]]] = {name: [] for name in modules}
    seen: set[int] = set()
    for direct in (True, False):
        for name, module in modules.items():
            for attribute, value in vars(module).items():
                if isinstance(value, re.Pattern) != direct:
                    continue
                for path, pattern in _patterns_in(attribute, value):
                    if id(pattern) not in seen:
                        seen.add(id(pattern))
                        found[name].append((path, pattern))
    return {name: patterns for name, patterns in found.items() if patterns}


PATTERNS = _discover()


def _scan(pattern: re.Pattern) -> Callable[[str], object]:
    if isinstance(pattern.pattern, bytes):
        return lambda text: deque(pattern.finditer(text.encode("utf-8")), maxlen=0)
    return lambda text: deque(pattern.finditer(text), maxlen=0)


def test_the_detector_finds_a_quadratic_scan():
    # Each start in a run of spaces reads the rest of the run: n^2 / 2 steps
    quadratic = re.compile(r"\s+x")
    assert superlinear_step(_scan(quadratic), lambda n: " " * n, (80, 320, 1_280)) is not None
    assert superlinear_step(_scan(re.compile(r"x")), lambda n: " " * n, PATTERN_SIZES) is None


def test_the_growth_measure_finds_quadratic_work():
    def quadratic(text: str) -> list[int]:
        return [text.count(" ", start) for start in range(len(text))]

    assert growth(quadratic, lambda n: " " * n, 200, most=3_200) > MAX_GROWTH
    assert growth(lambda text: text.split(), lambda n: "a " * n, 200) < MAX_GROWTH


def test_patterns_are_found():
    # The walk must see into the normalizer's rule table and the sentence splitter
    assert "core.text.sentences" in PATTERNS and "core.text.normalize" in PATTERNS
    assert any(path.startswith("RULES[") for path, _ in PATTERNS["core.text.normalize"])


@pytest.mark.parametrize("module", list(PATTERNS))
def test_module_patterns_are_linear(module: str):
    slow = []
    for path, pattern in PATTERNS[module]:
        for family_name, family in FAMILIES.items():
            step = superlinear_step(_scan(pattern), family, PATTERN_SIZES)
            if step is not None:
                what = f"{module}.{path} ({pattern.pattern!r}).finditer"
                slow.append(_describe(what, family_name, step))
    assert not slow, "superlinear regex scans:\n" + "\n".join(slow)


# --- Functions that build or apply patterns as they go --------------------------------------


def _quietly(function: Callable[[str], object]) -> Callable[[str], object]:
    """Time a rejection as well as an answer: a 4xx must be as cheap as a 2xx."""

    def run(text: str) -> object:
        try:
            return function(text)
        except ValueError:
            return None

    return run


def _text_functions() -> dict[str, Callable[[str], object]]:
    from core.cast import analyse_cast
    from core.speech import lexicon, pronunciation
    from core.text import books, chunk_plan, chunking, epub, markup
    from core.text import sentences as text
    from core.text.normalize import spoken_rewrites
    from core.voices import specs as voices

    def accept(spec: str) -> str:
        return spec

    def plan(mode: str) -> Callable[[str], object]:
        return lambda source: chunk_plan.plan_chunks(
            [source], lang="en-us", markup=mode, check_voice=accept, max_tokens=250
        )

    entries = lexicon.Lexicon.parse(
        {"New York City": {"say": "new york city"}, "a": {"say": "ay"}, "x": {"say": "ex"}}
    )
    return {
        "core.text.sentences.normalize_text": text.normalize_text,
        "core.text.sentences.sentence_ends": text.sentence_ends,
        "core.text.sentences.clause_ends": text.clause_ends,
        "core.text.sentences.split_sentences": text.split_sentences,
        "core.text.sentences.sentence_ends(ja)": lambda source: text.sentence_ends(source, "ja"),
        "core.text.sentences.clause_ends(ja)": lambda source: text.clause_ends(source, "ja"),
        "core.text.normalize.spoken_rewrites": spoken_rewrites,
        "core.text.chunking.chunk_text": lambda source: chunking.chunk_text(
            text.normalize_text(source), max_tokens=250
        ),
        "core.text.chunk_plan.plan_chunks(none)": plan("none"),
        "core.text.chunk_plan.plan_chunks(tags)": plan("tags"),
        "core.text.chunk_plan.plan_chunks(ssml)": plan("ssml"),
        "core.text.books.split_txt": books.split_txt,
        "core.text.books.split_markdown": books.split_markdown,
        "core.text.epub.html_text": epub.html_text,
        "core.text.markup.parse_markup(tags)": lambda source: markup.parse_markup(
            source, "tags", check_voice=accept
        ),
        "core.text.markup.parse_markup(ssml)": lambda source: markup.parse_markup(
            source, "ssml", check_voice=accept
        ),
        "core.speech.lexicon.Lexicon.matches": entries.matches,
        "core.speech.pronunciation.phonemize_with_lexicon": lambda source: (
            pronunciation.phonemize_with_lexicon(source, entries, lambda plain: plain)
        ),
        "core.voices.specs.parse_voice": lambda source: voices.parse_voice(source, {"af_heart"}),
        "core.cast.analyse_cast": analyse_cast,
    }


TEXT_FUNCTIONS = _text_functions()


@pytest.mark.parametrize("name", list(TEXT_FUNCTIONS))
def test_text_function_is_linear(name: str):
    run = _quietly(TEXT_FUNCTIONS[name])
    slow = []
    for family_name, family in FAMILIES.items():
        step = superlinear_step(run, family, FUNCTION_SIZES)
        if step is not None:
            slow.append(_describe(name, family_name, step))
    assert not slow, "superlinear text functions:\n" + "\n".join(slow)


# --- Issue 21, finding 2 ---------------------------------------------------------------------


@pytest.mark.parametrize("closer", [")", "]"])
def test_clause_ends_reads_a_run_of_closing_brackets_once(closer: str):
    # Every text submission is cut at clause ends: "Hello " + ")" * 80,000 took 4.7 s (a
    # quadratic scan) and held the API's event loop meanwhile.
    from core.text.sentences import clause_ends

    def hostile(n: int) -> str:
        return "Hello " + closer * n

    step = superlinear_step(clause_ends, hostile, (20_000, 80_000))
    assert step is None, _describe(
        "core.text.sentences.clause_ends", f"'Hello ' + {closer!r} * n", step
    )
    assert clause_ends(hostile(5) + " again") == [len("Hello ") + 5]  # still a clause end
