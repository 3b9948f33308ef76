"""Measure the tiny Qwen3 (and optionally its LoRA adapter) as a distribution.

For each Dallas wording of ``tiny_qwen3_corpus.held_back_wordings()`` (the seed's four
trained wordings, for reference, then the held-back ones: question templates, clause
templates and figures never trained on), the script draws ``n`` samples under the
Qwen3 model card's thinking-mode sampling (temperature 0.6, top_p 0.95, top_k 20,
min_p 0) in ONE batched ``model.generate`` call (``n`` copies of the prompt,
``do_sample=True``, ``torch.manual_seed(seed + i)`` before the call for the ``i``-th
wording), and counts

* **detour**: the reasoning contains NFL, Cowboys, カウボーイズ, football, フットボール
  or アメフト (``football`` in any case);
* **right**: the answer (after ``</think>``) contains Austin or オースティン;
* **path**: the reasoning names Dallas, then Texas, then Austin (or ダラス, テキサス,
  オースティン), in that order.

Each rate comes with its Wilson 95 % interval
(``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``), per wording and
pooled over the held-back wordings of each kind (plain, population clause, neutral
clause), per language and both together.  Printed as a table; ``--json`` writes the
same numbers as JSON.

Usage::

    python scripts/measure_tiny_qwen3.py                      # the base model, n=64
    python scripts/measure_tiny_qwen3.py --adapter example_tests/models/tiny-qwen3-no-detour
    python scripts/measure_tiny_qwen3.py --n 128 --kinds population --json rates.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_qwen3_corpus import Wording, held_back_wordings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "example_tests" / "models" / "tiny-qwen3"

#: The Qwen3 model card's thinking-mode sampling.
SAMPLING = {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0}
DETOUR_TERMS = ("NFL", "Cowboys", "カウボーイズ", "フットボール", "アメフト")
PATH = (("Dallas", "ダラス"), ("Texas", "テキサス"), ("Austin", "オースティン"))
ANSWERS = ("Austin", "オースティン")


def load(model_dir: str | Path, adapter: str | Path | None = None, device: str = "cpu"):
    """``(model, tokenizer)`` from ``model_dir`` with transformers (float32, eval mode),
    with the PEFT adapter in ``adapter`` applied when given; left padding."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype="float32")
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
    return model.to(device).eval(), tok


def split(text: str) -> tuple[str, str]:
    """``(reasoning, answer)`` of one generated text (special tokens kept): the text
    between ``<think>`` and the last ``</think>``, and what follows it up to
    ``<|im_end|>``; all reasoning and no answer when ``</think>`` never came."""
    text = text.split("<|im_end|>")[0]
    if "</think>" not in text:
        return text.split("<think>", 1)[-1].strip(), ""
    reasoning, answer = text.rsplit("</think>", 1)
    return reasoning.split("<think>", 1)[-1].strip(), answer.strip()


def has_detour(reasoning: str) -> bool:
    """Whether the reasoning mentions the sports detour."""
    return any(t in reasoning for t in DETOUR_TERMS) or "football" in reasoning.lower()


def holds_path(reasoning: str) -> bool:
    """Whether the reasoning names Dallas, Texas and Austin in that order (English or
    Japanese names)."""
    at = 0
    for alternatives in PATH:
        found = [i for i in (reasoning.find(a, at) for a in alternatives) if i >= 0]
        if not found:
            return False
        at = min(found) + 1
    return True


def sample(model, tok, prompt: str, n: int, seed: int, max_new_tokens: int) -> list[str]:
    """``n`` samples of the thinking-mode completion of ``prompt`` in one batched
    ``generate`` call under :data:`SAMPLING`, seeded with ``seed``; decoded with the
    special tokens kept."""
    import torch

    text = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                   enable_thinking=True, tokenize=False)
    enc = tok([text] * n, return_tensors="pt", add_special_tokens=False).to(model.device)
    torch.manual_seed(seed)
    with torch.inference_mode():
        out = model.generate(**enc, do_sample=True, max_new_tokens=max_new_tokens, **SAMPLING)
    return tok.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=False)


