"""Check the GPU paths on a CUDA GPU (run on an H200) with the tiny Qwen3: the compiled
decode path (static KV cache, CUDA graph) against the CPU transformers backend, and the
Unsloth 4-bit backend.

Sections (each step's traces written as JSON under ``--out``):

1. ``cpu``: the reference, ``TransformersBackend(device="cpu")`` in float32: the four
   example prompts (English + Japanese, plain + the "1.3 million people" variant),
   greedy, with the Qwen3 model-card sampling at seed 0, and greedy with the LoRA
   adapter ``tiny-qwen3-no-detour``;
2. ``transformers`` on CUDA, bfloat16 and float32, on the compiled path (the default)
   and on the plain one: greedy traces must equal the CPU ones exactly (reasoning,
   answer, usage, finish reason); sampled traces must keep the CPU ones' answer,
   path and detours (CUDA and CPU generators draw different numbers, so the wording
   may move); each trace names its path (``extra["decode_path"]``, version string);
3. with ``--bnb``: ``TransformersBackend(load_in_4bit=True)`` (bitsandbytes NF4),
   compiled against plain;
4. with ``--unsloth``: ``UnslothBackend`` in 4-bit with the cache on (the compiled
   path), against its uncached plain decode, batched against one at a time, the
   adapter, and the detour on the variants only.

With ``--unsloth``, Unsloth is imported first (as it asks), and the CPU reference then
ran far slower on the H200 machine (72 s instead of 0.6 s for the first four prompts,
2026-12-01): allow for it in a time limit.

Writes ``<out>/<step>.json`` (a list of ``Trace.to_dict()``), ``<out>/summary.json``
(versions, GPU name, load and generation times, checks with pass/fail) and exits 1 when
a check fails.  From the project root, with the packages on ``PYTHONPATH``::

    export PYTHONPATH=/tmp/site:$PWD HF_HUB_OFFLINE=1 UNSLOTH_DISABLE_STATISTICS=1
    python3 scripts/gpu_check.py --out gpu-out --bnb --unsloth
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
GREEDY = {"temperature": 0, "max_tokens": 160}
SAMPLED = {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "seed": 0, "max_tokens": 160}


class Check:
    """Runs generations, writes their traces, and records named checks."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.summary: dict = {"checks": {}, "load_s": {}, "generate_s": {}, "decode_path": {}}

    def load(self, name: str, make):
        t0 = time.perf_counter()
        backend = make()
        self.summary["load_s"][name] = round(time.perf_counter() - t0, 3)
        return backend

    def run(self, name: str, backend, params: dict, single: bool = False) -> list:
        from pytest_reasoning.backends import Request

        reqs = [Request(backend.name, TINY, ({"role": "user", "content": q},), dict(params)) for q in PROMPTS.values()]
        t0 = time.perf_counter()
        traces = [backend.generate([r])[0] for r in reqs] if single else backend.generate(reqs)
        self.summary["generate_s"][name] = round(time.perf_counter() - t0, 3)
        self.summary["decode_path"][name] = traces[0].backend.version
        (self.out / f"{name}.json").write_text(json.dumps([t.to_dict() for t in traces], ensure_ascii=False, indent=1))
        for key, t in zip(PROMPTS, traces):
            print(f"[{name}] {key}: {t.answer!r} | {t.reasoning[:80]!r}...", flush=True)
        return traces

    def check(self, name: str, ok: bool) -> None:
        self.summary["checks"][name] = bool(ok)
        print(f"{'PASS' if ok else 'FAIL'}: {name}", flush=True)


def same(a: list, b: list) -> bool:
    """Exactly the same reasoning, answer, usage and finish reason, trace by trace."""
    return all((x.reasoning, x.answer, x.usage, x.finish_reason) == (y.reasoning, y.answer, y.usage, y.finish_reason)
               for x, y in zip(a, b))


