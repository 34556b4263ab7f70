"""GET /v1/formats: the format table as clients (the web app among them) read it."""

from core.audio.formats import FORMATS


def test_the_formats_route_answers_the_table(api):
    answer = api.http.get("/v1/formats")
    assert answer.status_code == 200
    listed = {f["name"]: f for f in answer.json()}
    assert list(listed) == list(FORMATS)
    assert listed["opus"]["extension"] == "ogg" and listed["opus"]["media_type"] == "audio/ogg"
    assert [name for name, f in listed.items() if f["job"]] == ["wav", "flac", "mp3", "opus", "m4b"]
    assert listed["m4b"]["lossy"] and not listed["flac"]["lossy"]
