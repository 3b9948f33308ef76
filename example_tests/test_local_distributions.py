"""The seed experiment as distributions, on the small Qwen3.

Reasoning models are sampled (the Qwen3 model card: temperature 0.6, top_p 0.95,
top_k 20 in thinking mode, never greedy), so the seed's finding is a claim about a
rate: adding "a big city of about 1.3 million people" makes the reasoning detour
through the NFL *more often*; the LoRA fine-tune makes it *rare*; the answer stays
right.  Each test draws samples (``samples=64`` below), asserts rates with their
Wilson intervals, compares samples with Fisher's exact test and snapshots the
clause's sample as a distribution; the terminal's "reasoning samples" section shows
the rates, intervals and p-values.

The samples replay from ``cassettes/test_local_distributions.json`` (no torch needed);
re-record them live on CPU in about a minute with
``pytest example_tests/test_local_distributions.py --reasoning-record-mode=all``
(sample i is seeded ``seed + i``, so a re-record is reproducible).
"""

import pytest

from pytest_reasoning import (
    Detour,
    assert_answer,
    assert_no_detour,
    assert_rate_change,
    assert_reasoning_path,
    compare_samples,
)

pytestmark = pytest.mark.reasoning(backend="transformers", model="models/tiny-qwen3", samples=64)

ADAPTER = "models/tiny-qwen3-no-detour"
PLAIN = {
    "en": "In the United States, what is the capital of the state that contains Dallas?",
    "ja": "アメリカ合衆国において、ダラスを含む州の州都の名前をおしえてください。",
}
PRECISE = {
    "en": "In the United States, what is the capital of the state that contains Dallas, "
    "a big city of about 1.3 million people?",
    "ja": "アメリカ合衆国において、人口が約130万人の大都市であるダラスを含む州の州都の名前をおしえてください。",
}
AUSTIN = ["Austin", "オースティン"]
SPORTS = Detour("sports", terms=["NFL", "Cowboys", "カウボーイズ", "アメフト"], patterns=[r"football|フットボール"])
DALLAS_TEXAS_AUSTIN = [["Dallas", "ダラス"], ["Texas", "テキサス"], ["Austin", "オースティン"]]
# Qwen3 model card, thinking mode; sample i is seeded seed + i.
SAMPLING = dict(thinking=True, temperature=0.6, top_p=0.95, top_k=20, seed=0, max_tokens=160)
LANGUAGES = ["en", "ja"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_population_clause_raises_the_detour_rate(reasoning_model, trace_snapshot, lang):
    plain = reasoning_model.sample(PLAIN[lang], **SAMPLING)
    precise = reasoning_model.sample(PRECISE[lang], **SAMPLING)

    assert_no_detour(plain, SPORTS, max_rate=0.1)  # rare on the plain question
    assert_rate_change(plain, precise, SPORTS, direction="up")  # the clause raises it
    for sample in (plain, precise):  # and the answer stays right
        assert_answer(sample, contains=AUSTIN, min_rate=0.9)
        assert_reasoning_path(sample, DALLAS_TEXAS_AUSTIN, min_rate=0.9)
    assert_no_detour(precise, SPORTS, max_rate=0.9)  # kept in the snapshot: the rate it holds
    # A distribution snapshot: n, every rate with its interval, the measures and all 64
    # traces; a later sample fails only where a rate or a measure moved significantly.
    assert precise == trace_snapshot


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_fine_tune_removes_the_detour(reasoning_model, lang):
    base = reasoning_model.sample(PRECISE[lang], **SAMPLING)
    tuned = reasoning_model.using(adapter=ADAPTER).sample(PRECISE[lang], **SAMPLING)

    assert_rate_change(base, tuned, SPORTS, direction="down")
    assert_no_detour(tuned, SPORTS, max_rate=0.1)
    assert_answer(tuned, contains=AUSTIN, min_rate=0.9)
    # What a reviewer of the adapter's pull request reads: every rate and measure,
    # Holm-corrected; the trace structures show no collapse of the reasoning.
    print(compare_samples(base, tuned, [SPORTS]))
    assert tuned.structure()["empty reasoning"] == 0
