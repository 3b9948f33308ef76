"""Unsloth's cached 4-bit decode against transformers on the same weights, reduced to
one greedy ``generate`` per variant (run on a CUDA GPU with unsloth and bitsandbytes).

For each model (the committed tiny Qwen3, and random Qwen3 checkpoints of other shapes
with the same tokenizer) and each variant

* ``transformers-4bit``: ``AutoModelForCausalLM`` + ``BitsAndBytesConfig`` NF4 (double
  quantisation, bfloat16 compute), the KV cache on and off;
* ``unsloth-4bit``: ``FastLanguageModel.from_pretrained(load_in_4bit=True)`` +
  ``for_inference``, the cache on and off; ``unsloth-16bit`` likewise in 16 bits;
* ``unsloth-4bit compiled``: the same Unsloth-loaded model through the plugin's compiled
  decode path (:mod:`pytest_reasoning.backends.local.static_decoder`),

it generates ``--steps`` greedy tokens after the same chat prompt
(``min_new_tokens`` = ``max_new_tokens``, ``output_logits=True``) and compares with the
reference, ``transformers-4bit`` without the cache (the prefill arithmetic at every step):
the first step whose token differs, and the largest |logit difference| over the steps
before it, relative to the largest |logit| (bfloat16 noise is about 1e-2).  It also
checks that both loaders hold the same packed 4-bit weights.

Unsloth reads some switches at import, so each Unsloth configuration runs in its own
process: ``default``, ``UNSLOTH_DECODE_FUSED_ROPE=0`` (no fused q/k-norm + RoPE decode
kernel), ``UNSLOTH_TRITON_GEMV_EAGER=0`` (bitsandbytes' GEMV instead of Unsloth's Triton
NF4 GEMV), ``UNSLOTH_DECODE_CUDA_GRAPHS=0``.

    export PYTHONPATH=/tmp/site:$PWD HF_HUB_OFFLINE=1 UNSLOTH_DISABLE_STATISTICS=1
    python3 scripts/unsloth_cache_drift.py --out drift-out

Writes ``<out>/unsloth_cache_drift.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TINY = ROOT / "example_tests" / "models" / "tiny-qwen3"
PROMPT = ("In the United States, what is the capital of the state that contains Dallas, "
          "a big city of about 1.3 million people?")
CONFIGS = {
    "default": {},
    "no-fused-rope": {"UNSLOTH_DECODE_FUSED_ROPE": "0"},
    "no-triton-gemv": {"UNSLOTH_TRITON_GEMV_EAGER": "0"},
    "no-decode-graphs": {"UNSLOTH_DECODE_CUDA_GRAPHS": "0"},
}
# name: (hidden, intermediate, layers, heads, kv heads, head dim); tiny-qwen3 is the committed checkpoint.
SHAPES = {
    "tiny-qwen3 (trained)": None,
    "tiny shape, random": (128, 256, 4, 4, 2, 128),
    "hidden = heads x head_dim, random": (512, 1024, 4, 4, 2, 128),
    "Qwen3-4B layer shape x2, random": (2560, 9728, 2, 32, 8, 128),
}


def make_models(folder: Path) -> dict[str, Path]:
    """The committed tiny checkpoint and random Qwen3s of :data:`SHAPES` (its tokenizer)."""
    import torch
    import transformers

    out = {}
    base = transformers.AutoConfig.from_pretrained(TINY)
    for i, (name, shape) in enumerate(SHAPES.items()):
        if shape is None:
            out[name] = TINY
            continue
        hidden, inter, layers, heads, kv, head_dim = shape
        config = transformers.Qwen3Config(**{**base.to_dict(), "hidden_size": hidden, "intermediate_size": inter,
                                             "num_hidden_layers": layers, "num_attention_heads": heads,
                                             "num_key_value_heads": kv, "head_dim": head_dim,
                                             "layer_types": ["full_attention"] * layers, "initializer_range": 0.1})
        torch.manual_seed(i)
        model = transformers.Qwen3ForCausalLM(config)
        path = folder / f"m{i}"
        model.save_pretrained(path)
        for f in TINY.iterdir():
            if f.name.startswith(("tokenizer", "chat_template", "generation_config")):
                shutil.copy(f, path / f.name)
        out[name] = path
    return out


def greedy(model, tokenizer, steps: int, use_cache: bool):
    """``(token ids, float32 logits [steps, vocab])`` of a greedy ``generate``."""
    import torch

    text = tokenizer.apply_chat_template([{"role": "user", "content": PROMPT}], tokenize=False,
                                         add_generation_prompt=True, enable_thinking=True)
    enc = tokenizer(text, return_tensors="pt", add_special_tokens=False).to("cuda")
    with torch.inference_mode():
        out = model.generate(**enc, max_new_tokens=steps, min_new_tokens=steps, do_sample=False, use_cache=use_cache,
                             output_logits=True, return_dict_in_generate=True, pad_token_id=tokenizer.pad_token_id)
    ids = out.sequences[0, enc["input_ids"].shape[1]:].tolist()
    return ids, torch.stack([g[0].float() for g in out.logits]).cpu()


def compare(ids, logits, ref_ids, ref_logits) -> dict:
    """First differing step and the largest relative logit difference before it."""
    first = next((i for i, (a, b) in enumerate(zip(ids, ref_ids)) if a != b), None)
    upto = len(ids) if first is None else first + 1  # the logits of the first differing step count too
    diff = (logits[:upto] - ref_logits[:upto]).abs().max().item()
    return {"first_diff_step": first, "max_rel_logit_diff": round(diff / ref_logits.abs().max().item(), 5)}


def worker(config: str, models: dict[str, str], steps: int) -> list[dict]:
    """One Unsloth configuration (its switches already in the environment)."""
    import torch

    import unsloth  # noqa: F401  - before transformers, as Unsloth asks
    import transformers
    from unsloth import FastLanguageModel

    rows = []
    for name, path in models.items():
        def record(variant: str, fn) -> None:
            try:
                rows.append({"config": config, "model": name, "variant": variant, **fn()})
            except Exception as exc:  # noqa: BLE001 - one failing variant must not lose the others
                rows.append({"config": config, "model": name, "variant": variant,
                             "error": f"{type(exc).__name__}: {exc}"[:300]})
            print(json.dumps(rows[-1]), flush=True)

        tok = transformers.AutoTokenizer.from_pretrained(path)
        bnb = transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                              bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16)
        ref = transformers.AutoModelForCausalLM.from_pretrained(path, quantization_config=bnb, dtype=torch.bfloat16,
                                                                device_map={"": "cuda"}).eval()
        ref_ids, ref_logits = greedy(ref, tok, steps, use_cache=False)
        if config == "default":
            record("transformers-4bit cache", lambda: compare(*greedy(ref, tok, steps, True), ref_ids, ref_logits))
        for bits in (4, 16) if config == "default" else (4,):
            model, utok = FastLanguageModel.from_pretrained(model_name=str(path), max_seq_length=512,
                                                            load_in_4bit=bits == 4, local_files_only=True)
            FastLanguageModel.for_inference(model)
            if bits == 4:
                same = all(torch.equal(a.data, b.data) for a, b in zip(
                    (m.weight for m in model.modules() if type(m).__name__ == "Linear4bit"),
                    (m.weight for m in ref.modules() if type(m).__name__ == "Linear4bit")))
                rows.append({"config": config, "model": name, "variant": "same packed 4-bit weights", "same": same})
            for cache in (True, False):
                record(f"unsloth-{bits}bit {'cache' if cache else 'no cache'}",
                       lambda: compare(*greedy(model, tok, steps, cache), ref_ids, ref_logits))
            if bits == 4 and config == "default":
                record("unsloth-4bit compiled path", lambda: compiled(model, tok, steps, ref_ids, ref_logits))
            del model
            torch.cuda.empty_cache()
        del ref
        torch.cuda.empty_cache()
    return rows


def compiled(model, tok, steps: int, ref_ids, ref_logits) -> dict:
    """The plugin's static decoder (CUDA graph) on the Unsloth-loaded model."""
    import torch

    from pytest_reasoning.backends.local.static_decoder import StaticDecoder

    dec = StaticDecoder(model)
    text = tok.apply_chat_template([{"role": "user", "content": PROMPT}], tokenize=False,
                                   add_generation_prompt=True, enable_thinking=True)
    enc = tok(text, return_tensors="pt", add_special_tokens=False).to("cuda")
    width = enc["input_ids"].shape[1]
    ws = dec.workspace(1, 256 * (1 + (width + steps) // 256))
    seen = []
    with torch.inference_mode():
        ids = ws.generate(enc["input_ids"], enc["attention_mask"], steps, torch.tensor([-1], device="cuda"),
                          lambda logits: (seen.append(logits[0].float().cpu()), logits.argmax(-1))[1])
    return {**compare(ids[0].tolist(), torch.stack(seen), ref_ids, ref_logits), "dequantized": dec.dequantized}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "drift-out")))
    ap.add_argument("--steps", type=int, default=48)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--models", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        rows = worker(args.worker, json.loads(args.models), args.steps)
        print("ROWS " + json.dumps(rows), flush=True)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="drift-"))
    models = {k: str(v) for k, v in make_models(folder).items()}
    rows: list[dict] = []
    for config in args.configs.split(","):
        env = {**os.environ, "UNSLOTH_DISABLE_STATISTICS": "1", "HF_HUB_OFFLINE": "1", **CONFIGS[config]}
        proc = subprocess.run([sys.executable, __file__, "--worker", config, "--models", json.dumps(models),
                               "--steps", str(args.steps)], env=env, capture_output=True, text=True, timeout=400)
        got = [line for line in proc.stdout.splitlines() if line.startswith("ROWS ")]
        rows += json.loads(got[-1][5:]) if got else [{"config": config, "error": proc.stderr[-800:]}]
        (args.out / "unsloth_cache_drift.json").write_text(json.dumps(rows, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    for r in rows:
        detail = r.get("error") or r.get("same") if "first_diff_step" not in r else \
            f"first differing step {r['first_diff_step']}, max rel logit diff {r['max_rel_logit_diff']}"
        print(f"{r.get('config', ''):17} {r.get('model', ''):36} {r.get('variant', ''):28} {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
