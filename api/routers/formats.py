"""/v1/formats: the audio formats, from the one table the service itself uses."""

from fastapi import APIRouter, Depends

from api.auth import authenticate
from api.schemas import FormatOut
from core.audio.formats import FORMATS

router = APIRouter(prefix="/v1/formats", tags=["voices"], dependencies=[Depends(authenticate)])


@router.get("", response_model=list[FormatOut])
async def formats() -> list[FormatOut]:
    """Every audio format with its file extension, media type and bit rate, and where it may
    be used: a job's file, a live stream, a voice sample."""
    return [
        FormatOut(
            name=f.name,
            label=f.label,
            extension=f.extension,
            media_type=f.media_type,
            lossy=f.lossy,
            bit_rate=f.bit_rate,
            job=f.job,
            stream=f.stream,
            sample=f.sample,
        )
        for f in FORMATS.values()
    ]
