"""A chunk's content key: a hash of everything that decides its audio, so that audio made once
is found again by any job (or revision) that would make the same.

What decides a chunk's audio: the written text (the spoken form and the phonemes are made from
it by deterministic code, whose version is in SYNTHESIS_VERSION), the pronunciation entries that
apply to it and its markup overrides, the language, the voice (as the style vectors' own bytes:
a blend, or a voices file that changed, is another voice), the speed, and the model file.
Hashing these inputs rather than the phonemes lets the API plan a revision's reuse without
phonemizing a book; the two are the same thing as long as SYNTHESIS_VERSION is bumped whenever
code changes what a given input is said as, or what is stored (normalizer rules, trimming,
fades, word timings).
"""

import hashlib
import json
from collections.abc import Iterable, Sequence

# Bump when code changes the audio, word timings or levels made for the same input
SYNTHESIS_VERSION = 1

# Where a key's audio may be reused: by the same key (owner), by anyone on this server, never
REUSE_MODES = ("owner", "server", "off")
SERVER_SCOPE = "*"


def reuse_scope(mode: str, owner: str) -> str | None:
    """The scope a job's chunk audio is shared in: its owner's, the whole server's ("*"), or
    None when nothing is reused. An owner is a key id (or "" without keys), never "*"."""
    if mode == "off":
        return None
    return SERVER_SCOPE if mode == "server" else owner


def applied_entries(matches: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The pronunciation entries that apply to a chunk, as (written words, how said) pairs,
    each once, in a stable order: entries that do not occur in a chunk leave its key alone."""
    return [list(pair) for pair in sorted(set(matches))]


def chunk_content_key(
    *,
    text: str,
    lang: str,
    voice: str,
    voice_print: str,
    speed: float,
    model_print: str,
    overrides: Sequence | None,
    entries: Sequence[Sequence[str]],
) -> str:
    """The 64-hex-digit key of a chunk's audio. ``voice_print`` is a hash of the voice's style
    vectors (and blend weights), ``model_print`` of the model file; ``overrides`` are the chunk's
    markup overrides as stored, ``entries`` its applied_entries."""
    fields = {
        "v": SYNTHESIS_VERSION,
        "text": text,
        "lang": lang,
        "voice": voice,
        "voice_print": voice_print,
        "speed": round(float(speed), 6),
        "model": model_print,
        "overrides": overrides or [],
        "entries": [list(e) for e in entries],
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
