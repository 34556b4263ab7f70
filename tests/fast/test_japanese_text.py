"""Japanese text, written without spaces: where its sentences and clauses end, what it costs in
tokens, and how it is cut into chunks (core/text/sentences.py, core/text/chunking.py,
core/text/chunk_plan.py).

The property tests pin down the same promise as English's (tests/fast/test_text.py): nothing is
dropped or reordered, every chunk fits its budget, and the estimate is safe against what the
Japanese G2P really makes of the text.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.speech.languages import supported_codes
from core.speech.phonemizer import phonemize, token_count
from core.text.chunk_plan import plan_chunks
from core.text.chunking import Pause, chunk_text
from core.text.sentences import MODEL_TOKEN_LIMIT, estimate_tokens, normalize_text, sentence_ends
from tests.fast.test_text import assert_well_formed

pytestmark = pytest.mark.skipif(
    "ja" not in supported_codes(), reason="the Japanese front end (pyopenjtalk) is not installed"
)

# Public-domain prose (Aozora Bunko): Akutagawa, Natsume, Miyazawa, Dazai
PROSE = (
    "ある日の事でございます。御釈迦様は極楽の蓮池のふちを、独りでぶらぶら御歩きになっ"
    "ていらっしゃいました。池の中に咲いている蓮の花は、みんな玉のようにまっ白で、その"
    "まん中にある金色の蕊からは、何とも云えない好い匂が、絶間なくあたりへ溢れて居りま"
    "す。極楽は丁度朝なのでございましょう。\n\n"
    "親譲りの無鉄砲で小供の時から損ばかりしている。小学校に居る時分学校の二階から飛び"
    "降りて一週間ほど腰を抜かした事がある。なぜそんな無闇をしたと聞く人があるかも知れ"
    "ぬ。別段深い理由でもない。\n\n"
    "二人の若い紳士が、すっかりイギリスの兵隊のかたちをして、ぴかぴかする鉄砲をかつい"
    "で、白熊のような犬を二疋つれて、だいぶ山奥の、木の葉のかさかさしたとこを、こんな"
    "ことを云いながら、あるいておりました。「ぜんたい、ここらの山は怪しからんね。鳥も"
    "獣も一疋も居やがらん。」\n\n"
    "メロスは激怒した。必ず、かの邪智暴虐の王を除かなければならぬと決意した。メロスに"
    "は政治がわからぬ。メロスは、村の牧人である。笛を吹き、羊と遊んで暮して来た。けれ"
    "ども邪悪に対しては、人一倍に敏感であった。\n\n"
    "二〇二四年三月十二日、午後三時に東京駅で会いましょう。料金は1,500円です。気"
    "温は25度でした。"
)

# What Japanese text is made of, for the property tests: kana, kanji, the long mark, its
# punctuation and brackets, and some of what else turns up in it
KANA = (
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらり"
    "るれろわをんがぎぐげござじずぜぞだでどばびぶべぼぱぴぷぺぽゃゅょっアイウエオカキ"
    "クケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモラリルレロンガギグゲゴャ"
    "ュョッー"
)
KANJI = "日本語人時事山川水火木金土月年学校生先私何今見言思行来出入上下中大小長高"
MARKS = "。、！？!?「」『』（）…・，"
OTHER = "0123456789ABCabc 　\n"
japanese_text = st.text(alphabet=KANA + KANJI + MARKS + OTHER, max_size=600)


def assert_cover(text: str, chunks, budget: int) -> None:
    """Chunks are, in order, consecutive slices of text with only whitespace between them,
    each within its budget: concatenated, they give back the text (whitespace aside)."""
    position = 0
    for chunk in chunks:
        assert chunk.text and chunk.text == chunk.text.strip()
        assert chunk.tokens == estimate_tokens(chunk.text, "ja") <= budget
        at = text.find(chunk.text, position)
        assert at >= 0 and text[position:at].strip() == "", f"chunk {chunk.index} out of order"
        position = at + len(chunk.text)
    assert text[position:].strip() == ""
    assert "".join("".join(c.text.split()) for c in chunks) == "".join(text.split())


def test_sentences_end_at_japanese_terminators_and_their_closing_quotes() -> None:
    text = "雨だ。風も強い！本当か？「行こう。」彼は言った。"
    ends = sentence_ends(text, "ja")
    assert [text[end - 2 : end] for end in ends] == ["だ。", "い！", "か？", "。」", "た。"]


def test_a_quote_followed_by_to_goes_on_in_the_same_sentence() -> None:
    text = "「行こう。」と彼は言った。"
    assert sentence_ends(text, "ja") == [len(text)]


def test_kana_and_kanji_weigh_what_the_g2p_makes_of_them() -> None:
    assert estimate_tokens("あ", "ja") == 3
    assert estimate_tokens("日", "ja") == 5
    assert estimate_tokens("日本語", "ja") < estimate_tokens("日本語")  # not espeak's en-us


@pytest.mark.parametrize("paragraph", PROSE.split("\n\n"))
def test_the_estimate_is_safe_against_the_g2p(paragraph: str) -> None:
    for sentence_or_clause in paragraph.replace("、", "、\n").replace("。", "。\n").split("\n"):
        if sentence_or_clause:
            phonemes = phonemize(sentence_or_clause, "ja")
            assert token_count(phonemes) <= estimate_tokens(sentence_or_clause, "ja")


def test_prose_chunks_end_at_sentence_ends_and_fit_the_model() -> None:
    text = normalize_text(PROSE)
    chunks = plan_chunks(
        [text], lang="ja", markup="none", check_voice=str, max_tokens=250, first_chunk_tokens=40
    )
    assert_cover(text, chunks, 250)
    assert chunks[0].text == "ある日の事でございます。"  # the short first chunk: one sentence
    for chunk in chunks:
        assert chunk.text.endswith(("。", "」")) or chunk.pause_after is Pause.CLAUSE
        assert token_count(phonemize(chunk.text, "ja")) <= min(chunk.tokens, MODEL_TOKEN_LIMIT)
    assert sum(c.pause_after is Pause.CLAUSE for c in chunks) <= 2  # sentences pack whole


def test_a_long_sentence_splits_at_commas_then_between_characters() -> None:
    clause = "長い長い文が続いて、"  # 37 tokens: two fit a budget of 100
    text = clause * 12 + "あ" * 200 + "。"
    chunks = chunk_text(text, max_tokens=100, lang="ja")
    assert_cover(text, chunks, 100)
    assert [c.text for c in chunks[:6]] == [clause * 2] * 6
    tail = [len(c.text) for c in chunks[6:]]  # 602 tokens without a comma: 7 equal parts
    assert len(tail) == 7 and max(tail) - min(tail) <= 2, tail


@settings(max_examples=300, deadline=None)
@given(japanese_text, st.integers(min_value=16, max_value=300))
def test_japanese_chunking_drops_and_reorders_nothing(text: str, budget: int) -> None:
    normal = normalize_text(text)
    chunks = chunk_text(normal, max_tokens=budget, lang="ja")
    assert_well_formed(chunks)
    assert_cover(normal, chunks, budget)


@settings(max_examples=100, deadline=None)
@given(japanese_text, st.integers(min_value=20, max_value=300))
def test_japanese_chunk_plans_drop_and_reorder_nothing(text: str, budget: int) -> None:
    normal = normalize_text(text)
    chunks = plan_chunks(
        [normal], lang="ja", markup="none", check_voice=str, max_tokens=budget,
        first_chunk_tokens=20,
    )  # fmt: skip
    assert_cover(normal, chunks, budget)
