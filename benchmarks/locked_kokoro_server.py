"""The usual single-process way to serve kokoro-onnx, as a baseline for benchmarks/.

One process holds one ``Kokoro`` and serves ``POST /v1/audio/speech`` (OpenAI's body) by calling
``Kokoro.create`` under a lock, then answering with the whole WAV: what Kokoro-FastAPI does with
its single model instance. Concurrent requests wait for the lock in the server's thread pool.
kokoro-onnx keeps its own session defaults (threads and all), as a user of it would.

    .venv/bin/python benchmarks/locked_kokoro_server.py --port 8880 \\
        --model MODEL.onnx --voices VOICES.bin --voice af_heart
"""

import argparse
import io
import sys
import threading
import wave

import numpy as np

# 16-bit PCM, mono: the WAV the service streams too (core/audio/stream.py)
SAMPLE_WIDTH_BYTES = 2
WARMUP_TEXT = "Warming up."


def wav_bytes(audio: np.ndarray, rate: int) -> bytes:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(SAMPLE_WIDTH_BYTES)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def make_app(model: str, voices: str, default_voice: str):
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import Response
    from kokoro_onnx import Kokoro
    from pydantic import BaseModel, Field

    kokoro = Kokoro(model, voices)
    known_voices = set(kokoro.get_voices())
    if default_voice not in known_voices:
        raise SystemExit(f"voice {default_voice!r} is not in {voices}")
    kokoro.create(WARMUP_TEXT, voice=default_voice)  # graph initialization is not a request's
    lock = threading.Lock()  # one session, one inference at a time
    app = FastAPI(title="kokoro-onnx behind a lock")

    class SpeechRequest(BaseModel):
        model: str = "kokoro"
        input: str = Field(min_length=1, max_length=4096)
        voice: str | None = None  # an unknown name (an OpenAI one) gets the default voice
        speed: float = Field(default=1.0, ge=0.5, le=2.0)
        response_format: str = "wav"

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.post("/v1/audio/speech")
    def speech(request: SpeechRequest) -> Response:
        if request.response_format != "wav":
            raise HTTPException(422, "this baseline answers wav only")
        voice = request.voice if request.voice in known_voices else default_voice
        with lock:
            audio, rate = kokoro.create(request.input, voice=voice, speed=request.speed)
        return Response(wav_bytes(audio, rate), media_type="audio/wav")

    return app


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--voices", required=True)
    parser.add_argument("--voice", required=True, help="the default voice")
    args = parser.parse_args(argv)
    app = make_app(args.model, args.voices, args.voice)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