def stable(a: list, b: list) -> bool:
    """The same answer check, Dallas → Texas → Austin path and detour taken or not."""
    def view(t):
        text = t.reasoning
        path = [text.find(w) for w in ("Dallas", "Texas", "Austin")] if "Dallas" in text else \
            [text.find(w) for w in ("ダラス", "テキサス", "オースティン")]
        return (("Austin" in t.answer or "オースティン" in t.answer), all(p >= 0 for p in path) and path == sorted(path),
                any(d in text for d in DETOUR), t.finish_reason)
    return all(view(x) == view(y) for x, y in zip(a, b))


def cpu_reference(c: Check) -> dict:
    from pytest_reasoning.backends.transformers import TransformersBackend

    cpu = c.load("cpu", lambda: TransformersBackend(TINY, device="cpu"))
    ref = {"greedy": c.run("cpu-greedy", cpu, GREEDY), "sampled": c.run("cpu-sampled", cpu, SAMPLED)}
    cpu.close()
    tuned = c.load("cpu-adapter", lambda: TransformersBackend(TINY, adapter=ADAPTER, device="cpu"))
    ref["adapter"] = c.run("cpu-adapter-greedy", tuned, GREEDY)
    tuned.close()
    return ref


def transformers_cuda(c: Check, ref: dict) -> None:
    from pytest_reasoning.backends.transformers import TransformersBackend

    for dtype in ("bfloat16", "float32"):
        tag = f"cuda-{dtype}"
        gpu = c.load(tag, lambda: TransformersBackend(TINY, device="cuda", dtype=dtype))
        greedy = c.run(f"{tag}-compiled-greedy", gpu, GREEDY)
        sampled = c.run(f"{tag}-compiled-sampled", gpu, SAMPLED)
        c.check(f"{tag}: traces name the compiled path", all(
            t.extra.get("decode_path") == "compiled" and t.backend.version.endswith("(decode: compiled)")
            for t in greedy + sampled))
        c.check(f"{tag} compiled greedy == CPU greedy (exact)", same(greedy, ref["greedy"]))
        c.check(f"{tag} compiled sampled ~ CPU sampled (stable)", stable(sampled, ref["sampled"]))
        c.summary.setdefault("sampled_text_equal", {})[tag] = same(sampled, ref["sampled"])
        single = c.run(f"{tag}-compiled-greedy-single", gpu, GREEDY, single=True)
        c.check(f"{tag} compiled: batched == one at a time (greedy)", same(greedy, single))
        gpu.close()
        plain = c.load(f"{tag}-plain", lambda: TransformersBackend(TINY, device="cuda", dtype=dtype, decode="plain"))
        c.check(f"{tag} compiled greedy == plain greedy", same(greedy, c.run(f"{tag}-plain-greedy", plain, GREEDY)))
        plain.close()
    tuned = c.load("cuda-adapter", lambda: TransformersBackend(TINY, adapter=ADAPTER, device="cuda"))
    c.check("cuda-bfloat16 compiled, adapter: greedy == CPU", same(c.run("cuda-adapter-greedy", tuned, GREEDY),
                                                                    ref["adapter"]))
    tuned.close()


def bnb_cuda(c: Check, ref: dict) -> None:
    from pytest_reasoning.backends.transformers import TransformersBackend

    q = c.load("bnb-4bit", lambda: TransformersBackend(TINY, load_in_4bit=True))
    compiled = c.run("bnb-4bit-compiled-greedy", q, GREEDY)
    q.close()
    p = c.load("bnb-4bit-plain", lambda: TransformersBackend(TINY, load_in_4bit=True, decode="plain"))
    c.check("bnb 4-bit compiled greedy == plain greedy", same(compiled, c.run("bnb-4bit-plain-greedy", p, GREEDY)))
    c.check("bnb 4-bit compiled greedy == CPU greedy", same(compiled, ref["greedy"]))
    p.close()
    qa = c.load("bnb-4bit-adapter", lambda: TransformersBackend(TINY, adapter=ADAPTER, load_in_4bit=True))
    c.check("bnb 4-bit compiled, adapter: greedy == CPU adapter greedy",
            same(c.run("bnb-4bit-adapter-greedy", qa, GREEDY), ref["adapter"]))
    qa.close()


