"""Local decode on a CUDA GPU, every path side by side in one run: the per-test
``generate`` loop, the plugin's batched plain path, and the compiled path (static KV
cache, decode step captured as a CUDA graph), at several batch sizes.

Usage (on a GPU machine with torch and transformers; bitsandbytes for ``--bnb``,
unsloth for ``--unsloth``):

    python benchmarks/bench_local_gpu.py [--arch 4b] [--batches 1,64,256] [--new-tokens 128]
        [--loop-prompts 2] [--bnb] [--unsloth] [--profile] [--json OUT.json]

It builds a full-size Qwen3 architecture (``--arch``: 1.7b, 4b, 8b or 14b configs from the
Qwen3 model cards' config.json) with random weights (decode speed depends on the shapes, not
the values) and a word-level tokenizer with Qwen3's vocabulary size and special-token ids
and the project's Qwen3-style chat template, saves it, and loads it through the
``transformers`` backend in bfloat16 (and in 4-bit with ``--bnb``, through Unsloth with
``--unsloth``).  Each row is ``backend.run`` of n prompt tests, greedy, with
``--new-tokens`` new tokens; the path is switched with
:func:`~pytest_reasoning.backends.local.compiled.configure_decode`.  Per row:

- ms/step: (time of the run with ``--new-tokens`` - time of the same run with 1 new
  token) / (new tokens - 1): decode steps only, prefill and tokenisation excluded;
- tokens/s: generated tokens / time of the whole run (prefill included);
- roofline: the bytes a decode step must read (weights as stored, plus the KV cache of
  the mean context) / 4.8 TB/s (H200 HBM3e datasheet), over the measured ms/step;
- peak GPU memory of the run (``torch.cuda.max_memory_allocated``).

Random weights rarely emit an end token; generated tokens are counted from the traces.
With ``--profile`` it also profiles five eager decode steps of the compiled path at the
largest batch (kernel time by kind) and times bare graph replays.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HBM_BYTES_PER_S = 4.8e12
# From the Qwen3 model cards' config.json (hidden, intermediate, layers, heads, kv heads, tied).
ARCHS = {
    "1.7b": (2048, 6144, 28, 16, 8, True),
    "4b": (2560, 9728, 36, 32, 8, True),
    "8b": (4096, 12288, 36, 32, 8, False),
    "14b": (5120, 17408, 40, 40, 8, False),
}
VOCAB = 151936
SPECIAL = {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645, "<think>": 151667, "</think>": 151668}


def build_model(arch: str, folder: Path) -> None:
    """Save a random-weight Qwen3 of ``arch`` (bfloat16) with a full-vocabulary tokenizer to ``folder``."""
    import torch
    import transformers
    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers

    hidden, inter, layers, heads, kv, tied = ARCHS[arch]
    config = transformers.Qwen3Config(
        vocab_size=VOCAB, hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv, head_dim=128, max_position_embeddings=40960,
        rope_theta=1_000_000, rms_norm_eps=1e-6, tie_word_embeddings=tied, bos_token_id=151643,
        eos_token_id=151645,
    )
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = transformers.Qwen3ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(folder)
    del model
    torch.cuda.empty_cache()

    taken = set(SPECIAL.values())
    words = {**{f"w{i}": i for i in range(VOCAB) if i not in taken}, **SPECIAL}
    tokenizer = Tokenizer(models.WordLevel(words, unk_token="w0"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                  for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")])
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in ("<think>", "</think>")])
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|im_end|>", pad_token="<|endoftext|>", padding_side="left",
    )
    fast.chat_template = (ROOT / "example_tests" / "models" / "tiny-qwen3" / "chat_template.jinja").read_text()
    fast.save_pretrained(folder)


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def weight_bytes(model) -> int:
    """Bytes of parameters and buffers on the GPU (packed 4-bit weights count as stored)."""
    seen, total = set(), 0
    for t in list(model.parameters()) + list(model.buffers()):
        if t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
    return total


class Bench:
    """Runs and records the rows for one loaded backend."""

    def __init__(self, backend, folder: Path, args, results: list) -> None:
        self.backend, self.folder, self.args, self.results = backend, folder, args, results
        self.prompts = [" ".join(f"w{(7 * i + j) % 5000 + 100}" for j in range(48)) for i in range(max(args.batches))]

    def requests(self, n: int, new: int):
        from pytest_reasoning.backends.base import Request

        params = {"temperature": 0, "max_tokens": new, "thinking": True}
        return [Request(self.backend.name, str(self.folder), ({"role": "user", "content": p},), params)
                for p in self.prompts[:n]]

    def timed(self, n: int, new: int, one_at_a_time: bool = False):
        from pytest_reasoning.backends.base import to_trace

        reqs = self.requests(n, new)
        _sync()
        t0 = time.perf_counter()
        raws = [r for q in reqs for r in self.backend.run([q])] if one_at_a_time else self.backend.run(reqs)
        _sync()
        return time.perf_counter() - t0, [to_trace(q, r) for q, r in zip(reqs, raws)]

    def row(self, name: str, n: int, mode: str, decoder=None, one_at_a_time: bool = False) -> dict:
        """Measure ``backend.run`` of ``n`` prompts on decode path ``mode``."""
        import torch

        from pytest_reasoning.backends.local.compiled import _state, configure_decode

        lm, new = self.backend.lm, self.args.new_tokens
        configure_decode(lm, mode)
        if decoder is not None:
            _state(lm).decoder = decoder(lm.model)
        self.timed(n, 2, one_at_a_time)  # warm-up: kernels, the graph of this bucket
        cuda = torch.cuda.is_available()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        full_s, traces = self.timed(n, new, one_at_a_time)
        peak = torch.cuda.max_memory_allocated() if cuda else 0
        one_s, _ = self.timed(n, 1, one_at_a_time)
        steps = max(t.usage.completion_tokens for t in traces)
        tokens = sum(t.usage.completion_tokens for t in traces)
        step_s = (full_s - one_s) / max(1, steps - 1) / (n if one_at_a_time else 1)
        cfg = lm.model.config
        context = traces[0].usage.prompt_tokens + steps / 2
        kv_read = cfg.num_hidden_layers * 2 * cfg.num_key_value_heads * cfg.head_dim * 2 * context * (
            1 if one_at_a_time else n)
        wbytes = self.decode_weight_bytes(lm)
        floor = (wbytes + kv_read) / HBM_BYTES_PER_S
        row = {
            "path": name, "batch": 1 if one_at_a_time else n, "prompts": n, "decode_path": traces[0].backend.version,
            "ms_per_step": round(step_s * 1e3, 2), "tokens": tokens, "seconds": round(full_s, 2),
            "tokens_per_s": round(tokens / full_s, 1), "roofline_fraction": round(floor / step_s, 3),
            "bytes_per_step": int(wbytes + kv_read), "peak_gpu_gb": round(peak / 1e9, 2),
        }
        print(json.dumps(row), flush=True)
        self.results.append(row)
        return row

    @staticmethod
    def decode_weight_bytes(lm) -> int:
        from pytest_reasoning.backends.local.compiled import _state

        dec = _state(lm).decoder
        if dec is not None and dec.dequantized:
            return sum(2 * p.numel() for p in lm.model.parameters() if p.dtype.is_floating_point) + sum(
                2 * m.in_features * m.out_features for m in lm.model.modules() if type(m).__name__ == "Linear4bit")
        return weight_bytes(lm.model)


def profile_compiled(lm, batch: int) -> dict:
    """Kernel time of five eager decode steps by kind, and the time of bare graph replays."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from pytest_reasoning.backends.local.compiled import _state

    dec = _state(lm).decoder
    ws = next(w for (b, _), w in dec.workspaces.items() if b == batch)
    with torch.inference_mode():
        ws.step()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(5):
                ws.step()
            torch.cuda.synchronize()
    kinds: dict[str, float] = {}
    top = []
    for e in prof.key_averages():
        us = getattr(e, "device_time_total", None) or getattr(e, "cuda_time_total", 0)
        if not us or e.key.startswith("aten::") or e.key.startswith("cuda"):
            continue
        k = e.key.lower()
        kind = ("gemm" if any(s in k for s in ("gemm", "cutlass", "xmma", "nvjet", "gemv", "splitk"))
                else "softmax" if "softmax" in k else "reduce" if "reduce" in k else "elementwise/other")
        kinds[kind] = kinds.get(kind, 0.0) + us / 5 / 1e3
        top.append((us / 5 / 1e3, e.count // 5, e.key[:90]))
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    ws.graph.replay()
    start.record()
    for _ in range(50):
        ws.graph.replay()
    end.record()
    torch.cuda.synchronize()
    return {"batch": batch, "eager_kernel_ms_per_step_by_kind": {k: round(v, 3) for k, v in kinds.items()},
            "eager_kernels_per_step": sum(c for _, c, _ in top),
            "graph_replay_ms_per_step": round(start.elapsed_time(end) / 50, 3),
            "top_kernels_ms_per_step": [(round(ms, 3), c, name) for ms, c, name in sorted(top, reverse=True)[:12]]}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", choices=sorted(ARCHS), default="4b")
    parser.add_argument("--batches", default="1,64,256")
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--loop-prompts", type=int, default=2)
    parser.add_argument("--plain-batches", default="64,256", help="batch sizes of the plain batched rows")
    parser.add_argument("--bnb", action="store_true", help="also load in 4-bit (bitsandbytes NF4)")
    parser.add_argument("--unsloth", action="store_true", help="also load through Unsloth (4-bit)")
    parser.add_argument("--skip-bf16", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--model", type=Path, help="an existing model folder instead of a random --arch (a check)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.batches = [int(b) for b in args.batches.split(",")]
    args.plain_batches = [int(b) for b in args.plain_batches.split(",") if b]
    return args


def main() -> None:
    args = _arguments()
    import torch

    cuda = torch.cuda.is_available()
    out: dict = {"gpu": torch.cuda.get_device_name(0) if cuda else "cpu", "new_tokens": args.new_tokens,
                 "arch": str(args.model) if args.model else f"Qwen3-{args.arch} (random weights)",
                 "prompt_words": 48, "rows": [], "torch": torch.__version__}
    folder = args.model or Path(tempfile.mkdtemp(prefix=f"qwen3-{args.arch}-random-"))
    t0 = time.perf_counter()
    if not args.model:
        build_model(args.arch, folder)
    out["build_s"] = round(time.perf_counter() - t0, 1)
    loads = [] if args.skip_bf16 else [("bf16", "transformers", {"dtype": "bfloat16"})]
    loads += [("bnb-4bit", "transformers", {"load_in_4bit": True})] if args.bnb else []
    loads += [("unsloth-4bit", "unsloth", {})] if args.unsloth else []
    for label, name, extra in loads:
        _run_load(label, name, extra, folder, args, out)
    out["peak_gpu_gb_process"] = round(torch.cuda.max_memory_allocated() / 1e9, 2) if cuda else 0
    _save(args, out)
    _print_table(out)
    if not args.model:
        shutil.rmtree(folder, ignore_errors=True)


def _save(args: argparse.Namespace, out: dict) -> None:
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


def _run_load(label: str, name: str, extra: dict, folder: Path, args: argparse.Namespace, out: dict) -> None:
    """Load the model through backend ``name`` and run its rows (and the profile)."""
    from pytest_reasoning.backends import create_backend

    t0 = time.perf_counter()
    try:
        backend = create_backend(name, str(folder), {"max_seq_length": 1024, "batch_size": max(args.batches), **extra})
    except Exception as exc:  # noqa: BLE001 - a missing package skips its rows
        out[f"{label}_error"] = f"{type(exc).__name__}: {exc}"[:300]
        print(out[f"{label}_error"], flush=True)
        return
    out[f"{label}_load_s"] = round(time.perf_counter() - t0, 1)
    bench = Bench(backend, folder, args, out["rows"])
    for step in _plan(label, args, args.plain_batches):
        try:
            bench.row(*step[:3], **step[3])
        except Exception as exc:  # noqa: BLE001 - one failing row must not lose the others
            out["rows"].append({"path": step[0], "batch": step[1], "error": f"{type(exc).__name__}: {exc}"[:300]})
            print(out["rows"][-1], flush=True)
        _save(args, out)
    if args.profile and label == "bf16":  # the last row left the largest batch's graph in place
        try:
            out["profile"] = profile_compiled(backend.lm, max(args.batches))
            print(json.dumps(out["profile"], indent=1), flush=True)
        except Exception as exc:  # noqa: BLE001
            out["profile"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    backend.close()
    _save(args, out)


def _plan(label: str, args, plain_batches: list[int]) -> list[tuple]:
    """The rows for one loaded model: (name, n prompts, decode mode, keywords)."""
    from pytest_reasoning.backends.local.static_decoder import StaticDecoder

    if label == "bf16":
        rows = [(f"{label} per-test loop", args.loop_prompts, "plain", {"one_at_a_time": True})]
        rows += [(f"{label} batched plain", b, "plain", {}) for b in plain_batches]
        return rows + [(f"{label} compiled", b, "compiled", {}) for b in args.batches]
    b = 64 if 64 in args.batches else max(args.batches)
    rows = [(f"{label} batched plain", b, "plain", {}), (f"{label} compiled (dequantised)", b, "compiled", {})]
    if label == "bnb-4bit":
        keep = {"decoder": lambda m: StaticDecoder(m, dequantize=False)}
        rows.append((f"{label} compiled (4-bit kept)", b, "compiled", keep))
    return rows


def _print_table(out: dict) -> None:
    print(f"\n{out['arch']} on {out['gpu']}, greedy, {out['new_tokens']} new tokens")
    print(f"{'path':36} {'batch':>5} {'ms/step':>8} {'tok/s':>9} {'roofline':>8} {'peak GB':>8}")
    loop = next((r for r in out["rows"] if "loop" in r["path"] and "error" not in r), None)
    for r in out["rows"]:
        if "error" in r:
            print(f"{r['path']:36} {r['batch']:>5} error: {r['error'][:60]}")
            continue
        x = f"  {r['tokens_per_s'] / loop['tokens_per_s']:.0f}x loop" if loop else ""
        print(f"{r['path']:36} {r['batch']:>5} {r['ms_per_step']:>8} {r['tokens_per_s']:>9} "
              f"{r['roofline_fraction']:>8.1%} {r['peak_gpu_gb']:>8}{x}")


if __name__ == "__main__":
    main()
