"""Reading what clients send (book files, JSON bodies of megabytes), and planning it into
chunks, previews and casts, in processes of the API's own: a hostile upload costs its own
process's CPU, not the event loop's.

A worker thread is not enough: the reading is mostly regular-expression and parser calls in C,
each holding the GIL for tens to hundreds of milliseconds on a text of megabytes, and the event
loop waits for the GIL behind every one of them (a 10 MiB upload of ``[``\\ s held another
client's ``GET /healthz`` for 300-650 ms). A process has a GIL of its own.

``KQ_API_READER_PROCESSES`` processes (spawned, never forked: the API process holds threads and
connections) are started with the app and kept warm; 0 reads in the API's worker threads, as the
in-process tests do. A reading process that dies (the system's out-of-memory killer, say) is
replaced, and the request it was reading is a 503 that asks for a retry.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

import anyio.from_thread
from starlette.concurrency import run_in_threadpool

from api.errors import service_unavailable

T = TypeVar("T")

# Retry-After of the 503 for a request whose reading process died: a new one starts in about this
RESTART_RETRY_AFTER_S = 2
# How often a reading process looks whether the API process that started it is still there
PARENT_CHECK_S = 1.0


def _start_reading(api_pid: int) -> None:
    """Each reading process's start: it ends when the API process is gone (killed, it cannot
    stop its pool: the readers would live on, orphaned, each holding its memory), then warms up."""

    def watch() -> None:
        while os.getppid() == api_pid:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="kq-api-watch", daemon=True).start()
    _warm_up()


def _warm_up() -> None:
    """What reading needs, loaded before the first request that needs it: the book readers and
    the job schema, the chunk planner and the spoken-form normalizer (a second or more)."""
    import api.book_readers  # noqa: F401
    import api.schemas  # noqa: F401
    import core.speech.spoken  # noqa: F401
    import core.text.chunk_plan  # noqa: F401


class ReaderProcesses:
    """The API's reading processes (started on first use when the app's start-up did not)."""

    def __init__(self, processes: int):
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """The processes started and warming up; with none, the API process itself warms up
        beside the running server (its first answers do not wait for it)."""
        if not self.processes:
            threading.Thread(target=_warm_up, name="kq-warm-up", daemon=True).start()
        elif self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_reading,
                initargs=(os.getpid(),),
            )
            for _ in range(self.processes):  # each started (on demand) before the first upload
                self._pool.submit(int)

    def stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    async def read(self, reader: Callable[..., T], *args) -> T:
        """``reader(*args)`` in a reading process (in a worker thread when there are none)."""
        if not self.processes:
            return await run_in_threadpool(reader, *args)
        if self._pool is None:
            self.start()
        pool = self._pool
        try:
            # An HTTPException or RequestValidationError raised there is raised here
            return await asyncio.get_running_loop().run_in_executor(pool, reader, *args)
        except BrokenProcessPool as error:
            if self._pool is pool:  # not one that a request after the break started
                self.stop()  # the next request starts a new set
            raise service_unavailable(
                "the process reading this request stopped before it was done (it may have run "
                "out of memory); nothing was stored: send it again, or a smaller file",
                RESTART_RETRY_AFTER_S,
            ) from error

    def read_from_thread(self, reader: Callable[..., T], *args) -> T:
        """``read`` for a sync route, which runs in one of the API's worker threads."""
        if not self.processes:
            return reader(*args)  # already off the event loop
        return anyio.from_thread.run(self.read, reader, *args)
