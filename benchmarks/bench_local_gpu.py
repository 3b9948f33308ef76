"""Local generation at suite scale, on a CUDA GPU: the plugin's batched path against the
per-test ``model.generate`` loop a user writes by hand.

Usage (on a GPU machine with torch, transformers, bitsandbytes and, for the default
backend, unsloth):

    python benchmarks/bench_local_gpu.py [--arch 4b] [--backend unsloth|transformers]
        [--prompts 64] [--new-tokens 256] [--loop-prompts 8] [--json OUT.json]

It builds a full-size Qwen3 architecture (``--arch``: 1.7b, 4b, 8b or 14b configs from
the Qwen3 model cards' config.json) with random weights — decode speed depends on the
shapes, not the values — and a word-level tokenizer with Qwen3's vocabulary size and
special-token ids (``<|im_end|>`` 151645, ``<think>`` 151667, ``</think>`` 151668) and the
project's Qwen3-style chat template, saves it, and loads it in 4-bit through the
backend.  Then, side by side in the same process on the same loaded model:

- batched: ``backend.run(requests)`` for ``--prompts`` prompt tests (one left-padded
  ``generate`` per batch), as the session-wide gathering does;
- loop: ``model.generate`` once per prompt for the first ``--loop-prompts`` prompts
  (the loop's tokens/s does not depend on how many prompts it runs).

Both use greedy decoding with up to ``--new-tokens`` new tokens; generated tokens are
counted from the outputs (random weights rarely emit an end token early).  Printed:
tokens/s of each, the speed-up, and the fraction of the memory-bandwidth roofline: the
bytes of weights read per decode step (the loaded model's parameters and buffers)
÷ 4.8 TB/s (H200 HBM3e), divided by the measured time per decode step.
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
    """Save a random-weight Qwen3 of ``arch`` with a full-vocabulary tokenizer to ``folder``."""
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
    template = (ROOT / "example_tests" / "models" / "tiny-qwen3" / "chat_template.jinja").read_text()
    fast.chat_template = template
    fast.save_pretrained(folder)


def weight_bytes(model) -> int:
    """Bytes of parameters and buffers on the GPU (packed 4-bit weights count as stored)."""
    tensors = list(model.parameters()) + list(model.buffers())
    return sum(t.numel() * t.element_size() for t in tensors if t.is_cuda)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", choices=sorted(ARCHS), default="4b")
    parser.add_argument("--backend", choices=("unsloth", "transformers"), default="unsloth")
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--loop-prompts", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import torch

    from pytest_reasoning.backends import create_backend
    from pytest_reasoning.backends.base import Request, to_trace

    folder = Path(tempfile.mkdtemp(prefix=f"qwen3-{args.arch}-random-"))
    t0 = time.perf_counter()
    build_model(args.arch, folder)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    backend = create_backend(args.backend, str(folder), {"max_seq_length": 1024, "batch_size": args.prompts,
                                                         "load_in_4bit": True})
    load_s = time.perf_counter() - t0
    lm = backend.lm
    params = {"temperature": 0, "max_tokens": args.new_tokens, "thinking": True}
    prompts = [" ".join(f"w{(7 * i + j) % 5000 + 100}" for j in range(48)) for i in range(args.prompts)]
    requests = [Request(args.backend, str(folder), ({"role": "user", "content": p},), params) for p in prompts]

    backend.run(requests[:2])  # warm-up: kernels, caches
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    traces = [to_trace(r, raw) for r, raw in zip(requests, backend.run(requests))]
    torch.cuda.synchronize()
    batched_s = time.perf_counter() - t0
    batched_tokens = sum(t.usage.completion_tokens for t in traces)
    steps = max(t.usage.completion_tokens for t in traces)

    tok, model = lm.tokenizer, lm.model
    loop_tokens, t0 = 0, time.perf_counter()
    for p in prompts[: args.loop_prompts]:
        text = tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True,
                                       enable_thinking=True)
        enc = tok(text, return_tensors="pt", add_special_tokens=False).to(lm.device)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=args.new_tokens, do_sample=False,
                                 eos_token_id=sorted(lm.eos_ids), pad_token_id=lm.pad_id)
        loop_tokens += out.shape[1] - enc["input_ids"].shape[1]
    torch.cuda.synchronize()
    loop_s = time.perf_counter() - t0

    nbytes = weight_bytes(model)
    floor_step_s = nbytes / HBM_BYTES_PER_S
    batched_tps, loop_tps = batched_tokens / batched_s, loop_tokens / loop_s
    result = {
        "gpu": torch.cuda.get_device_name(0),
        "arch": f"Qwen3-{args.arch} (random weights)",
        "backend": f"{args.backend} 4-bit ({lm.backend.version})",
        "build_s": round(build_s, 1),
        "load_s": round(load_s, 1),
        "weight_bytes": nbytes,
        "prompts": args.prompts,
        "new_tokens": args.new_tokens,
        "batched": {"seconds": round(batched_s, 2), "tokens": batched_tokens, "tokens_per_s": round(batched_tps, 1),
                    "s_per_step": round(batched_s / steps, 5), "roofline_fraction": round(floor_step_s / (batched_s / steps), 4)},
        "loop": {"prompts": args.loop_prompts, "seconds": round(loop_s, 2), "tokens": loop_tokens,
                 "tokens_per_s": round(loop_tps, 1),
                 "s_per_step": round(loop_s / max(loop_tokens, 1), 5),
                 "roofline_fraction": round(floor_step_s / (loop_s / max(loop_tokens, 1)), 4)},
        "speedup": round(batched_tps / loop_tps, 1),
        "peak_gpu_memory_gb": round(torch.cuda.max_memory_allocated() / 1e9, 2),
    }
    print(json.dumps(result, indent=2))
    print(f"batched {batched_tps:.0f} tok/s vs per-test loop {loop_tps:.1f} tok/s: {result['speedup']}x "
          f"(goal >= 10x); roofline {result['batched']['roofline_fraction']:.1%} batched, "
          f"{result['loop']['roofline_fraction']:.1%} loop")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    backend.close()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
