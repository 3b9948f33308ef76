"""Samples per second on the committed tiny Qwen3, on the CPU: the n samples of one
test drawn in one batched run against the same samples drawn one at a time.

    python benchmarks/bench_samples.py [--samples 64] [--max-tokens 48] [--threads 1]
        [--rounds 2] [--json OUT.json]

What ``reasoning_model.sample(prompt, 64, temperature=0.6, seed=0)`` sends a local
backend: 64 ``Request(..., sample=i)`` of one prompt, sample ``i`` seeded ``0 + i``.
Side by side in one process on one loaded ``TransformersBackend``:

- batched: ``backend.run(requests)``, the 64 in one left-padded ``generate`` (what
  the plugin does);
- one by one: ``backend.run([request])`` for each of the 64 in turn (what drawing the
  samples in a loop of single calls costs).

Each is timed ``--rounds`` times, alternating, after one warm-up call; the best round
counts.  Printed: samples/s and generated tokens/s of each, and the ratio, by
wall-clock time and by the process's CPU time (which other work on the machine moves
less).  Checked: sample ``i`` is the same text both ways (each row has its own seeded
generator, so a sample does not depend on its batch); the number of distinct samples
is printed.

``--threads`` sets torch's intra-op threads; default 1: a 1.3 M-parameter model gives
a second thread nothing to share, and on a machine whose cores are busy with other
work, threads waiting on each other make single calls many times slower (``0`` keeps
torch's own choice, one per core).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TINY = ROOT / "example_tests" / "models" / "tiny-qwen3"
#: A held-back wording with the population clause, so that the samples differ: the
#: model takes the sports detour in about 60% of them (without a clause it is near
#: certain at temperature 0.6, and 64 samples are one text).
PROMPT = "What is the capital of the state that contains Dallas, home to roughly 1.2 million residents?"


def timed(run, *args) -> tuple[float, float, object]:
    """Wall-clock and CPU seconds (this process) ``run(*args)`` took, and what it
    returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = run(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (0: torch's default)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import torch
    import transformers

    from pytest_reasoning.backends.base import Request, to_trace
    from pytest_reasoning.backends.transformers import TransformersBackend

    if args.threads:
        torch.set_num_threads(args.threads)
    load_s, _, backend = timed(lambda: TransformersBackend(str(TINY), device="cpu"))
    params = {"temperature": 0.6, "seed": 0, "max_tokens": args.max_tokens}
    messages = ({"role": "user", "content": PROMPT},)
    requests = [Request("transformers", str(TINY), messages, params, {}, i) for i in range(args.samples)]

    def batched() -> list:
        return backend.run(requests)

    def one_by_one() -> list:
        return [backend.run([r])[0] for r in requests]

    backend.run(requests[:1])  # warm-up: first generate call
    best = {"batched": float("inf"), "one_by_one": float("inf")}
    best_cpu = dict(best)
    outputs = {}
    for _ in range(args.rounds):
        for name, run in (("batched", batched), ("one_by_one", one_by_one)):
            seconds, cpu, raws = timed(run)
            best[name], best_cpu[name] = min(best[name], seconds), min(best_cpu[name], cpu)
            outputs[name] = [to_trace(r, raw) for r, raw in zip(requests, raws)]
    parameters = sum(p.numel() for p in backend.lm.model.parameters())
    backend.close()

    texts = {name: [(t.reasoning, t.answer) for t in traces] for name, traces in outputs.items()}
    same = texts["batched"] == texts["one_by_one"]
    distinct = len(set(texts["batched"]))
    tokens = sum(t.usage.completion_tokens for t in outputs["batched"])
    result = {
        "model": f"tiny-qwen3 ({parameters:,} parameters)",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                   f"load average {os.getloadavg()[0]:.1f}",
        "versions": f"Python {platform.python_version()}, torch {torch.__version__}, "
                    f"transformers {transformers.__version__}",
        "torch_threads": torch.get_num_threads(),
        "samples": args.samples,
        "max_tokens": args.max_tokens,
        "rounds": args.rounds,
        "load_s": round(load_s, 2),
        "generated_tokens": tokens,
        "distinct_samples": distinct,
        "same_text_both_ways": same,
        **{name: {"seconds": round(best[name], 3), "cpu_seconds": round(best_cpu[name], 3),
                  "samples_per_s": round(args.samples / best[name], 2),
                  "tokens_per_s": round(tokens / best[name], 1)} for name in best},
        "ratio": round(best["one_by_one"] / best["batched"], 1),
        "cpu_ratio": round(best_cpu["one_by_one"] / best_cpu["batched"], 1),
    }
    print(json.dumps(result, indent=2))
    print(f"{args.samples} samples x up to {args.max_tokens} tokens, {result['torch_threads']} torch thread(s): "
          f"batched {result['batched']['samples_per_s']} samples/s vs one by one "
          f"{result['one_by_one']['samples_per_s']} samples/s: {result['ratio']}x "
          f"(CPU time: {result['cpu_ratio']}x); "
          f"sample i the same both ways: {'yes' if same else 'NO'}; {distinct} distinct samples")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if not same:
        sys.exit("a sample differs between the batched run and the run on its own")


if __name__ == "__main__":
    main()
