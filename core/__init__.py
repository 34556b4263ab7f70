"""What the API, the workers and the storage layer share: pure logic, no I/O of its own.

Rooms: ``text`` (books, markup, the normalizer, chunking), ``speech`` (languages, phonemes,
pronunciations, word timings), ``voices`` (voice specs and blends, the catalog, samples),
``audio`` (the format table, stream encoding, loudness, the timeline, subtitles) and ``jobs``
(states and transitions, ids, webhook bodies, callback-URL rules). Settings, the Celery
configuration and the model files live in ``infra``.
"""
