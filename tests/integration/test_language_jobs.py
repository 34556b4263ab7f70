"""Languages other than English through the real API and worker: a Japanese job read by the
Japanese G2P is cut at Japanese sentence ends and lasts as long as its morae take to say; Spanish
and French jobs read by espeak-ng are speech of a plausible length."""

import pytest
from sqlalchemy import create_engine, select

from core.speech.languages import supported_codes
from core.speech.phonemizer import phonemize
from core.voices.catalog import language_warnings
from storage.models import Chunk
from tests.audio_checks import assert_speech, read_audio, rms

# What these measure is speech, not the database: one backend is enough
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Public-domain prose (Aozora Bunko): the opening of Akutagawa's 蜘蛛の糸 and of Dazai's 走れメロス
JAPANESE = (
    "ある日の事でございます。御釈迦様は極楽の蓮池のふちを、独りでぶらぶら御歩きになっ"
    "ていらっしゃいました。池の中に咲いている蓮の花は、みんな玉のようにまっ白で、その"
    "まん中にある金色の蕊からは、何とも云えない好い匂が、絶間なくあたりへ溢れて居りま"
    "す。極楽は丁度朝なのでございましょう。\n\n"
    "メロスは激怒した。必ず、かの邪智暴虐の王を除かなければならぬと決意した。メロスに"
    "は政治がわからぬ。メロスは、村の牧人である。笛を吹き、羊と遊んで暮して来た。けれ"
    "ども邪悪に対しては、人一倍に敏感であった。"
)
SPANISH = "En un lugar de la Mancha, de cuyo nombre no quiero acordarme, vivía un hidalgo."
FRENCH = "Longtemps, je me suis couché de bonne heure. Parfois, mes yeux se fermaient vite."
# Japanese is said at about 6 to 10 morae a second; the bounds leave room for the pauses
# between sentences and for a slow or quick voice
MORAE_PER_SECOND = (4.0, 12.0)
# A mora of the G2P's phonemes: a vowel (with its consonants), a long mark, a geminate stop
# or a syllable-final n
_MORA_MARKS = set("aiɯeoɨːʔɴ")


def submit(http, text: str, **fields) -> dict:
    response = http.post("/v1/jobs", json={"text": text, **fields})
    assert response.status_code == 202, response.text
    return response.json()


def finished_audio(stack, http, job: dict):
    done = stack.wait_for_job(job["id"])
    assert done["status"] == "succeeded", done
    return read_audio(http.get(f"/v1/jobs/{job['id']}/audio").content)


def chunk_texts(stack, job_id: str) -> list[str]:
    engine = create_engine(stack.database_url)
    with engine.connect() as db:
        rows = db.scalars(
            select(Chunk.text).where(Chunk.job_id == job_id).order_by(Chunk.index)
        ).all()
    engine.dispose()
    return list(rows)


@pytest.mark.skipif("ja" not in supported_codes(), reason="no Japanese front end")
def test_japanese_and_espeak_languages_are_spoken(stack):
    with stack.client() as http:
        # All at once: the worker runs two chunks at a time
        japanese = submit(http, JAPANESE, lang="ja", voice="jf_alpha")
        spanish = submit(http, SPANISH, lang="es")
        french = submit(http, FRENCH, lang="fr-fr")
        assert japanese["warnings"] == []
        # The default voice (of the embedded file: Japanese) may read Spanish, and is said to
        assert spanish["warnings"] == language_warnings([spanish["voice"]], "es")

        audio, rate = finished_audio(stack, http, japanese)
        seconds = len(audio) / rate
        morae = sum(char in _MORA_MARKS for char in phonemize(JAPANESE, "ja"))
        slowest, quickest = MORAE_PER_SECOND
        assert morae / quickest <= seconds <= morae / slowest, f"{seconds:.1f} s for {morae} morae"
        assert rms(audio) > 0.01
        texts = chunk_texts(stack, japanese["id"])
        assert len(texts) >= 3
        assert "".join(texts) == JAPANESE.replace("\n\n", "")  # nothing dropped or reordered
        assert all(text.endswith("。") for text in texts), texts

        for job, text in ((spanish, SPANISH), (french, FRENCH)):
            audio, rate = finished_audio(stack, http, job)
            assert_speech(audio, rate, len(text))