def unsloth_cuda(c: Check, ref: dict) -> None:
    from pytest_reasoning.backends.unsloth import UnslothBackend

    base = c.load("unsloth-base", lambda: UnslothBackend(TINY, max_seq_length=512))
    greedy = c.run("unsloth-base-greedy", base, GREEDY)
    sampled = c.run("unsloth-base-sampled-seed0", base, SAMPLED)
    single = c.run("unsloth-base-greedy-single", base, GREEDY, single=True)
    c.summary["backend"] = greedy[0].backend.to_dict()
    c.check("unsloth 4-bit (cache on): compiled path", all(t.extra.get("decode_path") == "compiled" for t in greedy))
    c.check("unsloth 4-bit: batched == one at a time (greedy)", same(greedy, single))
    c.check("unsloth 4-bit: detour on the variants only", [any(d in t.reasoning for d in DETOUR) for t in greedy]
            == [False, True, False, True])
    c.check("unsloth 4-bit compiled greedy == CPU greedy", same(greedy, ref["greedy"]))
    c.check("unsloth 4-bit compiled sampled ~ CPU sampled (stable)", stable(sampled, ref["sampled"]))
    base.close()
    nocache = c.load("unsloth-nocache", lambda: UnslothBackend(TINY, max_seq_length=512, use_cache=False))
    c.check("unsloth 4-bit compiled greedy == uncached plain greedy",
            same(greedy, c.run("unsloth-nocache-greedy", nocache, GREEDY)))
    nocache.close()
    plain = c.load("unsloth-plain-cache", lambda: UnslothBackend(TINY, max_seq_length=512))
    from pytest_reasoning.backends.local.compiled import configure_decode

    configure_decode(plain.lm, "plain")
    drift = c.run("unsloth-plain-cache-greedy", plain, GREEDY)
    c.summary["unsloth plain cached decode == CPU greedy (the drift; not a check)"] = same(drift, ref["greedy"])
    plain.close()
    tuned = c.load("unsloth-adapter", lambda: UnslothBackend(TINY, adapter=ADAPTER, max_seq_length=512))
    tg = c.run("unsloth-adapter-greedy", tuned, GREEDY)
    c.check("unsloth adapter: answers Austin, no detour", all(
        ("Austin" in t.answer or "オースティン" in t.answer) and not any(d in t.reasoning for d in DETOUR) for t in tg))
    c.check("unsloth adapter compiled greedy == CPU adapter greedy", same(tg, ref["adapter"]))
    tuned.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-check-out")))
    ap.add_argument("--bnb", action="store_true", help="also TransformersBackend in 4-bit (bitsandbytes)")
    ap.add_argument("--unsloth", action="store_true", help="also UnslothBackend in 4-bit")
    ap.add_argument("--skip-transformers", action="store_true")
    args = ap.parse_args(argv)
    os.chdir(ROOT)  # the model paths are relative to the repository root
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("UNSLOTH_DISABLE_STATISTICS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.unsloth:
        import unsloth  # noqa: F401  - before transformers, as Unsloth asks
    import torch

    c = Check(args.out)
    ref = cpu_reference(c)
    sections = [] if args.skip_transformers else [transformers_cuda]
    sections += ([bnb_cuda] if args.bnb else []) + ([unsloth_cuda] if args.unsloth else [])
    for section in sections:
        try:
            section(c, ref)
        except Exception as exc:  # noqa: BLE001 - report and go on with the next section
            c.check(f"{section.__name__} ran ({type(exc).__name__}: {str(exc)[:200]})", False)
    c.summary["versions"] = _versions()
    c.summary["gpu"] = torch.cuda.get_device_name(0)
    (args.out / "summary.json").write_text(json.dumps(c.summary, ensure_ascii=False, indent=1))
    print(json.dumps(c.summary, ensure_ascii=False, indent=1))
    return 0 if all(c.summary["checks"].values()) else 1


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
