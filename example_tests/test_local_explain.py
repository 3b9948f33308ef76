"""Why did it detour?  The seed's question asked the other way round, on the small Qwen3.

``reasoning_model.explain(prompt, SPORTS, n, answer=AUSTIN)`` cuts the prompt into
clauses and phrases, samples it whole and with each span left out, and compares the
detour rates (Fisher's exact test, Newcombe's interval, Holm's correction).  On the
variant prompt it names the population clause and nothing else as a cause (a span
without which the answer is no longer Austin, such as the city asked about, is part of
the question); on the plain prompt there is nothing to explain.  On a local model it
also scores each span and prompt token by how much leaving it out lowers the
log-probability of the detour's first words (Captum's feature ablation).

The samples replay from ``cassettes/test_local_explain.json``; re-record them live on
CPU with ``pytest example_tests/test_local_explain.py --reasoning-record-mode=all``.
"""

import pytest

from pytest_reasoning import Detour

pytestmark = pytest.mark.reasoning(backend="transformers", model="models/tiny-qwen3")

PLAIN = {
    "en": "In the United States, what is the capital of the state that contains Dallas?",
    "ja": "アメリカ合衆国において、ダラスを含む州の州都の名前をおしえてください。",
}
PRECISE = {
    "en": "In the United States, what is the capital of the state that contains Dallas, "
    "a big city of about 1.3 million people?",
    "ja": "アメリカ合衆国において、人口が約130万人の大都市であるダラスを含む州の州都の名前をおしえてください。",
}
POPULATION = {"en": "a big city of about 1.3 million people", "ja": "人口が約130万人の大都市である"}
AUSTIN = ["Austin", "オースティン"]
SPORTS = Detour("sports", terms=["NFL", "Cowboys", "カウボーイズ", "アメフト"], patterns=[r"football|フットボール"])
# Qwen3 model card, thinking mode; sample i of every prompt variant is seeded seed + i.
SAMPLING = dict(thinking=True, temperature=0.6, top_p=0.95, top_k=20, seed=0, max_tokens=160)
N = 32


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_population_clause_explains_the_detour(reasoning_model, lang):
    why = reasoning_model.explain(PRECISE[lang], SPORTS, N, answer=AUSTIN, attribute=False, **SAMPLING)
    print(why)

    assert [span.text for span in why.causes] == [POPULATION[lang]]
    clause = why.causes[0]
    assert clause.without_rate.rate < why.baseline.rate  # fewer detours without it
    assert clause.interval.low > 0  # the whole 95% interval of its effect is above zero


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_token_attribution_of_the_detour(reasoning_model, lang):
    for package in ("torch", "transformers", "captum"):
        pytest.importorskip(package, reason="needs the local extra: pip install 'pytest-reasoning[local]'")
    why = reasoning_model.explain(PRECISE[lang], SPORTS, N, answer=AUSTIN, attribute=True, **SAMPLING)  # same samples
    print("\n".join(why.attribution.lines()))

    attribution = why.attribution
    assert attribution.span_texts[attribution.top_span] == POPULATION[lang]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_plain_prompt_has_nothing_to_explain(reasoning_model, lang):
    why = reasoning_model.explain(PLAIN[lang], SPORTS, N, answer=AUSTIN, **SAMPLING)
    print(why)

    assert why.nothing_to_explain
    assert why.causes == []
