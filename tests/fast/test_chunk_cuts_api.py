"""Finding 15 as it was heard, through POST /v1/text/preview (the in-process app): a range in
the job's first sentence is said whole, with its "to", and a short first sentence is one chunk."""

from tests.support.fast import FastApi


def preview(api: FastApi, text: str) -> list[dict]:
    answer = api.http.post("/v1/text/preview", json={"text": text})
    assert answer.status_code == 200, answer.text
    return answer.json()["chunks"]


def test_a_range_in_the_first_sentence_is_said_with_its_to(api):
    chunks = preview(api, "The years 1914–1918 were dark. Few who lived then remember it now.")
    assert chunks[0]["text"] == "The years 1914–1918 were dark."
    assert "nineteen fourteen to nineteen eighteen" in chunks[0]["spoken"]


def test_a_short_first_sentence_is_one_chunk(api):
    (chunk,) = preview(api, "The war of 1914–1918.")
    assert chunk["spoken"] == "The war of nineteen fourteen to nineteen eighteen."
