"""The ``epub_audio`` task: a job's audio transcoded once to AAC in MP4 for its read-along EPUB
(EPUB 3 reading systems play MP3 and AAC, not WAV, FLAC or Opus).

The API orders it the first time a job's EPUB is asked for (storage/epub_cache.py says how the
order, and a failure, are told through storage). The file is decoded and encoded a block at a
time, so memory stays flat however long the book; its time is the decoder's and the encoder's,
about 200 times faster than real time. Positions stay where the job's timings put them: the
decoder drops the source's priming, and the MP4 records the encoder's for players to skip.
"""

import logging

from core.jobs.states import JobStatus
from storage.db import transaction
from storage.epub_cache import (
    EPUB_AUDIO_TASK,
    TRANSCODED_FORMAT,
    end_order,
    epub_prefix,
    record_failure,
    transcoded_audio_key,
)
from storage.job_queries import get_job
from worker.app import app
from worker.audio import encode_run
from worker.container_join import decoded_blocks
from worker.tasks import database_url, describe, process_store

log = logging.getLogger(__name__)


@app.task(name=EPUB_AUDIO_TASK)
def epub_audio(job_id: str) -> str:
    """Idempotent: audio already made is kept; two runs at once each write the whole file, the
    last one staying."""
    store = process_store()
    key = transcoded_audio_key(job_id)
    try:
        if store.exists(key):
            return "cached"
        with transaction(database_url()) as session:
            job = get_job(session, job_id)
            source = job.audio_key if job and job.status == JobStatus.SUCCEEDED else None
        if source is None:
            return "gone"
        with store.local_copy(source) as path, store.writer(key, suffix=".m4a") as tmp:
            encode_run(tmp, TRANSCODED_FORMAT, ((block, 0) for block in decoded_blocks(path)))
        with transaction(database_url()) as session:
            if get_job(session, job_id) is None:  # deleted meanwhile: its files went before this
                store.delete_prefix(epub_prefix(job_id))
                return "gone"
        log.info("job %s: audio transcoded for its EPUB", job_id)
        return "made"
    except Exception as error:
        # Told to the API, which answers the next request for the EPUB with it (and then
        # orders again); the task itself is not retried
        record_failure(store, job_id, describe(error))
        raise
    finally:
        end_order(store, job_id)
