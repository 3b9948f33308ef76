"""``reasoning_model.explain`` on the small Qwen3 (``example_tests/models/tiny-qwen3``),
live on the CPU, whose detour was trained to follow the population clause: the clause is
found by ablation, and token attribution (Captum's feature ablation on the model's own
log-probabilities) scores it and the prompt's tokens for the detour's first words."""

from __future__ import annotations

import json

import pytest

PRECISE = ("In the United States, what is the capital of the state that contains Dallas, "
           "a big city of about 1.3 million people?")
CLAUSE = "a big city of about 1.3 million people"


@pytest.fixture(scope="module")
def with_captum(tiny_qwen3):
    """The tiny Qwen3's path (conftest.py), with captum imported too."""
    pytest.importorskip("captum", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
    import captum.attr  # noqa: F401

    return tiny_qwen3


EXPLAINED = """
import json
import pytest
from pytest_reasoning import Detour

SPORTS = Detour("sports", terms=["NFL", "Cowboys"])

@pytest.mark.reasoning(backend="transformers", model={model!r}, device="cpu")
def test_why(reasoning_model):
    why = reasoning_model.explain({prompt!r}, SPORTS, 16, attribute=True,
                                  thinking=True, temperature=0.6, top_p=0.95, top_k=20, seed=0, max_tokens=120)
    with open("why.json", "w", encoding="utf-8") as f:
        json.dump({{**why.to_report(), "text": str(why),
                   "trace": why.traces[why.attribution.sample].reasoning}}, f)
"""


def test_the_small_model_detours_on_the_population_clause_and_attribution_scores_it(pytester, with_captum):
    pytester.makepyfile(test_why=EXPLAINED.format(model=str(with_captum), prompt=PRECISE))
    pytester.runpytest("--reasoning-record-mode=new_episodes", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    why = json.loads((pytester.path / "why.json").read_text(encoding="utf-8"))

    assert why["baseline"]["count"] > 0
    spans = [s["text"] for s in why["spans"]]
    assert CLAUSE in [spans[i] for i in why["causes"]]
    clause = why["spans"][spans.index(CLAUSE)]
    assert clause["without"]["count"] < clause["with"]["count"] and clause["interval"]["low"] > 0

    attribution = why["attribution"]
    assert attribution["method"].startswith("captum LLMAttribution(FeatureAblation)")
    # the target: the detour's sentence, as the sample generated it, through its first hit
    reasoning = why["trace"]
    assert attribution["target"] in reasoning and attribution["target"].rstrip().endswith("Cowboys")
    assert "".join(attribution["target_tokens"]) == "".join(attribution["target"].split())  # shown without spaces
    assert len(attribution["spans"]) == len(spans)
    assert len(attribution["span_rows"]) == len(attribution["target_tokens"])
    assert all(len(row) == len(spans) for row in attribution["span_rows"])
    tokens = attribution["tokens"]
    assert "".join(t["text"] for t in tokens) == PRECISE  # the prompt's tokens cover it, in order
    assert all(PRECISE[t["start"]:t["end"]] == t["text"] for t in tokens)
    assert "token attribution (captum LLMAttribution(FeatureAblation), sequence forward, sample" in why["text"]

    # Replay: the samples come from the cassette, the attribution is computed again, the same.
    pytester.runpytest("--reasoning-record-mode=none", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    again = json.loads((pytester.path / "why.json").read_text(encoding="utf-8"))
    assert again["spans"] == why["spans"]
    assert again["attribution"]["spans"] == pytest.approx(attribution["spans"], abs=1e-3)
