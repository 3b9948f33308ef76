"""Distribution snapshots on the small Qwen3, live on the CPU.

The seed's question with the population clause, 64 samples under the Qwen3 model
card's thinking-mode sampling, snapshotted.  Drawn again with another seed, other
samples take the detour and the text differs, yet the snapshot passes: noise is not a
diff.  Dropping the clause, a prompt edit that really moves the detour rate, fails the
snapshot, and the failure shows the effect (the rate's change with its interval and
p-value) before the text.
"""

from __future__ import annotations

import json

PRECISE = ("In the United States, what is the capital of the state that contains Dallas, "
           "a big city of about 1.3 million people?")
PLAIN = "In the United States, what is the capital of the state that contains Dallas?"

TEST = """
import os

import pytest
from pytest_reasoning import Detour, assert_answer, assert_no_detour

SPORTS = Detour("sports", terms=["NFL", "Cowboys"])


@pytest.mark.reasoning(backend="transformers", model={model!r}, device="cpu", record_mode="off")
def test_capital(reasoning_model, trace_snapshot):
    sample = reasoning_model.sample(os.environ["PROMPT"], 64, thinking=True, temperature=0.6, top_p=0.95,
                                    top_k=20, seed=int(os.environ["SEED"]), max_tokens=120)
    assert_answer(sample, contains="Austin", min_rate=0.9)
    assert_no_detour(sample, SPORTS, max_rate=0.9)
    assert sample == trace_snapshot
"""


def run(pytester, monkeypatch, prompt: str, seed: int, *args: str):
    monkeypatch.setenv("PROMPT", prompt)
    monkeypatch.setenv("SEED", str(seed))
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_noise_is_not_a_diff_and_a_prompt_edit_that_moves_the_rate_is(pytester, monkeypatch, tiny_qwen3):
    pytester.makepyfile(test_capital=TEST.format(model=str(tiny_qwen3)))
    stored = pytester.path / "snapshots" / "test_capital" / "test_capital.json"

    run(pytester, monkeypatch, PRECISE, 0, "--snapshot-update").assert_outcomes(passed=1)
    first = json.loads(stored.read_text(encoding="utf-8"))
    taken = first["checks"]["detours"]["sports"]["count"]
    assert first["n"] == 64 and 16 <= taken <= 48  # the clause: a detour in some samples, not all

    before = stored.read_bytes()
    run(pytester, monkeypatch, PRECISE, 1000).assert_outcomes(passed=1)  # another seed: it matches
    assert stored.read_bytes() == before

    edited = run(pytester, monkeypatch, PLAIN, 0, "-vv")
    edited.assert_outcomes(failed=1)
    lines = edited.stdout.lines
    header = next(i for i, line in enumerate(lines) if "What changed in the sample" in line)
    test = next(i for i, line in enumerate(lines) if "Holm's correction across" in line)
    effects = [line.lstrip("E").strip() for line in lines[header + 1:test]]  # first: what moved, by p-value
    assert effects and all(line.startswith("- ") and "95% CI" in line for line in effects), effects
    sports = effects[0]  # the rates before the measures
    assert sports.startswith(f"- sports rate {taken}/64 -> 0/64: -") and "Fisher p = " in sports
    assert any(line.startswith("- reasoning sentences median") for line in effects)  # the detour's 2 sentences
    assert test < next(i for i, line in enumerate(lines) if '"count": 0,' in line)  # then the text diff
    assert stored.read_bytes() == before
