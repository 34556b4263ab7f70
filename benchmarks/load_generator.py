"""An asyncio HTTP load generator for the API benchmark: requests sent open loop at a fixed
rate, or a fixed number of submissions with so many in flight, on raw keep-alive connections
cheap enough that the generator does not take the CPU of the server it measures.
"""

import asyncio
import gc
import json
import threading
import time
from collections.abc import Callable

import httpx


def summarize(latencies_s: list[float]) -> dict:
    if not latencies_s:
        return {"count": 0}
    ordered = sorted(latencies_s)

    def pct(q: float) -> float:
        rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
        return round(ordered[rank] * 1000, 2)

    return {
        "count": len(ordered),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that sends prepared requests and reads
    Content-Length responses: a few tens of microseconds a request, where httpx's async client
    takes milliseconds, so that the load generator does not take the API's CPU."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False
        self.sent = 0

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        marker = head.find(b"content-length:")
        if marker < 0:
            self.waiter.set_exception(RuntimeError("response without Content-Length"))
            return
        # Content-Length may be the last header line, which ends at ``end`` with no CRLF of its own
        line_end = head.find(b"\r\n", marker)
        length = int(head[marker + 15 : line_end if line_end >= 0 else end].strip() or b"0")
        if len(self.buffer) < end + 4 + length:
            return
        del self.buffer[: end + 4 + length]
        self.waiter.set_result(int(head[9:12]))

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    async def send(self, raw: bytes) -> int:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


class _Pool:
    """Idle connections to one host; a request with none idle opens another (an open-loop
    generator never waits for a connection). A connection is closed after
    ``requests_per_connection`` requests, as many clients come and go: with several API
    processes on one port, connections opened together can all land on one process, and new
    ones spread the load."""

    def __init__(self, base_url: str, requests_per_connection: int = 0) -> None:
        url = httpx.URL(base_url)
        self.host, self.port = url.host, url.port
        self.idle: list[_Connection] = []
        self.opened = 0
        self.limit = requests_per_connection

    async def request(self, raw: bytes) -> int:
        connection = self.idle.pop() if self.idle else None
        if connection is None or connection.closed:
            loop = asyncio.get_running_loop()
            _, connection = await loop.create_connection(_Connection, self.host, self.port)
            self.opened += 1
        status = await connection.send(raw)
        connection.sent += 1
        if self.limit and connection.sent >= self.limit:
            connection.transport.close()
        else:
            self.idle.append(connection)
        return status

    def close(self) -> None:
        for connection in self.idle:
            connection.transport.close()


# The Host of every request: a loopback name, which a server without keys requires
HOST = "127.0.0.1"


def get_request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()


def post_request(path: str, body: dict, key: str) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def _open_loop_figures(
    rate: float,
    duration_s: float,
    latencies: list[float | None],
    errors: dict[str, int],
    elapsed: float,
    cpu_before: float,
) -> dict:
    """What an open-loop run reports: the answered requests' latencies (None: an error)."""
    done = [latency for latency in latencies if latency is not None]
    return {
        "target_rate": rate,
        "duration_s": duration_s,
        "requests": len(latencies),
        "achieved_rate": round(len(done) / elapsed, 1),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "generator_cpu_cores": round((time.process_time() - cpu_before) / elapsed, 2),
        **summarize(done),
    }


async def _open_loop(
    base_url: str, paths: list[str], rate: float, duration_s: float, per_connection: int
) -> dict:
    """``rate`` requests a second for ``duration_s``, each sent at its scheduled time; latency
    counts from that time to the end of the response body."""
    count = int(rate * duration_s)
    latencies: list[float | None] = [None] * count
    send_lag: list[float] = [0.0] * count
    errors: dict[str, int] = {}
    requests = [get_request(path) for path in paths]
    pool = _Pool(base_url, per_connection)
    clock = time.perf_counter  # uvloop's loop.time() counts whole milliseconds

    async def one(i: int, scheduled: float) -> None:
        send_lag[i] = clock() - scheduled
        try:
            status = await pool.request(requests[i % len(requests)])
        except (OSError, RuntimeError) as error:
            errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
            return
        if status != 200:
            errors[str(status)] = errors.get(str(status), 0) + 1
            return
        latencies[i] = clock() - scheduled

    # Open some connections first, outside the measurement
    await asyncio.gather(*(pool.request(requests[i % len(requests)]) for i in range(16)))
    cpu_before = time.process_time()
    start = clock() + 0.2
    tasks = []
    for i in range(count):
        scheduled = start + i / rate
        delay = scheduled - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = clock() - start
    pool.close()
    return {
        **_open_loop_figures(rate, duration_s, latencies, errors, elapsed, cpu_before),
        "max_send_lag_ms": round(max(send_lag) * 1000, 2),
        "connections": pool.opened,
    }


def run_async(coroutine):
    """Run a load generator: on uvloop when installed, without the garbage collector's pauses
    (tens of milliseconds with thousands of tasks alive), which would count as the server's."""
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    gc.collect()
    gc.disable()
    try:
        return run(coroutine)
    finally:
        gc.enable()


def open_loop(
    base_url: str, paths: list[str], rate: float, duration_s: float, per_connection: int = 0
) -> dict:
    return run_async(_open_loop(base_url, paths, rate, duration_s, per_connection))


async def _submit_many(
    base_url: str,
    count: int,
    concurrency: int,
    keys: list[str],
    per_connection: int,
    body: Callable[[int], dict],
) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    next_index = 0
    pool = _Pool(base_url, per_connection)
    clock = time.perf_counter

    async def submitter() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            payload = body(index)
            started = clock()
            try:
                key = keys[index % len(keys)]
                status = await pool.request(post_request("/v1/jobs", payload, key))
            except (OSError, RuntimeError) as error:
                errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                continue
            if status == 202:
                latencies.append(clock() - started)
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1

    cpu_before = time.process_time()
    started = clock()
    await asyncio.gather(*(submitter() for _ in range(concurrency)))
    elapsed = clock() - started
    pool.close()
    return {
        "jobs": count,
        "concurrency": concurrency,
        "accepted": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "wall_s": round(elapsed, 2),
        "accepted_per_s": round(len(latencies) / elapsed, 1),
        "generator_cpu_cores": round((time.process_time() - cpu_before) / elapsed, 2),
        **summarize(latencies),
    }


def submit_many(
    base_url: str,
    count: int,
    concurrency: int,
    keys: list[str],
    body: Callable[[int], dict],
    per_connection: int = 0,
) -> dict:
    """``count`` ``POST /v1/jobs`` with ``concurrency`` in flight, the ``index``-th with
    ``body(index)`` and the key ``keys[index % len(keys)]``."""
    return run_async(_submit_many(base_url, count, concurrency, keys, per_connection, body))


def threaded_open_loop(
    base_url: str, paths: list[str], rate: float, duration_s: float, threads: int = 8
) -> dict:
    """``rate`` requests a second for ``duration_s`` from ``threads`` threads, each with an
    httpx client on a keep-alive connection, as an application's pollers send them: the
    threads share one schedule, a request goes at its scheduled time (at once when its thread
    is behind), and its latency counts from that time. Heavier than ``open_loop`` (its CPU
    competes with the server's, as a real client's on the same machine does)."""
    count = int(rate * duration_s)
    latencies: list[float | None] = [None] * count
    errors: dict[str, int] = {}
    lock = threading.Lock()
    clock = time.perf_counter
    start = clock() + 0.5

    def poller(first: int) -> None:
        with httpx.Client(base_url=base_url, timeout=10) as http:
            http.get(paths[first % len(paths)])  # connected before the schedule starts
            for i in range(first, count, threads):
                scheduled = start + i / rate
                delay = scheduled - clock()
                if delay > 0:
                    time.sleep(delay)
                try:
                    status = http.get(paths[i % len(paths)]).status_code
                except httpx.HTTPError as error:
                    status = type(error).__name__
                if status == 200:
                    latencies[i] = clock() - scheduled
                else:
                    with lock:
                        errors[str(status)] = errors.get(str(status), 0) + 1

    cpu_before = time.process_time()
    workers = [threading.Thread(target=poller, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = clock() - start
    return {
        "client": f"{threads} threads, an httpx client each",
        **_open_loop_figures(rate, duration_s, latencies, errors, elapsed, cpu_before),
    }