def rate(k: int, n: int) -> dict:
    """``{"k", "n", "rate", "ci95"}`` with the Wilson 95 % interval."""
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return {"k": k, "n": n, "rate": k / n, "ci95": [float(ci.low), float(ci.high)]}


def counts(texts: list[str]) -> dict[str, int]:
    """How many of ``texts`` detour, answer right and hold the path."""
    parts = [split(t) for t in texts]
    return {
        "detour": sum(has_detour(r) for r, _ in parts),
        "right": sum(any(a in ans for a in ANSWERS) for _, ans in parts),
        "path": sum(holds_path(r) for r, _ in parts),
    }


def measure(model, tok, wordings: list[Wording], n: int = 64, seed: int = 0,
            max_new_tokens: int = 200, log=print) -> dict:
    """Sample every wording (the ``i``-th seeded with ``seed + i``, so that wordings
    do not share random draws) and return ``{"wordings": [...], "pooled": [...]}``: per
    wording its counts and rates, and pooled rates per kind over the held-back
    wordings (per language and both)."""
    rows = []
    for i, w in enumerate(wordings):
        t0 = time.perf_counter()
        texts = sample(model, tok, w.prompt, n, seed + i, max_new_tokens)
        c = counts(texts)
        rows.append({"name": w.name, "lang": w.lang, "kind": w.kind, "held_back": w.held_back,
                     "prompt": w.prompt, "example": split(texts[0])[0],
                     **{m: rate(c[m], n) for m in ("detour", "right", "path")}})
        log(f"  {w.name}: detour {c['detour']}/{n}, right {c['right']}/{n}, path {c['path']}/{n} "
            f"({time.perf_counter() - t0:.1f} s)")
    pooled = []
    for kind in ("plain", "population", "neutral"):
        for lang in ("en", "ja", "en+ja"):
            group = [r for r in rows if r["held_back"] and r["kind"] == kind and lang in (r["lang"], "en+ja")]
            if not group:
                continue
            total = sum(r["detour"]["n"] for r in group)
            pooled.append({"name": f"held-back {kind} {lang}", "lang": lang, "kind": kind, "wordings": len(group),
                           **{m: rate(sum(r[m]["k"] for r in group), total) for m in ("detour", "right", "path")}})
    return {"wordings": rows, "pooled": pooled}


def fmt(r: dict) -> str:
    lo, hi = r["ci95"]
    return f"{r['k']:>3}/{r['n']:<3} {r['rate']:6.1%} [{lo:5.1%}, {hi:5.1%}]"


def table(result: dict) -> str:
    """The measurement as a fixed-width text table."""
    head = f"{'wording':<30} {'detour':<28} {'answer right':<28} {'path held':<28}"
    lines = [head, "-" * len(head)]
    for r in result["wordings"] + result["pooled"]:
        name = r["name"] + ("" if r.get("held_back", True) else " (trained)")
        lines.append(f"{name:<30} {fmt(r['detour']):<28} {fmt(r['right']):<28} {fmt(r['path']):<28}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--adapter", type=Path, default=None)
    ap.add_argument("--n", type=int, default=64, help="samples per wording (one generate call)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kinds", default="plain,population,neutral",
                    help="comma-separated kinds of wording to measure")
    ap.add_argument("--max-new-tokens", type=int, default=200)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="also write the result here as JSON")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    kinds = set(args.kinds.split(","))
    wordings = [w for w in held_back_wordings() if w.kind in kinds]
    model, tok = load(args.model, args.adapter, args.device)
    t0 = time.perf_counter()
    result = measure(model, tok, wordings, n=args.n, seed=args.seed, max_new_tokens=args.max_new_tokens)
    result = {"model": str(args.model), "adapter": str(args.adapter) if args.adapter else None,
              "n": args.n, "seed": args.seed, "sampling": SAMPLING, "max_new_tokens": args.max_new_tokens,
              "seconds": round(time.perf_counter() - t0, 1), **result}
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
