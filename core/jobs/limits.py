"""What one job may hold, whatever the settings: limits on the work one request can ask for."""

# Chapters of one job, given as `chapters` or read from a book file: a job's chapters each
# get their own audio file, and a chapter starts a chunk, so their number bounds that work
MAX_JOB_CHAPTERS = 2_000
# Chunks of one job: each is a database row, a task and a piece of the timeline, and every
# paragraph ends one. A book of 2,000,000 characters makes about 20,000; text of one-letter
# paragraphs would make hundreds of thousands for nothing anyone wants to hear
MAX_JOB_CHUNKS = 50_000
# The silence markup may ask for, by default (KQ_MAX_PAUSE_GAP_S, KQ_MAX_PAUSE_TOTAL_S): one gap
# (the pauses and breaks in a row, added up) and the whole job
MAX_PAUSE_GAP_S = 60.0
MAX_PAUSE_TOTAL_S = 3600.0
# A job's cast: voices by character name, and corrections of who says a quote
MAX_CAST_CHARACTERS = 500
MAX_CAST_CORRECTIONS = 10_000
