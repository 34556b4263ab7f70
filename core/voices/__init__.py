"""Voices: specs and blends, what a voice name says (language, gender, grade), voice samples
and OpenAI's voice names."""
