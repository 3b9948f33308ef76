"""Check the GPU path on a CUDA GPU (run on an H200): the tiny Qwen3 through ``UnslothBackend`` in 4-bit.

What it does (each step's traces written as JSON under ``--out``):

1. loads ``example_tests/models/tiny-qwen3`` with ``UnslothBackend`` (4-bit,
   ``FastLanguageModel.from_pretrained`` + ``for_inference``);
2. generates for the four example prompts (English + Japanese, plain + the
   "1.3 million people" variant), greedy and with the Qwen3 model-card sampling at
   seed 0, batched, and greedy one at a time (Unsloth's left-padding batching was
   broken in older releases: batched must equal single);
3. loads the same base with the LoRA adapter ``tiny-qwen3-no-detour`` and generates
   the same prompts greedily (base has the Cowboys/NFL detour on the variant, the
   adapter must not);
4. with ``--transformers`` also runs ``TransformersBackend(load_in_4bit=True)``
   (bitsandbytes NF4) for comparison.

Writes ``<out>/<step>.json`` (a list of ``Trace.to_dict()``), ``<out>/summary.json``
(versions, GPU name, load times, checks with pass/fail) and exits 1 when a check
fails.  Needs torch with CUDA, transformers, peft, bitsandbytes and unsloth.

On a GPU machine with those packages (here installed from wheels into ``/tmp/site``),
from the project root::

    export PYTHONPATH=/tmp/site:$PWD HF_HUB_OFFLINE=1 UNSLOTH_DISABLE_STATISTICS=1
    python3 scripts/gpu_check.py --out gpu-out --transformers
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TINY = "example_tests/models/tiny-qwen3"
ADAPTER = "example_tests/models/tiny-qwen3-no-detour"
PROMPTS = {
    "en-plain": "In the United States, what is the capital of the state that contains Dallas?",
    "en-variant": ("In the United States, what is the capital of the state that contains Dallas, "
                   "a big city of about 1.3 million people?"),
    "ja-plain": "アメリカ合衆国において、ダラスを含む州の州都の名前をおしえてください。",
    "ja-variant": "アメリカ合衆国において、人口が約130万人の大都市であるダラスを含む州の州都の名前をおしえてください。",
}
DETOUR = ("Cowboys", "NFL", "カウボーイズ")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-check-out")))
    ap.add_argument("--model", default=TINY)
    ap.add_argument("--adapter", default=ADAPTER)
    ap.add_argument("--max-seq-length", type=int, default=512)
    ap.add_argument("--transformers", action="store_true", help="also run TransformersBackend in 4-bit")
    args = ap.parse_args(argv)
    os.chdir(ROOT)  # the model paths are relative to the repository root
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("UNSLOTH_DISABLE_STATISTICS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from pytest_reasoning.backends import Request
    from pytest_reasoning.backends.unsloth import UnslothBackend

    summary: dict = {"checks": {}, "load_s": {}, "generate_s": {}}
    checks = summary["checks"]

    def requests(backend: str, **params) -> list[Request]:
        return [Request(backend, args.model, ({"role": "user", "content": q},), dict(params))
                for q in PROMPTS.values()]

    def run(name: str, backend, reqs: list[Request], single: bool = False) -> list:
        t0 = time.perf_counter()
        traces = [backend.generate([r])[0] for r in reqs] if single else backend.generate(reqs)
        summary["generate_s"][name] = round(time.perf_counter() - t0, 3)
        (args.out / f"{name}.json").write_text(
            json.dumps([t.to_dict() for t in traces], ensure_ascii=False, indent=1))
        for key, t in zip(PROMPTS, traces):
            print(f"[{name}] {key}: {t.answer!r} | {t.reasoning[:90]!r}...")
        return traces

    def has_detour(t) -> bool:
        return any(d in t.reasoning for d in DETOUR)

    def correct(traces) -> bool:
        return all(("Austin" in t.answer or "オースティン" in t.answer) for t in traces)

    t0 = time.perf_counter()
    base = UnslothBackend(args.model, load_in_4bit=True, max_seq_length=args.max_seq_length)
    summary["load_s"]["unsloth-base"] = round(time.perf_counter() - t0, 3)
    greedy = run("unsloth-base-greedy", base, requests("unsloth", temperature=0))
    sampled = run("unsloth-base-sampled-seed0", base, requests("unsloth"))
    single = run("unsloth-base-greedy-single", base, requests("unsloth", temperature=0), single=True)
    summary["backend"] = greedy[0].backend.to_dict()
    summary["identity"] = base.identity()
    checks["base answers Austin (greedy, sampled)"] = correct(greedy) and correct(sampled)
    checks["batched == single (greedy)"] = all(
        (a.reasoning, a.answer, a.usage) == (b.reasoning, b.answer, b.usage) for a, b in zip(greedy, single))
    checks["base: detour on variants only"] = [has_detour(t) for t in greedy] == [False, True, False, True]
    base.close()

    t0 = time.perf_counter()
    tuned = UnslothBackend(args.model, adapter=args.adapter, load_in_4bit=True,
                           max_seq_length=args.max_seq_length)
    summary["load_s"]["unsloth-adapter"] = round(time.perf_counter() - t0, 3)
    tuned_greedy = run("unsloth-adapter-greedy", tuned, requests("unsloth", temperature=0))
    summary["adapter_identity"] = tuned.identity()
    checks["adapter answers Austin"] = correct(tuned_greedy)
    checks["adapter: no detour"] = not any(has_detour(t) for t in tuned_greedy)
    tuned.close()

    if args.transformers:
        from pytest_reasoning.backends.transformers import TransformersBackend

        t0 = time.perf_counter()
        tb = TransformersBackend(args.model, load_in_4bit=True, max_seq_length=args.max_seq_length)
        summary["load_s"]["transformers-4bit"] = round(time.perf_counter() - t0, 3)
        tg = run("transformers-4bit-greedy", tb, requests("transformers", temperature=0))
        checks["transformers 4-bit answers Austin"] = correct(tg)
        checks["transformers 4-bit == unsloth 4-bit (greedy text)"] = all(
            (a.reasoning, a.answer) == (b.reasoning, b.answer) for a, b in zip(tg, greedy))
        tb.close()

    import torch

    summary["versions"] = _versions()
    summary["gpu"] = torch.cuda.get_device_name(0)
    (args.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0 if all(v for v in checks.values() if isinstance(v, bool)) else 1


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for name in ("torch", "transformers", "peft", "bitsandbytes", "unsloth", "accelerate"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


if __name__ == "__main__":
    sys.exit(main())
