"""/v1/voices: the voices of the loaded voices file."""

from fastapi import APIRouter, Depends

from api.auth import authenticate
from api.deps import SettingsDep
from api.schemas import VoiceOut
from core.model_files import default_voice, list_voices, voice_language

router = APIRouter(prefix="/v1/voices", tags=["voices"], dependencies=[Depends(authenticate)])


@router.get("", response_model=list[VoiceOut])
def voices(settings: SettingsDep) -> list[VoiceOut]:
    default = default_voice(settings)
    return [
        VoiceOut(name=name, language=voice_language(name), default=name == default)
        for name in list_voices(settings)
    ]
