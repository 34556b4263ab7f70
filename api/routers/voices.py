"""/v1/voices: the voices of the loaded voices file, with what their names say of them, and a
short sample of each (or of a blend) to hear before choosing."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import authenticate
from api.deps import ApiKeyDep, CeleryDep, SettingsDep, StoreDep
from api.openapi import errors
from api.sample_slots import RedisSampleSlots, SampleSlots
from api.schemas import LanguageCode, Speed, VoiceOut
from api.voice_samples import SAMPLE_HEADER, fetch_sample, plan_sample
from core.audio.formats import SampleFormat
from core.speech.lexicon import MAX_PHONEMES_CHARS
from core.voices.catalog import voice_info
from core.voices.samples import SAMPLE_MAX_CHARS
from infra.model_files import default_voice, list_voices

router = APIRouter(prefix="/v1/voices", tags=["voices"], dependencies=[Depends(authenticate)])

_SAMPLE_AUDIO = {
    fmt.media_type: {"schema": {"type": "string", "format": "binary"}} for fmt in SampleFormat
}
SAMPLE_RESPONSES = {
    200: {
        "description": "The sample, in the format asked for",
        "content": _SAMPLE_AUDIO,
        "headers": {
            SAMPLE_HEADER: {
                "description": "`cached`: kept from an earlier request; `made`: made just now",
                "schema": {"enum": ["cached", "made"]},
            }
        },
    },
    **errors(
        422,
        (
            429,
            "This key is already waiting for `KQ_MAX_SAMPLES_IN_FLIGHT_PER_KEY` samples; "
            "retry after `Retry-After` seconds",
        ),
        (
            503,
            "No worker made the sample within `KQ_SAMPLE_WAIT_S`, or the job queue is "
            "unreachable; retry after `Retry-After` seconds",
        ),
    ),
}


async def sample_slots(request: Request) -> SampleSlots:
    """The count of every key's samples in flight, in the broker's Redis: made on first use,
    then kept with the app (tests put a stand-in there)."""
    state = request.app.state
    slots = getattr(state, "sample_slots", None)
    if slots is None:
        settings = state.settings
        slots = state.sample_slots = RedisSampleSlots(settings.redis_url, settings.queue)
    return slots


@router.get("", response_model=list[VoiceOut])
def voices(settings: SettingsDep) -> list[VoiceOut]:
    """Each voice's language (as `lang` takes it), gender, Kokoro quality grade and whether it
    is the default."""
    default = default_voice(settings)
    out = []
    for name in list_voices(settings):
        info = voice_info(name)
        out.append(
            VoiceOut(
                name=name,
                language=info.language.code if info.language else None,
                language_name=info.language.name if info.language else None,
                gender=info.gender,
                grade=info.grade,
                default=name == default,
            )
        )
    return out


@router.get("/{voice}/sample", response_class=Response, responses=SAMPLE_RESPONSES)
async def voice_sample(
    settings: SettingsDep,
    principal: ApiKeyDep,
    celery: CeleryDep,
    store: StoreDep,
    slots: Annotated[SampleSlots, Depends(sample_slots)],
    voice: Annotated[
        str, Path(description="a voice of GET /v1/voices, or a blend such as `a:0.7,b:0.3`")
    ],
    text: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=SAMPLE_MAX_CHARS,
            description="what the voice says; default: a short sentence in its language",
        ),
    ] = None,
    speed: Speed = 1.0,
    fmt: Annotated[SampleFormat, Query(alias="format")] = SampleFormat.WAV,
    lang: Annotated[
        LanguageCode | None,  # type: ignore[valid-type]
        Query(description="the text's language; default: the voice's own, else en-us"),
    ] = None,
    phonemes: Annotated[
        str | None,
        Query(
            max_length=MAX_PHONEMES_CHARS,
            description="say the whole `text` with these Kokoro IPA phonemes (a pronunciation "
            "heard before it is saved)",
        ),
    ] = None,
) -> Response:
    """A few seconds of the voice, made by a worker at the top priority and kept: the same
    request again is served from storage (`X-KQ-Sample: cached`) until the model or voices
    files change. A key waits for at most `KQ_MAX_SAMPLES_IN_FLIGHT_PER_KEY` samples at once;
    one of its own text is kept for it alone, one of the default text for every key."""
    owner = principal.owner
    order = await run_in_threadpool(
        plan_sample, settings, owner, voice, text, speed, lang, fmt, phonemes
    )
    sample = await fetch_sample(settings, celery, store, slots, owner, order)
    return Response(
        sample.audio, media_type=sample.media_type, headers={SAMPLE_HEADER: sample.source}
    )
