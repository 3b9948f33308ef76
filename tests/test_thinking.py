"""split_thinking and split_sentences: examples for every tag pitfall, and properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pytest_reasoning import split_sentences, split_thinking
from pytest_reasoning.text.sentences import sentence_spans


# -- split_thinking: examples -------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("<think>\nDallas is in Texas.\n</think>\n\nAustin", ("Dallas is in Texas.", "Austin"), id="closed"),
        pytest.param("Dallas is in Texas.\n</think>\n\nAustin", ("Dallas is in Texas.", "Austin"), id="no-opening-tag"),
        pytest.param("Austin is the capital.", ("", "Austin is the capital."), id="no-tags"),
        pytest.param("  Austin \n", ("", "Austin"), id="no-tags-stripped"),
        pytest.param("<think>\nDallas is in Texas, so", ("Dallas is in Texas, so", ""), id="truncated-inside-thinking"),
        pytest.param("Sure.<think>Dallas", ("Dallas", "Sure."), id="text-before-unclosed-tag"),
        pytest.param("<think>a</think>b</think>Austin", ("a\n\nb", "Austin"), id="several-closing-split-at-last"),
        pytest.param("<think>\n\n</think>\n\nAustin", ("", "Austin"), id="thinking-disabled"),
        pytest.param("<think></think>", ("", ""), id="only-empty-tags"),
        pytest.param("<think>r</think>Aus<think>tin", ("r", "Aus\n\ntin"), id="stray-open-tag-in-answer"),
        pytest.param("<think>Dallas.</think>Let me look again.<think>Texas.</think>Austin",
                     ("Dallas.\n\nLet me look again.\n\nTexas.", "Austin"), id="interleaved-thinking-blocks"),
        pytest.param("<think>テキサス州</think>オースティン", ("テキサス州", "オースティン"), id="japanese"),
    ],
)
def test_split_thinking_examples(text, expected):
    assert split_thinking(text) == expected


@pytest.mark.parametrize("text", [None, ""])
def test_split_thinking_empty(text):
    assert split_thinking(text) == ("", "")


def test_split_thinking_custom_tags():
    assert split_thinking("<reasoning>r</reasoning>a", "<reasoning>", "</reasoning>") == ("r", "a")
    assert split_thinking("<think>r</think>a", "<reasoning>", "</reasoning>") == ("", "<think>r</think>a")


def test_split_thinking_removing_a_tag_does_not_eat_text_it_joins():
    # "</th" + "<think>" + "ink>": the text around a removed tag is the model's text and
    # is never re-read as a tag (the tag becomes a paragraph break).
    assert split_thinking("</th<think>ink>x</think>Austin") == ("</th\n\nink>x", "Austin")


# -- split_thinking: properties -----------------------------------------------------
def _strip(text: str) -> str:
    return re.sub(r"\s|</?think>", "", text)


# Free text may hold "<" and tag fragments but no ">", so concatenating or removing
# parts can never form a new tag; the tags themselves come in as whole tokens.
free_text = st.text(st.characters(blacklist_characters=">", blacklist_categories=("Cs",)), max_size=20)
tagged = st.lists(st.one_of(free_text, st.sampled_from(["<think>", "</think>", "\n\n", "。", "<think>\n\n</think>"])),
                  max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), tagged))
def test_split_thinking_never_raises_and_returns_stripped_strings(text):
    reasoning, answer = split_thinking(text)
    assert isinstance(reasoning, str) and isinstance(answer, str)
    assert reasoning == reasoning.strip() and answer == answer.strip()


@settings(max_examples=500, deadline=None)
@given(tagged)
@example("preamble<think>cut off")
@example("<think>a</think>b</think>c")
def test_split_thinking_keeps_all_text_in_text_order(text):
    """Nothing but tags and whitespace is dropped or duplicated.

    The brief's form ``_strip(text) == _strip(reasoning + answer)`` is wrong for a trace
    cut off inside the thinking: "preamble<think>cut off" puts the preamble (before the
    tag, so first in the text) in the answer.  The parts are compared in text order.
    """
    reasoning, answer = split_thinking(text)
    first, second = (answer, reasoning) if "</think>" not in text and "<think>" in text else (reasoning, answer)
    assert _strip(text) == _strip(first + second)


def test_split_thinking_brief_property_fails_only_by_order_when_truncated():
    text = "preamble<think>cut off"
    reasoning, answer = split_thinking(text)
    assert (reasoning, answer) == ("cut off", "preamble")
    assert _strip(text) != _strip(reasoning + answer)
    assert _strip(text) == _strip(answer + reasoning)


tag_free = st.text(max_size=30).filter(lambda s: "<think>" not in s and "</think>" not in s).map(str.strip)


@settings(max_examples=300, deadline=None)
@given(tag_free, tag_free)
def test_split_thinking_inverts_wrapping(reasoning, answer):
    assert split_thinking(f"<think>{reasoning}</think>{answer}") == (reasoning, answer)
    assert split_thinking(f"{reasoning}</think>\n\n{answer}") == (reasoning, answer)  # no opening tag


# -- split_sentences: examples ------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Dallas is in Texas. So the capital is Austin! Right?",
                     ["Dallas is in Texas.", "So the capital is Austin!", "Right?"], id="english"),
        pytest.param("Pi is 3.14 and e is 2.718. Done.", ["Pi is 3.14 and e is 2.718.", "Done."], id="decimals"),
        pytest.param("See e.g.the docs. Then", ["See e.g.the docs.", "Then"], id="dot-without-space"),
        pytest.param("ダラスはテキサス州です。州都はオースティンです！本当？はい",
                     ["ダラスはテキサス州です。", "州都はオースティンです！", "本当？", "はい"], id="japanese"),
        pytest.param("达拉斯在德克萨斯州。所以答案是奥斯汀！对吗？", ["达拉斯在德克萨斯州。", "所以答案是奥斯汀！", "对吗？"],
                     id="chinese"),
        pytest.param("「ちょっと待って。」と考えた。", ["「ちょっと待って。」", "と考えた。"], id="closing-bracket"),
        pytest.param("（確認です。）次に", ["（確認です。）", "次に"], id="closing-paren"),
        pytest.param('He said "Wait." Then he checked.', ['He said "Wait."', "Then he checked."], id="closing-quote"),
        pytest.param("(See above.) Next", ["(See above.)", "Next"], id="closing-ascii-paren"),
        pytest.param("first line\nsame sentence\n\n  second para", ["first line\nsame sentence", "second para"],
                     id="blank-line"),
        pytest.param("Wait... really?! Yes.", ["Wait...", "really?!", "Yes."], id="repeated-terminators"),
        pytest.param("半角｡も区切る", ["半角｡", "も区切る"], id="halfwidth-ideographic-stop"),
    ],
)
def test_split_sentences_examples(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize("text", [None, "", "   \n\n\t "])
def test_split_sentences_empty(text):
    assert split_sentences(text) == []


def test_sentence_spans_are_offsets_into_the_text():
    text = "  Dallas.  Texas。\n\nAustin "
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Dallas.", "Texas。", "Austin"]
    assert spans[0] == (2, 9)


# -- split_sentences: properties ----------------------------------------------------
sentence_text = st.lists(
    st.one_of(st.text(max_size=15), st.sampled_from([". ", "。", "！", "?", "\n\n", "」", '." ', "3.14", " "])),
    max_size=12,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(sentence_text)
def test_split_sentences_keeps_all_non_space_text(text):
    sentences = split_sentences(text)
    assert "".join("".join(sentences).split()) == "".join(text.split())
    assert all(s and s == s.strip() for s in sentences)


@settings(max_examples=500, deadline=None)
@given(sentence_text)
def test_split_sentences_is_idempotent(text):
    for sentence in split_sentences(text):
        assert split_sentences(sentence) == [sentence]
