"""Text into what the model reads: languages and their front ends, phonemes, pronunciation
lexicons, and when each written word is said."""
