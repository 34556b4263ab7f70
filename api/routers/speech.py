"""OpenAI-compatible speech: ``POST /v1/audio/speech`` and ``GET /v1/models``.

Clients written for OpenAI's API (its official SDKs included) work by pointing their base URL
at ``/v1``. A request becomes an ordinary job at the highest priority, so it shares the
workers fairly with books, and its audio streams back while it is made. OpenAI's voice names
map to voices of the loaded voices file; Kokoro voice names and blends work too.
"""

from typing import Literal

from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.auth import authenticate
from api.deps import ApiKeyDep, CeleryDep, EndEffectsDep, ReadersDep, SettingsDep
from api.errors import not_found, unprocessable
from api.live import job_audio
from api.openapi import errors, live_stream
from api.schemas import JobCreate
from api.submission import check_submission, submit_job
from core.audio.formats import StreamFormat, media_types
from core.voices.openai_names import voice_for_openai_name
from infra.model_files import list_voices
from infra.settings import Settings
from storage.db import session_factory
from storage.job_end import JobEndEffects, ending_jobs

router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[Depends(authenticate)])

MODELS = ("kokoro", "tts-1", "tts-1-hd", "gpt-4o-mini-tts")
MODEL_CREATED = 1735689600  # 2025-01-01: Kokoro-82M v1.0
SPEECH_PRIORITY = 9  # short and someone is waiting: ahead of every book


class SpeechRequest(BaseModel):
    """OpenAI's `audio.speech.create` body. Fields this service has no use for (instructions)
    are accepted and ignored, as OpenAI's own models ignore some."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(max_length=100, description=f"one of {', '.join(MODELS)}")
    input: str = Field(min_length=1, max_length=4096)
    voice: str = Field(
        max_length=500,
        description="an OpenAI voice name (mapped to a loaded voice), a voice of "
        "GET /v1/voices, or a blend such as `a:0.7,b:0.3`",
    )
    response_format: StreamFormat = StreamFormat.MP3
    speed: float = Field(default=1.0, ge=0.5, le=2.0, description="0.5 to 2.0")
    instructions: str | None = Field(default=None, max_length=4096)
    stream_format: Literal["audio"] = Field(
        default="audio", description="audio only: the response is the audio file, streamed"
    )


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = MODEL_CREATED
    owned_by: str = "kokoro-queue"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


def kokoro_voice(settings: Settings, voice: str) -> str:
    """A voice of the request as a voice of the loaded voices file (core/voices/openai_names.py)."""
    return voice_for_openai_name(voice, settings.openai_voice_map, list_voices(settings))


def _speech_job(settings: Settings, request: SpeechRequest) -> JobCreate:
    if request.model not in MODELS:
        raise unprocessable(
            f"unknown model {request.model!r}; use one of {', '.join(MODELS)}",
        )
    try:
        return JobCreate(
            text=request.input,
            voice=kokoro_voice(settings, request.voice),
            speed=request.speed,
            format=request.response_format.job_format,
            title="speech",
            priority=SPEECH_PRIORITY,
        )
    except ValidationError as error:  # e.g. input with nothing speakable
        raise RequestValidationError(error.errors(include_url=False)) from error


async def _audio_then_cleanup(
    settings: Settings, effects: JobEndEffects, job_id: str, fmt: StreamFormat, owner: str
):
    """The job's audio; a client that hangs up first cancels the rest of the job (which, as
    every cancel does, removes the audio made so far)."""
    complete = False
    try:
        async for data in job_audio(settings, effects.store, job_id, fmt):
            yield data
        complete = True
    finally:
        if not complete:
            with ending_jobs(settings.sqlalchemy_url, effects) as ends:
                ends.cancel(job_id, owner)


@router.post(
    "/audio/speech",
    response_class=StreamingResponse,
    responses={
        **live_stream(media_types("stream"), "The audio, streamed as made"),
        **errors(413, 422, 429, 503),
    },
)
def speech(
    request: SpeechRequest,
    settings: SettingsDep,
    celery: CeleryDep,
    effects: EndEffectsDep,
    principal: ApiKeyDep,
    readers: ReadersDep,
) -> StreamingResponse:
    """Text to speech, OpenAI style, through the queue at the highest priority. The response
    starts with the first chunk's audio; it is also kept as a job (`X-KQ-Job-Id`)."""
    body = _speech_job(settings, request)
    checked = readers.read_from_thread(check_submission, settings, principal, body)
    sessions = session_factory(settings.sqlalchemy_url)
    job = submit_job(sessions, celery, settings, principal, body, checked)
    fmt = request.response_format
    return StreamingResponse(
        _audio_then_cleanup(settings, effects, job.id, fmt, principal.owner),
        media_type=fmt.media_type,
        headers={"X-KQ-Job-Id": job.id, "Cache-Control": "no-cache"},
    )


@router.get("/models", response_model=ModelList)
def models() -> ModelList:
    return ModelList(data=[ModelOut(id=name) for name in MODELS])


@router.get("/models/{model}", response_model=ModelOut, responses=errors(404))
def model(model: str) -> ModelOut:
    if model not in MODELS:
        raise not_found(f"model {model}")
    return ModelOut(id=model)
