"""OpenAI's own Python SDK against the running service: speech in every response format,
streamed, and the models list; bad requests get OpenAI-style 4xx errors."""

import io

import av
import numpy as np
import openai
import pytest

from tests.audio_checks import assert_speech, read_audio

# What these measure is speech, not the database: one backend is enough
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

TWO_SENTENCES = "The queue speaks like OpenAI now. Existing clients need only a new base URL."


@pytest.fixture
def client(stack):
    # The service has no keys here; the SDK insists on sending one, which is then ignored
    with openai.OpenAI(base_url=f"{stack.api_url}/v1", api_key="unused", timeout=300) as sdk:
        yield sdk


def decode(data: bytes, fmt: str) -> tuple[np.ndarray, int]:
    if fmt == "pcm":
        return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0, 24_000
    if fmt == "wav":
        header_end = data.index(b"data") + 8
        return np.frombuffer(data[header_end:], dtype="<i2").astype(np.float32) / 32768.0, 24_000
    demuxer = {"aac": "aac", "opus": "ogg"}.get(fmt, fmt)
    with av.open(io.BytesIO(data), format=demuxer) as container:
        frames = list(container.decode(audio=0))
    audio = np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32)
    if frames[0].sample_rate == 48_000:  # Opus decodes at 48 kHz: back to the model's 24 kHz
        return audio[::2], 24_000
    return audio, frames[0].sample_rate


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_speech_create_gives_playable_audio_in_each_format(client, stack, fmt):
    response = client.audio.speech.create(
        model="tts-1", voice="alloy", input=TWO_SENTENCES, response_format=fmt
    )
    audio, rate = decode(response.content, fmt)
    assert_speech(audio, rate, len(TWO_SENTENCES))
    job_id = response.response.headers["X-KQ-Job-Id"]
    with stack.client() as http:
        job = stack.wait_for_job(job_id)
        assert job["status"] == "succeeded" and job["priority"] == 9
        kept_file = http.get(f"/v1/jobs/{job_id}/audio").content
    # Kept as the job format closest to the answer's (AAC: in an m4b)
    kept, kept_rate = decode(kept_file, "mp4") if fmt == "aac" else read_audio(kept_file)
    # The streamed answer and the kept file are the same speech (codec padding aside)
    assert abs(len(audio) / rate - len(kept) / kept_rate) < 0.15


def test_streaming_variant_delivers_audio_in_pieces(client):
    pieces = []
    with client.audio.speech.with_streaming_response.create(
        model="kokoro", voice="nova", input=TWO_SENTENCES, response_format="mp3"
    ) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        for piece in response.iter_bytes(chunk_size=None):
            pieces.append(piece)
    assert len(pieces) >= 2  # sent as made, not as one body at the end
    audio, rate = decode(b"".join(pieces), "mp3")
    assert_speech(audio, rate, len(TWO_SENTENCES))


def test_voices_map_and_blend(client, stack):
    with stack.client() as http:
        voices = [v["name"] for v in http.get("/v1/voices").json()]
    alloy = client.audio.speech.create(
        model="tts-1", voice="alloy", input="One voice.", response_format="pcm"
    )
    echo = client.audio.speech.create(
        model="tts-1", voice="echo", input="One voice.", response_format="pcm"
    )
    assert alloy.content != echo.content  # two OpenAI names, two voices
    native = client.audio.speech.create(
        model="tts-1", voice=voices[0], input="One voice.", response_format="pcm"
    )
    assert len(native.content) > 24_000  # a voice of the file by its own name


def test_models_are_listed(client):
    ids = {model.id for model in client.models.list()}
    assert {"kokoro", "tts-1", "tts-1-hd"} <= ids
    assert client.models.retrieve("tts-1").id == "tts-1"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("whisper-1")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"model": "whisper-1"}, "unknown model"),
        ({"speed": 3.0}, "speed"),
        ({"input": "   "}, "empty"),
        ({"input": "x" * 4097}, "input"),
        ({"voice": "nobody"}, "unknown voice"),
        ({"response_format": "m4a"}, "response_format"),
    ],
)
def test_bad_requests_are_422_with_the_reason(client, overrides, message):
    request = {"model": "tts-1", "voice": "alloy", "input": "Fine.", "response_format": "mp3"}
    with pytest.raises(openai.UnprocessableEntityError) as raised:
        client.audio.speech.create(**(request | overrides))
    assert message in str(raised.value.body)
