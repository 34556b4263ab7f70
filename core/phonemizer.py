"""espeak-ng phonemes as kokoro-onnx makes them, for the processes that have no model (the
API's preview). Imported lazily: kokoro-onnx brings ONNX Runtime's module with it, though no
session (no model) is ever made here."""

from functools import lru_cache


@lru_cache(maxsize=1)
def _tokenizer():
    from kokoro_onnx.tokenizer import Tokenizer

    return Tokenizer()


def phonemize(text: str, lang: str) -> str:
    return _tokenizer().phonemize(text, lang)


def token_count(phonemes: str) -> int:
    """The tokens Kokoro reads for these phonemes (what its vocabulary keeps of them)."""
    return len(_tokenizer().known(phonemes))
