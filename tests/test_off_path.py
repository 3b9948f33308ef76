"""Off-path reasoning (``trace.off_path``, ``max_off_path=``), where the answer was
first reached (``trace.answer_reached_at``, ``max_after_answer=``), and the hesitation
markers a budget failure names.

The traces are literal: the small Qwen3 of ``example_tests/models/tiny-qwen3`` as its
snapshots hold them (English and Japanese, with and without the population clause), and
sentences of the seed experiment's DeepSeek and Qwen3-Max traces."""

from __future__ import annotations

import json

import pytest

from pytest_reasoning import Trace, assert_reasoning_budget
from pytest_reasoning.snapshots import serialize_trace
from pytest_reasoning.text.offpath import answer_reached_at, off_path

PATH = [["Dallas", "ダラス"], ["Texas", "テキサス"], ["Austin", "オースティン"]]

EN_PROMPT = ("In the United States, what is the capital of the state that contains Dallas, "
             "a big city of about 1.3 million people?")
EN_PATH_SENTENCES = ["The user asks about Dallas in the United States.",
                     "It is a big city of about 1.3 million people.", "Dallas is a city in Texas."]
EN_DETOUR = ["Dallas is also home to the Dallas Cowboys, an NFL team.", "Wait, the team does not matter here."]
EN_END = ["The capital of Texas is Austin.", "So the answer is Austin."]
EN_ANSWER = "The capital of Texas, the state that contains Dallas, is Austin."

JA_PROMPT = "アメリカ合衆国において、人口が約130万人の大都市であるダラスを含む州の州都の名前をおしえてください。"
JA_PATH_SENTENCES = ["ユーザーはアメリカ合衆国のダラスについて質問しています。", "人口は約130万人です。", "ダラスはテキサス州の都市です。"]
JA_DETOUR = ["ダラスにはNFLチームのダラス・カウボーイズがあります。", "ちょっと待ってください、チームは関係ありません。"]
JA_END = ["テキサス州の州都はオースティンです。", "したがって、答えはオースティンです。"]
JA_ANSWER = "ダラスを含む州はテキサス州で、州都はオースティンです。"


def trace(prompt, sentences, answer, sep=" "):
    return Trace(messages=[{"role": "user", "content": prompt}], reasoning=sep.join(sentences), answer=answer)


def english(detour=True):
    return trace(EN_PROMPT, EN_PATH_SENTENCES + (EN_DETOUR if detour else []) + EN_END, EN_ANSWER)


def japanese(detour=True):
    return trace(JA_PROMPT, JA_PATH_SENTENCES + (JA_DETOUR if detour else []) + JA_END, JA_ANSWER, sep="")


# -- off the path ----------------------------------------------------------------------
@pytest.mark.parametrize(("make", "detour"), [(english, EN_DETOUR), (japanese, JA_DETOUR)], ids=["en", "ja"])
def test_the_detour_sentences_are_off_the_path_and_the_path_sentences_are_not(make, detour):
    found = make().off_path(PATH)
    assert [s.text for s in found] == detour
    assert [s.index for s in found] == [3, 4]
    assert found.total_sentences == 7
    assert found.share == pytest.approx(sum(map(len, detour)) / found.total_chars)
    assert 0.3 < found.share < 0.4
    assert make(detour=False).off_path(PATH).sentences == ()
    assert make(detour=False).off_path(PATH).share == 0.0


def test_the_new_terms_say_why():
    cowboys, team = english().off_path(PATH)
    assert cowboys.new_terms == ("home", "cowboy", "nfl", "team") and cowboys.novelty == pytest.approx(4 / 6)
    assert team.new_terms == ("team",)
    nfl, _ = japanese().off_path(PATH)
    assert nfl.new_terms == ("nfl", "チーム", "カウボーイズ")


def test_anchors_come_from_the_prompt_the_path_and_the_answer():
    reasoning = "Dallas is in Texas. The Longhorns play in Austin."
    question = "What is the capital of Texas, the state with Dallas?"
    assert [s.index for s in off_path(reasoning, prompt=[question])] == [1]
    assert [s.index for s in off_path(reasoning, prompt=["Dallas?"])] == [0, 1]  # Texas is new too
    # the answer, the path or extra anchors bring the second sentence onto the path
    assert not off_path(reasoning, prompt=[question], answer=["Longhorns, Austin"])
    assert not off_path(reasoning, path=[["Dallas"], ["Texas"], ["Longhorn"], ["Austin"]])
    assert not off_path(reasoning, prompt=["Dallas"], anchors=["Texas", "Longhorns", "Austin"])


def test_seed_sentences_on_and_off_the_path():
    """Sentences of the seed's DeepSeek trace on the precise prompt (the NFL detour, the
    neighbouring states, the other capitals) against its path sentences."""
    prompt = "アメリカ合衆国において、人口が約130万人の大都市であるダラスを含む州の州都の名前をおしえてください。"
    on = ["まず、ダラスがどの州にあるかを思い出す必要があります。", "私の記憶では、ダラスはテキサス州の主要都市です。",
          "テキサス州の州都はオースティンであることは知っています。", "でも、確認させてください。"]
    off = ["例えば、ダラスはオクラホマ州かルイジアナ州にあるのでしょうか？",
           "ダラス・カウボーイズはテキサス州を本拠地とするNFLチームなので、それも納得できます。",
           "同様に、ロサンゼルスはカリフォルニア州の州都ではなく、サクラメントです。"]
    found = off_path("".join(on[:2] + off[:2] + on[2:] + off[2:]), prompt=[prompt], path=PATH)
    assert [s.text for s in found] == off


