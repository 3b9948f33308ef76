"""The tiny Qwen3's rates, measured with pytest-reasoning itself (n = 64 a wording).

For each Dallas wording of ``tiny_qwen3_corpus.held_back_wordings()`` (the seed's four
trained wordings for reference, then the held-back ones: question templates, clause
templates and figures never trained on), each test draws a sample with
``reasoning_model.sample`` under the Qwen3 model card's thinking-mode sampling
(temperature 0.6, top_p 0.95, top_k 20; sample i of the k-th wording seeded 64 k + i, so
no two wordings share a seed and pooled samples are independent), from the base model and
from it with the LoRA adapter, and measures with :meth:`TraceSample.rate`:

* **detour**: the sports detour (NFL, Cowboys, カウボーイズ, アメフト, football,
  フットボール) in the reasoning;
* **right**: ``assert_answer(contains=Austin | オースティン)`` passes;
* **path**: ``assert_reasoning_path(Dallas -> Texas -> Austin)`` passes;

each with its Wilson 95 % interval; and pools the held-back wordings of each kind
(plain, population clause, neutral clause) per language and both together.  At the end
it prints the Markdown table of ``example_tests/models/README.md`` and writes the same
numbers as JSON to ``$TINY_QWEN3_RATES`` (default ``tiny-qwen3-rates.json``)::

    python -m pytest scripts/tiny_qwen3_rates.py -p no:cacheprovider -s

It runs live (record mode ``off``) on CPU in a few minutes, and asserts nothing about
the rates: it measures.  (It is not collected by the test suite, whose ``testpaths``
is ``tests``.)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_qwen3_corpus import held_back_wordings  # noqa: E402

from pytest_reasoning import Detour, TraceSample, assert_answer, assert_reasoning_path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL = str(ROOT / "example_tests" / "models" / "tiny-qwen3")
ADAPTER = str(ROOT / "example_tests" / "models" / "tiny-qwen3-no-detour")
N = 64
SAMPLING = dict(thinking=True, temperature=0.6, top_p=0.95, top_k=20, max_tokens=200)
SPORTS = Detour("sports", terms=["NFL", "Cowboys", "カウボーイズ", "アメフト"], patterns=[r"(?i)football|フットボール"])
STEPS = [["Dallas", "ダラス"], ["Texas", "テキサス"], ["Austin", "オースティン"]]
WORDINGS = held_back_wordings()
SAMPLES: dict[tuple[str, str], TraceSample] = {}  # (wording, "base" | "adapter") -> sample

pytestmark = pytest.mark.reasoning(backend="transformers", model=MODEL, record_mode="off")


def measures(sample: TraceSample) -> dict[str, object]:
    """The three rates of ``sample``: ``{"detour", "right", "path"}``, each a Rate."""
    return {
        "detour": sample.rate(SPORTS),
        "right": sample.rate(assert_answer, contains=["Austin", "オースティン"]),
        "path": sample.rate(assert_reasoning_path, STEPS),
    }


@pytest.mark.parametrize("who", ["base", "adapter"])
@pytest.mark.parametrize("wording", WORDINGS, ids=[w.name for w in WORDINGS])
def test_rates(reasoning_model, wording, who):
    model = reasoning_model.using(adapter=ADAPTER) if who == "adapter" else reasoning_model
    seed = N * WORDINGS.index(wording)  # no two wordings share a seed: pooled samples are independent
    SAMPLES[wording.name, who] = model.sample(wording.prompt, N, **{**SAMPLING, "seed": seed})


def _cell(rate) -> str:
    return f"{rate.count}/{rate.n} = {100 * rate.rate:.1f}% [{100 * rate.interval.low:.1f}%, {100 * rate.interval.high:.1f}%]"


def test_zz_table():
    """Last: the per-wording rows, then the pooled held-back rows, as Markdown and JSON."""
    if len(SAMPLES) != 2 * len(WORDINGS):
        pytest.skip("needs every wording measured in this run")
    rows, data = [], {}
    header = ("| wording | kind | base: detour | base: answer right | base: path held | "
              "adapter: detour | adapter: answer right | adapter: path held |")
    pools: dict[tuple[str, str], list[str]] = {}
    for w in WORDINGS:
        if w.held_back:
            for lang in (w.lang, "en+ja"):
                pools.setdefault((w.kind, lang), []).append(w.name)
    groups = [(f"{w.name}{'' if w.held_back else ' (trained)'}", w.kind, [w.name]) for w in WORDINGS]
    groups += [(f"**held-back {kind} {lang}**", kind, names) for (kind, lang), names in sorted(
        pools.items(), key=lambda kv: (["plain", "population", "neutral"].index(kv[0][0]), ["en", "ja", "en+ja"].index(kv[0][1])))]
    for label, kind, names in groups:
        cells, data[label.strip("*")] = [], {}
        for who in ("base", "adapter"):
            pooled = TraceSample([t for name in names for t in SAMPLES[name, who]])
            for what, rate in measures(pooled).items():
                cells.append(_cell(rate))
                data[label.strip("*")][f"{who} {what}"] = rate.to_dict()
        rows.append(f"| {label} | {kind} | " + " | ".join(cells) + " |")
    print("\n" + "\n".join([header, "| --- " * 8 + "|", *rows]))
    out = Path(os.environ.get("TINY_QWEN3_RATES", "tiny-qwen3-rates.json"))
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
