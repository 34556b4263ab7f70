"""Who speaks in a novel: its quotes, their speakers and the characters (docs/cast.md).

Pure logic: a text in, its cast out."""

from core.cast.analysis import CastAnalysis, Character, Quote, analyse_cast, speaker_spans

__all__ = ["CastAnalysis", "Character", "Quote", "analyse_cast", "speaker_spans"]