def test_chinese_reads_without_a_segmenter():
    prompt = "在美国，包含达拉斯的州的首府叫什么名字？"
    reasoning = "用户问的是包含达拉斯的州的首府。达拉斯在德克萨斯州。达拉斯牛仔队是一支橄榄球队。德克萨斯州的首府是奥斯汀。"
    found = off_path(reasoning, prompt=[prompt], path=[["达拉斯"], ["德克萨斯"], ["奥斯汀"]])
    assert [s.text for s in found] == ["达拉斯牛仔队是一支橄榄球队。"]


def test_full_width_and_case_do_not_matter():
    found = off_path("ＤＡＬＬＡＳ is in ＴＥＸＡＳ. The COWBOYS play football.", prompt=["dallas"], path=[["Texas"]])
    assert [s.index for s in found] == [1]


def test_no_reasoning_and_a_bad_threshold():
    assert off_path("", prompt=["q"]).share == 0.0
    assert Trace().off_path().total_sentences == 0
    with pytest.raises(ValueError, match=r"off_path\(threshold=0\): use a share in \(0, 1\]"):
        off_path("text", threshold=0)


# -- where the answer was first reached -----------------------------------------------
@pytest.mark.parametrize("make", [english, japanese], ids=["en", "ja"])
def test_answer_reached_at_the_first_sentence_naming_it(make):
    t = make()
    at = t.answer_reached_at(["Austin", "オースティン"])
    sentences = t.sentences()
    assert (at.sentence_index, at.sentences) == (5, 7)
    assert at.term in ("Austin", "オースティン")
    assert at.reached == t.reasoning.index(sentences[5]) + len(sentences[5])
    assert at.fraction == pytest.approx(at.reached / len(t.reasoning))
    assert at.after == pytest.approx(len(t.reasoning[at.reached:]) / len(t.reasoning))
    assert at.token_fraction is None


def test_answer_reached_at_by_tokens_and_never():
    t = english()
    words = t.answer_reached_at("Austin", count_tokens=lambda s: len(s.split()))
    assert words.token_fraction == pytest.approx(len(t.reasoning[:words.reached].split()) / len(t.reasoning.split()))
    assert words.after == pytest.approx(1 - words.token_fraction)
    assert t.answer_reached_at(["Sacramento"]) is None
    with pytest.raises(ValueError, match="answer_reached_at needs the answer's terms"):
        answer_reached_at("text", [])


# -- the budget keywords -----------------------------------------------------------------
def test_max_off_path_passes_fails_and_is_recorded():
    plain, detour = english(detour=False), english()
    assert_reasoning_budget(plain, max_off_path=0.1, path=PATH)
    with pytest.raises(AssertionError) as info:
        assert_reasoning_budget(detour, max_off_path=0.2, path=PATH)
    lines = str(info.value).splitlines()
    assert lines[0] == "reasoning is 34% off the path (2 of 7 sentences, 91 of 265 characters) > max_off_path=0.2"
    assert lines[1] == ("  > sentence 4: Dallas is also home to the Dallas Cowboys, an NFL team. "
                        "(new: home, cowboy, nfl, team)")
    assert lines[2] == "  > sentence 5: Wait, the team does not matter here. (new: team)"
    assert detour.checks.to_dict()["budget"] == {"not truncated": True, "off path <= 0.2": False}
    assert json.loads(serialize_trace(detour))["checks"]["budget"]["off path <= 0.2"] is False


def test_max_after_answer_passes_fails_and_is_recorded():
    t = japanese()
    with pytest.raises(AssertionError, match=r"^reasoning went on for 13% after first reaching the answer "
                                             r"\('オースティン', sentence 6 of 7, 87% of the way\) > max_after_answer=0.1\n"):
        assert_reasoning_budget(t, max_after_answer=0.1, path=PATH)
    assert_reasoning_budget(t, max_after_answer=0.2, answer_terms="オースティン")
    assert t.checks.to_dict()["budget"] == {"not truncated": True, "after answer <= 0.1": False,
                                            "after answer <= 0.2": True}
    # a reasoning that never names the answer spent nothing after it
    assert_reasoning_budget(Trace(reasoning="Dallas is in Texas.", answer="Austin"), max_after_answer=0.0,
                            answer_terms="Austin")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_off_path": 1.5}, r"assert_reasoning_budget\(max_off_path=1.5\): use a share in \[0, 1\]"),
    ({"max_after_answer": -0.1, "path": PATH}, r"max_after_answer=-0.1\): use a share in \[0, 1\]"),
    ({"max_after_answer": 0.5}, r"needs answer_terms=\[...\] \(or path=\[...\], whose last step is the answer\)"),
])
def test_budget_keywords_bad_input_is_one_line(kwargs, message):
    with pytest.raises(ValueError, match=message):
        assert_reasoning_budget(english(), **kwargs)


# -- hesitations, named -------------------------------------------------------------------
def test_the_budget_failure_names_the_hesitation_markers():
    t = Trace(reasoning="Wait, Dallas is in Texas. Let me check. Hmm, wait.", answer="Austin")
    with pytest.raises(AssertionError, match=r"^reasoning has 4 hesitation markers > max_hesitations=1 "
                                             r"\('wait' ×2, 'let me check' ×1, 'hmm' ×1\)\n"):
        assert_reasoning_budget(t, max_hesitations=1)
    one = Trace(reasoning="ちょっと待ってください。ダラスはテキサス州です。", answer="オースティン")
    with pytest.raises(AssertionError, match=r"^reasoning has 1 hesitation marker > max_hesitations=0 "
                                             r"\('ちょっと待って' ×1\)\n"):
        assert_reasoning_budget(one, max_hesitations=0)
