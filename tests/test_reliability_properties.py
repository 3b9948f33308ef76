"""Reliability: properties (hypothesis) the example tests cannot cover.

``tests/test_thinking.py`` already has the splitters' properties (never raise, keep
all text in order, idempotent, inverse of wrapping).  Added here: the splitters'
results rebuild the input exactly (offsets, not just "non-space text"), detour hits
always point at text that normalises to the term, a planted term is always found at
its offset, and redaction never leaves a planted key in any JSON structure, streamed
chunks included.
"""

from __future__ import annotations

import json
import re
import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pytest_reasoning import Detour, split_sentences, split_thinking
from pytest_reasoning.text.detours import find_detours, find_term, normalize
from pytest_reasoning.redaction import REDACTED, redact, redact_chunks, redact_text
from pytest_reasoning.text.sentences import sentence_spans
from wire import chunk

# Tricky pieces: combining marks, full-width digits and letters, emoji and ZWJ
# sequences, right-to-left text, half-width katakana with voicing marks, characters
# NFKC expands, sentence ends in three scripts, whitespace.
PIECES = ["Cafe\u0301", "é", "１３０", "ＮＦＬ", "NFL", "nfl", "🏈", "👨\u200d👩\u200d👧", "\u200d", "\u200b", "טקסס",
          "مرحبا", "ｶｳﾎﾞｰｲｽﾞ", "カウボーイズ", "㍻", "ﬁ", "İ", "ß", "。", "！", "? ", ". ", "\n\n", " ", "a", "x1", "\u0301"]
text_st = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=14).map("".join)
TERMS = ["NFL", "Café", "130", "🏈", "👨\u200d👩\u200d👧", "טקסס", "カウボーイズ", "成", "fi", "ss", "x1", "a"]


# -- splitters: exact rebuild ---------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(text_st)
def test_sentence_spans_rebuild_the_text_exactly(text):
    """Between and around the sentences lies only whitespace; the spans are ordered,
    disjoint and hold exactly the sentences."""
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == split_sentences(text)
    rebuilt, at = [], 0
    for a, b in spans:
        assert at <= a < b
        assert text[at:a].strip() == ""
        rebuilt.append(text[at:b])
        at = b
    assert text[at:].strip() == ""
    assert "".join(rebuilt) + text[at:] == text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(text_st, st.sampled_from(["<think>", "</think>"])), max_size=6).map("".join))
@example("<think>Ca\u0301fe\u0301</think>𝐀𝐮𝐬𝐭𝐢𝐧")
def test_split_thinking_is_idempotent_on_its_parts(text):
    reasoning, answer = split_thinking(text)
    assert split_thinking(answer) == ("", answer) or "<think>" in answer or "</think>" in answer
    assert split_thinking(f"<think>{reasoning}</think>{answer}") == (reasoning, answer) or (
        "<think>" in reasoning + answer or "</think>" in reasoning + answer)


# -- detours: offsets ------------------------------------------------------------------
@settings(max_examples=400, deadline=None)
@given(text_st, st.lists(st.sampled_from(TERMS), min_size=1, max_size=3, unique=True))
@example("平成は㍻と書く。", ["成"])
@example("Cafe\u0301\u0301 ＮＦＬ!", ["Café", "NFL"])
def test_detour_hits_point_at_text_that_normalises_to_the_term(text, terms):
    hits = find_detours(text, Detour("d", terms=terms))
    assert hits == sorted(hits, key=lambda h: (h.start, h.end))
    for hit in hits:
        assert 0 <= hit.start < hit.end <= len(text)
        assert text[hit.start:hit.end] == hit.text
        assert normalize(hit.matched) in normalize(hit.text)
        # a hit starts and ends on whole characters: never inside a combining cluster
        assert not (hit.end < len(text) and unicodedata.combining(text[hit.end]))
        spans = sentence_spans(text)
        a, b = spans[hit.sentence_index]
        assert hit.sentence == text[a:b]


