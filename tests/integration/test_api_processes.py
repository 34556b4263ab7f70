"""`kokoro-queue api --workers 2`: gunicorn serves from two processes and stops gracefully."""

import contextlib
import signal
import subprocess
import sys
import threading
import time

import httpx

from tests.support.stack import ROOT, free_port, stop_process, wait_for


def test_two_api_processes_serve_and_sigterm_finishes_inflight_requests(stack, tmp_path):
    port = free_port()
    env = {**stack.env, "KQ_PORT": str(port)}
    log = tmp_path / "gunicorn.log"
    master = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "api", "--workers", "2"], cwd=ROOT, env=env,
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        pids: set[int] = set()

        def both_answered():
            assert master.poll() is None, log.read_text()
            # A new connection each time, so the kernel may hand it to either process
            with contextlib.suppress(httpx.HTTPError):
                pids.add(httpx.get(f"{url}/healthz", timeout=2).json()["pid"])
            return len(pids) == 2

        wait_for(both_answered, 60, "two API processes to answer", interval_s=0.05)
        assert master.pid not in pids  # the workers answer, the master supervises

        # A request still uploading when SIGTERM arrives completes normally
        result: dict = {}
        pieces_sent = 0
        uploading = threading.Event()  # the server has the request's first pieces

        def slow_upload():
            def body():
                nonlocal pieces_sent
                yield b'{"text": "'
                for _ in range(6):
                    # Resumed: httpx has sent what this yielded last
                    pieces_sent += 1
                    if pieces_sent == 2:
                        uploading.set()
                    time.sleep(0.5)
                    yield b"Graceful shutdown lets this request finish. "
                pieces_sent += 1
                yield b'"}'

            with httpx.Client(base_url=url, timeout=30) as http:
                result["response"] = http.post(
                    "/v1/jobs", content=body(), headers={"content-type": "application/json"}
                )

        uploader = threading.Thread(target=slow_upload)
        uploader.start()
        assert uploading.wait(timeout=30), "the upload did not start"
        master.send_signal(signal.SIGTERM)
        assert pieces_sent < 7  # the signal came mid-upload
        uploader.join(timeout=60)
        assert result["response"].status_code == 202, result["response"].text
        assert master.wait(timeout=30) == 0
        job_id = result["response"].json()["id"]
    finally:
        stop_process(master)
    assert stack.wait_for_job(job_id)["status"] == "succeeded"  # the job was stored and queued
