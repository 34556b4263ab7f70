"""/v1/voices: the voices of the loaded voices file, with what their names say of them."""

from fastapi import APIRouter, Depends

from api.auth import authenticate
from api.deps import SettingsDep
from api.schemas import VoiceOut
from core.model_files import default_voice, list_voices
from core.voice_catalog import voice_info

router = APIRouter(prefix="/v1/voices", tags=["voices"], dependencies=[Depends(authenticate)])


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