@settings(max_examples=300, deadline=None)
@given(text_st, st.sampled_from(TERMS), text_st)
def test_a_planted_term_is_found_where_it_was_planted(before, term, after):
    text = f"{before} {term} {after}"
    at = len(before) + 1
    hit = find_term(text, term, at)
    assert hit is not None and hit.start == at and hit.text == term


# -- redaction: never a planted key --------------------------------------------------
KEYS = ["sk-PLANTED" + "q7Zr9Xw2Lm5Nv8Kd3T", "PLANTED.odd~key~4c1f9e27", "AIza" + "P" * 35, "token-PLANTED-1234"]
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))


def _plant(key):
    """JSON-like data with the key planted in strings, dict keys and nested lists."""
    strings = st.one_of(st.text(max_size=8), st.builds(lambda a, b: f"{a}{key}{b}", st.text(max_size=5),
                                                       st.text(max_size=5)))
    leaves = st.one_of(json_leaf, strings)
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(strings, inner, max_size=4)), max_leaves=12)


def _strings(data):
    if isinstance(data, dict):
        for k, v in data.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(data, list):
        for v in data:
            yield from _strings(v)
    elif isinstance(data, str):
        yield data


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(KEYS).flatmap(lambda key: st.tuples(st.just(key), _plant(key))))
@example(("PLANTED.odd~key~4c1f9e27", {"PLANTED.odd~key~4c1f9e27": ["x"]}))
def test_redact_never_leaves_a_planted_key(planted):
    key, data = planted
    cleaned = redact(data, [key])
    assert not any(key in s for s in _strings(cleaned))
    assert key not in json.dumps(cleaned, ensure_ascii=False)
    assert redact(cleaned, [key]) == cleaned  # idempotent


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(KEYS), st.text(max_size=10), st.text(max_size=10),
       st.lists(st.integers(1, 6), min_size=1, max_size=12))
def test_redact_chunks_never_leaves_a_key_split_over_chunks(key, before, after, sizes):
    text = f"{before}{key}{after}"
    pieces, at = [], 0
    for size in sizes * 20:
        if at >= len(text):
            break
        pieces.append(text[at:at + size])
        at += size
    pieces.append(text[at:])
    chunks = [chunk({"content": p}) for p in pieces] + [chunk({}, finish_reason="stop")]
    cleaned = redact_chunks(chunks, [key])
    joined = "".join(c["choices"][0]["delta"].get("content", "") for c in cleaned)
    assert key not in joined and REDACTED in joined
    if not re.search(r"[A-Za-z0-9_~.+/=-]", before[-1:] + after[:1]):  # nothing a key shape could run into
        assert joined == redact_text(text, [key])  # the same text the whole answer redacts to
    assert chunks[0]["choices"][0]["delta"]["content"] == pieces[0]  # the input is not changed


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_redact_text_keeps_ordinary_text(text):
    """Text holding no key shape is never changed (no false alarms in reasoning)."""
    if not re.search(r"(?i)bearer|sk-|aiza|key=|token=", text):
        assert redact_text(text) == text


# -- harmony splitter -----------------------------------------------------------------
HARMONY_PIECES = ["<|channel|>", "<|message|>", "<|end|>", "<|start|>", "assistant", "analysis", "final",
                  "commentary", "assistantfinal", "<|return|>", "<|call|>", "<|constrain|>", " to=functions.f ", "x"]
harmony_st = st.lists(st.one_of(st.sampled_from(HARMONY_PIECES), st.sampled_from(PIECES), st.text(max_size=4)),
                      max_size=14).map("".join)


@settings(max_examples=300, deadline=None)
@given(harmony_st)
def test_split_harmony_never_raises_and_keeps_plain_text(text):
    """Total on any mix of harmony tokens; both parts are stripped strings; text without
    harmony markup comes back whole as the answer."""
    from pytest_reasoning.text.thinking import has_harmony_channels, split_harmony

    reasoning, answer = split_harmony(text)
    assert isinstance(reasoning, str) and isinstance(answer, str)
    assert reasoning == reasoning.strip() and answer == answer.strip()
    if not has_harmony_channels(text):
        assert (reasoning, answer) == ("", text.strip())
