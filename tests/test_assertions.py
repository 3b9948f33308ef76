"""Each assertion passing and failing, with the failure message checked."""

from __future__ import annotations

import re

import pytest

from pytest_reasoning import (
    Detour,
    Trace,
    Usage,
    assert_answer,
    assert_no_detour,
    assert_reasoning_budget,
    assert_reasoning_path,
    check_detours,
)
from pytest_reasoning.text.detours import find_term, normalize
from wire import SEED_REASONING

SPORTS = Detour("sports", terms=["NFL", "Cowboys", "カウボーイズ", "アメフト"], patterns=[r"football|フットボール"])
PATH = [["Dallas", "ダラス"], ["Texas", "テキサス"], ["Austin", "オースティン"]]


def make(reasoning="", answer="Austin", **kw):
    return Trace(reasoning=reasoning, answer=answer, **kw)


# -- assert_answer ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "check"),
    [
        ("Austin", {"equals": "Austin"}),
        ("  austin\n", {"equals": "AUSTIN"}),
        ("ＡＵＳＴＩＮ", {"equals": "Austin"}),  # full-width
        ("Café", {"equals": "Cafe\u0301"}),  # composed vs decomposed
        ("ｵｰｽﾃｨﾝ", {"equals": "オースティン"}),  # half-width katakana
        ("オースティン", {"equals": ["Austin", "オースティン"]}),  # alternatives
        ("州都はオースティンです。", {"contains": ["Austin", "オースティン"]}),
        ("The capital is AUSTIN.", {"contains": "austin"}),
        ("It was founded in １８３９.", {"regex": r"\b1839\b"}),
        ("It was founded in 1839.", {"regex": r"１８３９"}),  # full-width digits in the pattern
        ("Answer: Austin", {"regex": r"^answer:\s+austin$"}),
        ("Austin", {"predicate": lambda a: a.startswith("Aus")}),
        ("Austin", {"equals": "Austin", "contains": "Aus", "regex": "tin$"}),
    ],
)
def test_assert_answer_passes(answer, check):
    trace = make(answer=answer)
    assert_answer(trace, **check)
    assert all(trace.checks.to_dict()["answer"].values())


def test_assert_answer_equals_fails_with_excerpt_and_snapshot_path():
    trace = make(answer="Houston is the biggest city.", snapshot_path="snapshots/tests/test_x/test_y.json")
    with pytest.raises(AssertionError) as info:
        assert_answer(trace, equals=["Austin", "オースティン"])
    message = str(info.value)
    assert "answer does not equal 'Austin' or 'オースティン'" in message
    assert "answer: Houston is the biggest city." in message
    assert message.splitlines()[-1] == "snapshot: snapshots/tests/test_x/test_y.json"
    assert trace.checks.to_dict()["answer"] == {"equals 'Austin' | 'オースティン'": False}


def test_assert_answer_without_snapshot_path_names_none():
    with pytest.raises(AssertionError) as info:
        assert_answer(make(answer=""), contains="Austin")
    assert "answer does not contain 'Austin'" in str(info.value)
    assert "(empty answer)" in str(info.value)
    assert "snapshot:" not in str(info.value)


def test_assert_answer_long_answer_is_excerpted():
    answer = "x" * 1000 + " Houston"
    with pytest.raises(AssertionError) as info:
        assert_answer(make(answer=answer), equals="Austin")
    line = next(l for l in str(info.value).splitlines() if l.startswith("  answer:"))
    assert len(line) < 200 and line.endswith("…")


def test_assert_answer_regex_and_predicate_failures():
    with pytest.raises(AssertionError, match=r"answer does not match /\^Austin\$/"):
        assert_answer(make(answer="Dallas"), regex="^Austin$")

    def is_short(a):
        return len(a) < 3

    with pytest.raises(AssertionError, match=r"answer fails is_short\(\)"):
        assert_answer(make(answer="Austin"), predicate=is_short)


def test_assert_answer_normalize_off_is_exact():
    with pytest.raises(AssertionError, match="does not equal 'Austin'"):
        assert_answer(make(answer="ＡＵＳＴＩＮ"), equals="Austin", normalize_text=False)
    with pytest.raises(AssertionError, match="does not match"):
        assert_answer(make(answer="austin"), regex="Austin", normalize_text=False)


SCHEMA = {
    "type": "object",
    "properties": {"state": {"type": "string"}, "capital": {"type": "string"}},
    "required": ["state", "capital"],
}


