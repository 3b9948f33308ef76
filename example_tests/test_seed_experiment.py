"""The seed experiment as prompt regression tests.

The same question, asked plainly and "more precisely" (adding that Dallas is a big city
of about 1.3 million people), put to DeepSeek's reasoner and to Qwen3-Max in thinking
mode.  All four answers are Austin; the reasoning goes Dallas -> Texas -> Austin; but
DeepSeek's reasoning on the precise prompt wanders off to the Dallas Cowboys and the
NFL.  The responses replay from ``cassettes/test_seed_experiment.json`` (DeepSeek's
JSON and DashScope's streamed chunks, as the providers send them); re-record them
against the real APIs with ``--reasoning-record-mode=all`` and the API keys set.
"""

import pytest

from pytest_reasoning import (
    Detour,
    assert_answer,
    assert_no_detour,
    assert_reasoning_budget,
    assert_reasoning_path,
    check_detours,
)

PLAIN = "アメリカ合衆国において、ダラスを含む州の州都の名前をおしえてください。"
PRECISE = "アメリカ合衆国において、人口が約130万人の大都市であるダラスを含む州の州都の名前をおしえてください。"

DEEPSEEK = pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")
QWEN3_MAX = pytest.mark.reasoning(backend="dashscope", model="qwen3-max")
MODELS = [
    pytest.param("deepseek-reasoner", marks=DEEPSEEK, id="deepseek"),
    pytest.param("qwen3-max", marks=QWEN3_MAX, id="qwen3-max"),
]
PROMPTS = [pytest.param(PLAIN, id="plain"), pytest.param(PRECISE, id="precise")]

SPORTS = Detour(
    "sports",
    terms=["NFL", "Cowboys", "カウボーイズ", "アメフト", "アメリカンフットボール", "スーパーボウル"],
    patterns=[r"football|フットボール"],
)
DALLAS_TEXAS_AUSTIN = [["Dallas", "ダラス"], ["Texas", "テキサス"], ["Austin", "オースティン"]]


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("model", MODELS)
def test_capital_of_the_state_with_dallas(reasoning_model, trace_snapshot, model, prompt):
    trace = reasoning_model(prompt, thinking=True)

    assert_answer(trace, contains=["オースティン", "Austin"])
    assert_reasoning_path(trace, DALLAS_TEXAS_AUSTIN)
    assert_reasoning_budget(trace, max_chars=4000, max_hesitations=8)
    check_detours(trace, SPORTS)  # the detour's verdict, in the snapshot either way
    assert trace == trace_snapshot


@DEEPSEEK
def test_plain_prompt_takes_no_sports_detour(reasoning_model):
    trace = reasoning_model(PLAIN, thinking=True)
    assert_no_detour(trace, SPORTS)


@DEEPSEEK
@pytest.mark.xfail(reason="the precise prompt makes DeepSeek think of the Dallas Cowboys (NFL)", strict=True)
def test_precise_prompt_takes_no_sports_detour(reasoning_model):
    """The team's goal for the prompt, kept as a strict xfail: when a prompt edit
    removes the detour, this test XPASSes and fails the run, so the xfail is dropped."""
    trace = reasoning_model(PRECISE, thinking=True)
    assert_no_detour(trace, SPORTS)


@DEEPSEEK
def test_precise_prompt_detour_is_the_nfl(reasoning_model):
    """What the detour is, read without failing: a report of where it happened."""
    trace = reasoning_model(PRECISE, thinking=True)
    hits = trace.detours(SPORTS)["sports"]
    assert [h.text for h in hits] == ["カウボーイズ", "NFL"]
    assert all(h.sentence == hits[0].sentence for h in hits)  # one sentence, both terms
    print(f"sports detour at char {hits[0].start}: {hits[0].sentence}")
