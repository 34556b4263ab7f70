"""Audio: the one table of formats, encoding as it is made, loudness, where every sample sits
in the final file, and subtitles."""
