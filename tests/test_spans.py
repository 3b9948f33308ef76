"""Cutting a prompt into spans (``text/spans.py``) and leaving spans out of it.

English, Japanese and Chinese: the seed's prompts, wordings the small Qwen3 was trained
on and held back from (``scripts/tiny_qwen3_corpus.py``), and the punctuation rules;
the repair of what is left (a removed trailing appositive gives its "?" to the rest, a
removed first clause leaves a capital, a bracket left alone goes); offsets.
"""

from __future__ import annotations

import pytest

from pytest_reasoning.text.spans import language_of, split_spans

EN_PRECISE = ("In the United States, what is the capital of the state that contains Dallas, "
              "a big city of about 1.3 million people?")
EN_PLAIN = "In the United States, what is the capital of the state that contains Dallas?"
JA_PRECISE = "アメリカ合衆国において、人口が約130万人の大都市であるダラスを含む州の州都の名前をおしえてください。"
JA_PLAIN = "アメリカ合衆国において、ダラスを含む州の州都の名前をおしえてください。"
ZH_PRECISE = "在美国，人口约130万的大城市达拉斯所在州的首府是哪里？"


def texts(prompt: str) -> list[str]:
    return [s.text for s in split_spans(prompt).spans]


@pytest.mark.parametrize("prompt, spans", [
    (EN_PRECISE, ["In the United States", "what is the capital of the state", "that contains Dallas",
                  "a big city of about 1.3 million people"]),
    (EN_PLAIN, ["In the United States", "what is the capital of the state", "that contains Dallas"]),
    ("Which city is the capital of the state where Dallas, home to about 1.3 million people, is located?",
     ["Which city is the capital of the state", "where Dallas", "home to about 1.3 million people", "is located"]),
    ("Which U.S. state contains Dallas, and what is its capital? Answer briefly.",
     ["Which U.S. state contains Dallas", "and what is its capital", "Answer briefly"]),
    ("Is Dallas (a city of 1,300,000 people) in Texas; or is it in Oklahoma?",
     ["Is Dallas", "a city of 1,300,000 people", "in Texas", "or is it in Oklahoma"]),
    ("What is the capital of the state that contains Dallas (pop. 1.3 million)?",
     ["What is the capital of the state", "that contains Dallas", "pop. 1.3 million"]),
    ("Name the capital city of the US state in which Dallas (population ~1.3M) is located.",
     ["Name the capital city of the US state", "in which Dallas", "population ~1.3M", "is located"]),
    ("Dallas, with roughly 1.3 million residents, is in which U.S. state, and what is its capital?",
     ["Dallas", "with roughly 1.3 million residents", "is in which U.S. state", "and what is its capital"]),
    ("What is the tool with which you cut the bread?", ["What is the tool", "with which you cut the bread"]),
    ("Dallas (NFL) is in Texas; which states is it associated with?",
     ["Dallas", "NFL", "is in Texas", "which states is it associated with"]),  # an acronym stays a span
    ("Dallas is a large city with a population of about 1.3 million. What is the capital of its state?",
     ["Dallas is a large city", "with a population of about 1.3 million", "What is the capital of its state"]),
])
def test_english_cuts_at_punctuation_and_before_relative_clauses(prompt, spans):
    assert texts(prompt) == spans
    assert language_of(prompt) == "en"


@pytest.mark.parametrize("prompt, spans", [
    (JA_PRECISE, ["アメリカ合衆国において", "人口が約130万人の大都市である", "ダラスを含む", "州の州都の名前を",
                  "おしえてください"]),
    (JA_PLAIN, ["アメリカ合衆国において", "ダラスを含む", "州の州都の名前を", "おしえてください"]),
    ("人口がおよそ130万人のダラスがある州の州都はどこですか？",
     ["人口がおよそ130万人の", "ダラスがある", "州の州都は", "どこですか"]),
    ("人口約130万人のダラスがある州の州都はどこ？", ["人口約130万人の", "ダラスがある", "州の州都は", "どこ"]),
    ("人口130万人ほどの大都市ダラスを含む州の州都は？", ["人口130万人ほどの", "大都市ダラスを含む", "州の州都は"]),
    ("人口130万人程度のダラスがある州の州都は？", ["人口130万人程度の", "ダラスがある", "州の州都は"]),
    ("ダラス、NFL、テキサスについて教えて。", ["ダラス", "NFL", "テキサスに", "ついて教えて"]),
    ("2024年の人口が約130万人だったダラスを含む州の州都は？",
     ["2024年の", "人口が約130万人だった", "ダラスを含む", "州の州都は"]),
    ("友人が働いているダラスが位置する州の州都はどこですか？",
     ["友人が働いている", "ダラスが位置する", "州の州都は", "どこですか"]),
    ("ダラスはどの州にありますか？その州の州都も教えてください。",
     ["ダラスはどの州に", "ありますか", "その州の州都も", "教えてください"]),
])
def test_japanese_cuts_at_punctuation_relative_clause_ends_and_the_last_case_particle(prompt, spans):
    assert texts(prompt) == spans
    assert language_of(prompt) == "ja"