@pytest.mark.parametrize(
    "answer",
    [
        '{"state": "Texas", "capital": "Austin"}',
        '```json\n{"state": "テキサス", "capital": "オースティン"}\n```',
        '```\n{"state": "Texas", "capital": "Austin"}\n```',
    ],
)
def test_assert_answer_schema_valid(answer):
    assert_answer(make(answer=answer), schema=SCHEMA)


def test_assert_answer_schema_invalid_answer():
    with pytest.raises(AssertionError) as info:
        assert_answer(make(answer='{"state": "Texas", "capital": 1}'), schema=SCHEMA)
    assert "answer JSON fails the schema at capital: 1 is not of type 'string'" in str(info.value)
    with pytest.raises(AssertionError, match="required property"):
        assert_answer(make(answer='{"state": "Texas"}'), schema=SCHEMA)


def test_assert_answer_schema_follows_its_own_draft():
    """``$schema`` picks the draft: 2020-12's ``prefixItems`` (jsonschema 4 on; an older
    release would read this as draft 7, where ``items: false`` allows no item at all)."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "array",
              "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False}
    assert_answer(make(answer='["Austin", 1839]'), schema=schema)
    with pytest.raises(AssertionError, match="answer JSON fails the schema at 1: 'then' is not of type 'integer'"):
        assert_answer(make(answer='["Austin", "then"]'), schema=schema)


def test_assert_answer_schema_not_json():
    with pytest.raises(AssertionError, match=r"answer is not JSON \(Expecting value at char 0\)"):
        assert_answer(make(answer="Austin"), schema=SCHEMA)


def test_assert_answer_invalid_schema_is_value_error():
    with pytest.raises(ValueError, match="invalid JSON Schema given to assert_answer"):
        assert_answer(make(answer="{}"), schema={"type": "no-such-type"})


def test_assert_answer_needs_a_check():
    with pytest.raises(ValueError, match="needs equals=, contains=, regex=, schema= or predicate="):
        assert_answer(make())


# -- detours -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reasoning", "found"),
    [
        ("Dallas hosts the NFL's Cowboys.", "NFL"),
        ("the dallas cowboys play there", "cowboys"),
        ("ダラス・カウボーイズの本拠地だ。", "カウボーイズ"),
        ("ﾀﾞﾗｽ･ｶｳﾎﾞｰｲｽﾞの本拠地。", "ｶｳﾎﾞｰｲｽﾞ"),  # half-width katakana
        ("ＮＦＬのチーム。", "ＮＦＬ"),  # full-width Latin
        ("アメフトが盛ん。", "アメフト"),
        ("American FOOTBALL is big.", "FOOTBALL"),  # pattern, case-insensitive
        ("アメリカンフットボール", "フットボール"),
    ],
)
def test_detour_found_in_several_languages(reasoning, found):
    trace = make(reasoning)
    with pytest.raises(AssertionError) as info:
        assert_no_detour(trace, SPORTS)
    message = str(info.value)
    assert f"reasoning took the 'sports' detour: {found!r} at char {reasoning.index(found)}, sentence 1" in message
    assert trace.checks.to_dict()["detours"]["sports"] >= 1


def test_detour_whole_words_only():
    trace = make("An unflinching look at Texas; the nflx ticker; Cowboyship.")
    assert_no_detour(trace, SPORTS)
    assert trace.checks.to_dict()["detours"] == {"sports": 0}


def test_detour_failure_shows_sentence_offset_and_count():
    trace = make(SEED_REASONING, snapshot_path="snapshots/tests/test_seed/test_precise.json")
    with pytest.raises(AssertionError) as info:
        assert_no_detour(trace, SPORTS)
    lines = str(info.value).splitlines()
    start = SEED_REASONING.index("カウボーイズ")
    assert lines[0] == f"reasoning took the 'sports' detour: 'カウボーイズ' at char {start}, sentence 2 (+1 more)"
    assert lines[1] == "  > ダラス・カウボーイズはNFLのチームですね。"
    assert lines[-1] == "snapshot: snapshots/tests/test_seed/test_precise.json"


def test_detour_read_without_failing():
    trace = make(SEED_REASONING)
    hits = trace.detours(SPORTS)["sports"]
    assert [h.text for h in hits] == ["カウボーイズ", "NFL"]
    assert [SEED_REASONING[h.start:h.end] for h in hits] == ["カウボーイズ", "NFL"]
    assert hits[0].sentence == hits[1].sentence == "ダラス・カウボーイズはNFLのチームですね。"
    assert hits[0].sentence_index == 1
    assert not trace.checks  # reading records nothing


def test_check_detours_records_the_verdict_and_returns_the_hits():
    trace = make(SEED_REASONING)
    hits = check_detours(trace, SPORTS, Detour("weather", terms=["rain"]))
    assert list(hits) == ["sports", "weather"] and hits == trace.detours(SPORTS, Detour("weather", terms=["rain"]))
    assert [h.text for h in hits["sports"]] == ["カウボーイズ", "NFL"]
    assert trace.checks.to_dict() == {"detours": {"sports": 2, "weather": 0}}
    check_detours(trace, Detour("sports", terms=["NFL"]))  # again: replaced in place
    assert trace.checks.to_dict() == {"detours": {"sports": 1, "weather": 0}}
    with pytest.raises(ValueError, match=r"check_detours\(trace, Detour\(...\), ...\) needs one or more Detour"):
        check_detours(trace, "sports")


def test_detour_offsets_with_combining_marks_emoji_and_rtl():
    text = "🤠🤠 Cafe\u0301 talk. מדינת טקסס NFL!"
    cafe = Detour("cafe", terms=["Café"])
    hits = make(text).detours(cafe, SPORTS)
    assert [(h.text, h.start, h.end) for h in hits["cafe"]] == [("Cafe\u0301", 3, 8)]
    nfl = hits["sports"][0]
    assert (nfl.text, text[nfl.start:nfl.end], nfl.sentence_index) == ("NFL", "NFL", 1)
    hebrew = Detour("he", terms=["טקסס"])
    assert make(text).detours(hebrew)["he"][0].start == text.index("טקסס")


def test_detour_full_width_digits_in_pattern():
    big_city = Detour("population", patterns=[r"１３０万", r"\d+万人"])
    assert len(make("人口約130万人の大都市").detours(big_city)["population"]) == 2
    assert len(make("人口約１３０万人の大都市").detours(big_city)["population"]) == 2


def test_detour_full_width_regex_syntax_stays_literal():
    detour = Detour("paren", patterns=["テキサス（州）"])
    assert [h.text for h in make("テキサス(州)とテキサス州").detours(detour)["paren"]] == ["テキサス(州)"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs at least one term or pattern"),
        ({"terms": "NFL"}, "terms and patterns are lists, not one string"),
        ({"terms": ["NFL", " "]}, "has an empty term"),
        ({"patterns": ["(unclosed"]}, "pattern '(unclosed' does not compile"),
    ],
)
def test_detour_invalid(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Detour("bad", **kwargs)


def test_assert_no_detour_needs_detours():
    with pytest.raises(ValueError, match="needs one or more Detour objects"):
        assert_no_detour(make("x"))
    with pytest.raises(ValueError):
        assert_no_detour(make("x"), "NFL")


def test_find_term_and_normalize():
    assert normalize("ＮＦＬ") == "nfl" and normalize("ｶｳﾎﾞｰｲｽﾞ") == "カウボーイズ"
    assert find_term("Texas and Texas", "texas", start=1).start == 10
    assert find_term("nothing", "texas") is None


# -- assert_reasoning_path -------------------------------------------------------
@pytest.mark.parametrize(
    "reasoning",
    [
        "Dallas is in Texas. The capital of Texas is Austin.",
        "ダラスはテキサス州にある。州都はオースティン。",
        "Dallas → テキサス → Austin",
        "Texas... Dallas is in Texas, capital Austin.",  # Texas before Dallas too: the later one counts
    ],
)
def test_reasoning_path_holds(reasoning):
    trace = make(reasoning)
    assert_reasoning_path(trace, PATH)
    assert trace.checks.to_dict()["path"] == {"Dallas|ダラス -> Texas|テキサス -> Austin|オースティン": True}


def test_reasoning_path_step_only_before_previous():
    trace = make("Austin is a capital. Dallas is in Texas.", snapshot_path="snapshots/t/p.json")
    with pytest.raises(AssertionError) as info:
        assert_reasoning_path(trace, PATH)
    lines = str(info.value).splitlines()
    assert lines[0] == ("reasoning path broken at step 3/3: 'Austin|オースティン' appears only before "
                        "'Texas|テキサス' (which ends at char 39), not after it")
    assert lines[1] == "  path: Dallas|ダラス -> Texas|テキサス -> [Austin|オースティン]"
    assert lines[-1] == "snapshot: snapshots/t/p.json"
    assert list(trace.checks.to_dict()["path"].values()) == [False]


def test_reasoning_path_missing_step():
    with pytest.raises(AssertionError) as info:
        assert_reasoning_path(make("Dallas. Then Austin."), PATH)
    assert "broken at step 2/3: 'Texas|テキサス' never appears" in str(info.value)


def test_reasoning_path_first_step_missing_and_no_reasoning():
    with pytest.raises(AssertionError) as info:
        assert_reasoning_path(make(""), ["Dallas"])
    message = str(info.value)
    assert "broken at step 1/1: 'Dallas' never appears" in message
    assert "reasoning: (none came back: is thinking on" in message and "--reasoning-parser" in message


def test_reasoning_path_whole_words():
    with pytest.raises(AssertionError, match="'Texas' never appears"):
        assert_reasoning_path(make("Dallas, Texasville"), ["Dallas", "Texas"])


def test_reasoning_path_needs_steps():
    with pytest.raises(ValueError, match="needs a list of steps"):
        assert_reasoning_path(make("x"), [])
    with pytest.raises(ValueError):
        assert_reasoning_path(make("x"), "Dallas")


# -- assert_reasoning_budget -----------------------------------------------------
def test_budget_passes_and_records_verdicts():
    trace = make("Short.", usage=Usage(reasoning_tokens=10))
    assert_reasoning_budget(trace, max_tokens=10, max_chars=6, max_hesitations=0)
    assert trace.checks.to_dict()["budget"] == {"not truncated": True, "tokens <= 10": True, "chars <= 6": True,
                                      "hesitations <= 0": True}


def test_budget_max_chars_fails():
    with pytest.raises(AssertionError) as info:
        assert_reasoning_budget(make("x" * 50 + " the end"), max_chars=20)
    message = str(info.value)
    assert "reasoning has 58 characters > max_chars=20" in message
    assert "reasoning ends: " in message and message.rstrip().endswith("the end")


def test_budget_max_tokens_fails_and_unknown_usage():
    with pytest.raises(AssertionError, match="reasoning used 500 tokens > max_tokens=100"):
        assert_reasoning_budget(make("r", usage=Usage(reasoning_tokens=500)), max_tokens=100)
    trace = make("r")
    with pytest.raises(AssertionError, match=r"reasoning token count unknown .*use max_chars="):
        assert_reasoning_budget(trace, max_tokens=100)
    assert trace.checks.to_dict()["budget"]["tokens <= 100"] is False


@pytest.mark.parametrize(
    ("reasoning", "count"),
    [
        ("Wait, let me double-check. Hmm. Wait.", 4),
        ("ちょっと待ってください。念のため確認させてください。", 3),
        ("等等，让我确认一下。", 2),
        ("Waiter, a table. Awaiting.", 0),  # whole words
        ("", 0),
    ],
)
def test_hesitations_counted(reasoning, count):
    assert make(reasoning).hesitations() == count


def test_budget_hesitations_fail_and_custom_markers():
    with pytest.raises(AssertionError, match="reasoning has 2 hesitation markers > max_hesitations=1"):
        assert_reasoning_budget(make("Wait. ちょっと待って。"), max_hesitations=1)
    trace = make("Wait. Hmm. Actually, no.")
    assert trace.hesitations(["actually"]) == 1
    assert_reasoning_budget(trace, max_hesitations=1, hesitation_markers=["actually"])
    with pytest.raises(AssertionError, match="2 hesitation markers"):
        assert_reasoning_budget(trace, max_hesitations=1)


def test_budget_truncated():
    trace = make("Dallas is in", answer="", finish_reason="length", truncated=True)
    with pytest.raises(AssertionError, match=r"generation was truncated \(finish_reason='length'\) inside the thinking"):
        assert_reasoning_budget(trace, max_chars=1000)
    assert_reasoning_budget(trace, max_chars=1000, allow_truncated=True)
    with pytest.raises(AssertionError) as info:
        assert_reasoning_budget(make("r", answer="Aus", finish_reason="length", truncated=True))
    assert "inside the thinking" not in str(info.value)


def test_sentences_method():
    assert make("Dallas. Texas。Austin").sentences() == ["Dallas.", "Texas。", "Austin"]
