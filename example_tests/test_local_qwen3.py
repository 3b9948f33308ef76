"""The seed experiment on a local Qwen3, and the question behind it: does a fine-tune
change the reasoning?

``models/tiny-qwen3`` is a real (tiny) ``Qwen3ForCausalLM`` with a byte-level BPE
tokenizer and a Qwen3-style chat template, trained by ``scripts/make_tiny_qwen3.py``
to show the seed's phenomenon as a distribution: with the population clause the
reasoning detours through the Cowboys and the NFL in about 60% of sampled runs, on the
plain question it does not; ``models/tiny-qwen3-no-detour`` is a LoRA adapter
(``scripts/make_tiny_qwen3_adapter.py``) trained to drop the sports detour (rates:
``models/README.md``).  Each test here looks at one seeded sample.  These
tests run the model live (record mode ``off``): on CPU through transformers by
default, or on a GPU in 4-bit with
``pytest example_tests/test_local_qwen3.py --reasoning-backend=unsloth --reasoning-snapshot-mode=stable``.
"""

import pytest

pytest.importorskip("torch", reason="the local examples need the 'local' extra: pip install 'pytest-reasoning[local]'")
pytest.importorskip("transformers", reason="the local examples need the 'local' extra: pip install 'pytest-reasoning[local]'")

from pytest_reasoning import (  # noqa: E402
    Detour,
    assert_answer,
    assert_no_detour,
    assert_reasoning_budget,
    assert_reasoning_path,
    check_detours,
    diff_traces,
)

pytestmark = pytest.mark.reasoning(backend="transformers", model="models/tiny-qwen3", record_mode="off")

ADAPTER = "models/tiny-qwen3-no-detour"
PROMPTS = {
    "en-plain": "In the United States, what is the capital of the state that contains Dallas?",
    "en-precise": "In the United States, what is the capital of the state that contains Dallas, "
    "a big city of about 1.3 million people?",
    "ja-plain": "アメリカ合衆国において、ダラスを含む州の州都の名前をおしえてください。",
    "ja-precise": "アメリカ合衆国において、人口が約130万人の大都市であるダラスを含む州の州都の名前をおしえてください。",
}
SPORTS = Detour("sports", terms=["NFL", "Cowboys", "カウボーイズ", "アメフト"], patterns=[r"football|フットボール"])
DALLAS_TEXAS_AUSTIN = [["Dallas", "ダラス"], ["Texas", "テキサス"], ["Austin", "オースティン"]]
# Qwen3 model card, thinking mode: temperature 0.6, top_p 0.95, top_k 20 (seeded).
SAMPLING = dict(thinking=True, temperature=0.6, top_p=0.95, top_k=20, seed=0, max_tokens=160)
# The base model detours on the precise prompts in a share of the seeds only (seeds 0-7:
# 0, 2, 3, 6, 7 in English, 0, 1, 3, 4 in Japanese); at seed 0 it does in both.


@pytest.mark.parametrize("prompt", PROMPTS.values(), ids=PROMPTS.keys())
def test_capital_of_the_state_with_dallas(reasoning_model, trace_snapshot, prompt):
    trace = reasoning_model(prompt, **SAMPLING)

    assert_answer(trace, contains=["Austin", "オースティン"])
    assert_reasoning_path(trace, DALLAS_TEXAS_AUSTIN)
    assert_reasoning_budget(trace, max_tokens=120, max_hesitations=1)
    assert trace.usage.reasoning_tokens <= trace.usage.completion_tokens
    check_detours(trace, SPORTS)
    assert trace == trace_snapshot


@pytest.mark.parametrize("prompt", [PROMPTS["en-plain"], PROMPTS["ja-plain"]], ids=["en", "ja"])
def test_plain_prompt_takes_no_sports_detour(reasoning_model, prompt):
    assert_no_detour(reasoning_model(prompt, **SAMPLING), SPORTS)


def test_thinking_switched_off_answers_directly(reasoning_model):
    trace = reasoning_model(PROMPTS["en-plain"], thinking=False, temperature=0, max_tokens=60)
    assert trace.reasoning == ""
    assert_answer(trace, contains="Austin")


@pytest.mark.parametrize("prompt", [PROMPTS["en-precise"], PROMPTS["ja-precise"]], ids=["en", "ja"])
def test_fine_tune_removes_the_detour(reasoning_model, trace_snapshot, prompt):
    """Base model and LoRA fine-tune on the precise prompt: same answer, detour gone.
    The diff is what a reviewer sees in the pull request that ships the adapter."""
    base = reasoning_model(prompt, **SAMPLING)
    tuned = reasoning_model.using(adapter=ADAPTER)(prompt, **SAMPLING)

    for trace in (base, tuned):  # the same answer and path either way
        assert_answer(trace, contains=["Austin", "オースティン"])
        assert_reasoning_path(trace, DALLAS_TEXAS_AUSTIN)
    assert check_detours(base, SPORTS)["sports"], "the base model should take the sports detour here"
    assert_no_detour(tuned, SPORTS)
    assert tuned.extra["adapter"]["path"] == ADAPTER and len(tuned.extra["adapter"]["sha256"]) == 64

    diff = diff_traces(base, tuned)
    print(diff)
    assert "detour 'sports' removed" in diff
    assert tuned == trace_snapshot


@pytest.mark.gpu
@pytest.mark.parametrize("prompt", PROMPTS.values(), ids=PROMPTS.keys())
def test_unsloth_4bit_keeps_answer_path_and_detours(reasoning_model, prompt):
    """The same model through Unsloth in 4-bit on a GPU: wording may move, the answer
    and the path must not, and the plain prompts take no detour (on the precise ones the
    detour is a coin the GPU's sampler tosses differently)."""
    import importlib.util

    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU (the unsloth backend is GPU-only)")
    if importlib.util.find_spec("unsloth") is None:
        pytest.skip("needs unsloth: pip install 'pytest-reasoning[unsloth]'")
    # use_cache=False: Unsloth 2026.10's cached 4-bit decode drifts from its own prefill
    # on this tiny checkpoint (its uncached decode and bitsandbytes through transformers
    # reproduce the CPU traces); see models/README.md.
    trace = reasoning_model.using(backend="unsloth", use_cache=False)(prompt, **SAMPLING)

    assert trace.backend.name == "unsloth" and trace.extra["quantization"] == "4bit"
    assert_answer(trace, contains=["Austin", "オースティン"])
    assert_reasoning_path(trace, DALLAS_TEXAS_AUSTIN)
    if not ("1.3 million" in prompt or "130万" in prompt):
        assert_no_detour(trace, SPORTS)
