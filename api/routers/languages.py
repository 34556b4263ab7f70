"""/v1/languages: the languages a job may be read in, with the installed voices of each."""

from fastapi import APIRouter, Depends

from api.auth import authenticate
from api.deps import SettingsDep
from api.schemas import LanguageOut
from core.speech.languages import supported_languages, voice_language
from infra.model_files import list_voices

router = APIRouter(prefix="/v1/languages", tags=["voices"], dependencies=[Depends(authenticate)])


@router.get("", response_model=list[LanguageOut])
def languages(settings: SettingsDep) -> list[LanguageOut]:
    """Every `lang` a job may take (the languages the installed front ends phonemize), each
    with the voices of the loaded voices file that speak it (any voice may read any language,
    with its own accent)."""
    names = list_voices(settings)
    return [
        LanguageOut(
            code=language.code,
            name=language.name,
            voices=[name for name in names if voice_language(name) == language],
        )
        for language in supported_languages()
    ]