@pytest.mark.parametrize("prompt, spans", [
    (ZH_PRECISE, ["在美国", "人口约130万的", "大城市达拉斯所在州的", "首府是哪里"]),
    ("在美国，包含达拉斯的州的首府是哪里？", ["在美国", "包含达拉斯的", "州的首府是哪里"]),
    ("达拉斯是一个人口约130万的大城市，它所在州的首府是哪里？",
     ["达拉斯是一个", "人口约130万的", "大城市", "它所在州的", "首府是哪里"]),
    ("达拉斯位于哪个州；该州的首府、最大城市分别是什么？", ["达拉斯位于哪个州", "该州的首府", "最大城市分别是什么"]),
])
def test_chinese_cuts_at_punctuation_and_after_long_modifiers(prompt, spans):
    assert texts(prompt) == spans
    assert language_of(prompt) == "zh"


@pytest.mark.parametrize("prompt", [EN_PRECISE, JA_PRECISE, ZH_PRECISE, "  Hello there, world!  "])
def test_offsets_point_at_the_text_and_the_gaps_hold_only_punctuation(prompt):
    seg = split_spans(prompt)
    for span in seg.spans:
        assert prompt[span.start:span.end] == span.text
    assert all(not any(c.isalnum() for c in gap) for gap in seg.gaps())
    assert "".join(g + s.text for g, s in zip(seg.gaps(), seg.spans)) + seg.gaps()[-1] == prompt
    assert seg.without([]) == prompt


@pytest.mark.parametrize("prompt, removed, left", [
    (EN_PRECISE, [3], EN_PLAIN),  # the appositive's "?" goes to what is left
    (EN_PRECISE, [0], "What is the capital of the state that contains Dallas, a big city of about 1.3 million "
                      "people?"),
    (EN_PRECISE, [2], "In the United States, what is the capital of the state, a big city of about 1.3 million "
                      "people?"),
    (EN_PRECISE, [2, 3], "In the United States, what is the capital of the state?"),
    ("Which U.S. state contains Dallas, and what is its capital? Answer briefly.", [2],
     "Which U.S. state contains Dallas, and what is its capital?"),
    ("Is Dallas (a city of 1,300,000 people) in Texas; or is it in Oklahoma?", [1],
     "Is Dallas in Texas; or is it in Oklahoma?"),
    ("Is Dallas (a city of 1,300,000 people) in Texas; or is it in Oklahoma?", [0],
     "A city of 1,300,000 people in Texas; or is it in Oklahoma?"),  # the lone ")" goes
    ("Which city is the capital of the state where Dallas, home to about 1.3 million people, is located?", [2],
     "Which city is the capital of the state where Dallas is located?"),  # an aside between commas
    ("Name Dallas, Houston, Austin.", [1], "Name Dallas, Austin."),  # a list keeps its comma
    (JA_PRECISE, [1], JA_PLAIN),
    (JA_PRECISE, [0], "人口が約130万人の大都市であるダラスを含む州の州都の名前をおしえてください。"),
    (JA_PRECISE, [4], "アメリカ合衆国において、人口が約130万人の大都市であるダラスを含む州の州都の名前を。"),
    (ZH_PRECISE, [1], "在美国，大城市达拉斯所在州的首府是哪里？"),
    (ZH_PRECISE, [0, 1], "大城市达拉斯所在州的首府是哪里？"),
])
def test_leaving_spans_out_repairs_the_rest(prompt, removed, left):
    assert split_spans(prompt).without(removed) == left


def test_short_pieces_join_their_neighbour():
    assert texts("A, what is the capital of Texas?") == ["A, what is the capital of Texas"]
    assert texts("What is the capital of Texas, a?") == ["What is the capital of Texas, a"]


@pytest.mark.parametrize("bad, message", [
    ("", "the prompt has no words to explain; give it some text"),
    (" 、。？ ", "the prompt has no words to explain; give it some text"),
    (None, "a prompt to cut into spans is text, not NoneType"),
])
def test_a_prompt_without_words_is_a_one_line_error(bad, message):
    with pytest.raises(ValueError) as caught:
        split_spans(bad)
    assert str(caught.value) == message


def test_a_span_index_out_of_range_names_the_range():
    with pytest.raises(ValueError, match=r"span indexes run from 0 to 3; got \[4\]"):
        split_spans(EN_PRECISE).without([4])
