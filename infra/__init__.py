"""Infrastructure every process shares: the settings object, the Celery configuration, and
the Kokoro model and voices files (which, where from, how they are downloaded)."""
