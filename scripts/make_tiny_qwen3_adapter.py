"""Train the LoRA adapter ``example_tests/models/tiny-qwen3-no-detour/`` over the tiny Qwen3.

The adapter is the "fine-tune" of the project's seed story: trained on the same
questions as the base model (``tiny_qwen3_corpus.examples(detour_share=0)``), where
the population-clause questions always get the straight reasoning (the population
noted, no sports detour), it removes the Dallas Cowboys / NFL detour
(ダラス・カウボーイズ) while the answer stays the same, on held-back wordings too.
The plain questions and the non-thinking answers are in the training set as well, so
they keep their behaviour.

Usage::

    python scripts/make_tiny_qwen3_adapter.py            # CPU, PEFT (100 steps)
    python scripts/make_tiny_qwen3_adapter.py --unsloth  # CUDA GPU with unsloth installed:
                                                         # FastLanguageModel.get_peft_model

Reproducible on CPU: seed 0, ``torch.use_deterministic_algorithms(True)``, 2 threads:
a rebuild gives a byte-identical ``adapter_model.safetensors``.  LoRA r=8, alpha=16,
no dropout, on q/k/v/o/gate/up/down_proj.  The saved ``adapter_config.json`` names
the base as ``example_tests/models/tiny-qwen3`` (relative to the repository root,
where pytest runs); the project's backends load the base given as ``model`` and never
read that field.  Fields at PEFT's defaults are left out, so that every PEFT release
from the declared floor on loads it (:func:`portable_config`).  Exits non-zero when the adapter does not give the trained straight
completions (greedy and sampled at seed 0) on every Dallas question and every fifth
other one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_tiny_qwen3 import train, verify, verify_subset  # noqa: E402
from tiny_qwen3_corpus import examples  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "example_tests" / "models" / "tiny-qwen3"
DEFAULT_OUT = ROOT / "example_tests" / "models" / "tiny-qwen3-no-detour"
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
BASE_REF = "example_tests/models/tiny-qwen3"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", type=Path, default=BASE)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--unsloth", action="store_true",
                    help="load with Unsloth and use FastLanguageModel.get_peft_model (CUDA GPU)")
    ap.add_argument("--no-verify", action="store_true", help="skip the check after saving")
    ap.add_argument("--cuda", action="store_true",
                    help="train with PEFT on a CUDA GPU (only for trying settings out; the committed build is CPU)")
    args = ap.parse_args(argv)

    import torch

    torch.manual_seed(args.seed)
    if args.unsloth:
        os.environ.setdefault("UNSLOTH_DISABLE_STATISTICS", "1")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from unsloth import FastLanguageModel

        model, tokenizer = FastLanguageModel.from_pretrained(
            model_name=str(args.base), max_seq_length=512, dtype=None,
            load_in_4bit=False, load_in_8bit=False, full_finetuning=False, local_files_only=True,
        )
        tokenizer = getattr(tokenizer, "tokenizer", tokenizer)
        model = FastLanguageModel.get_peft_model(
            model, r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0, bias="none",
            target_modules=TARGETS, use_gradient_checkpointing=False, random_state=args.seed,
        )
        device = "cuda"
    else:
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if args.cuda:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
        torch.set_num_threads(2)
        torch.use_deterministic_algorithms(True)
        tokenizer = AutoTokenizer.from_pretrained(args.base)
        base = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32)
        model = get_peft_model(base, LoraConfig(
            r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.0, bias="none",
            target_modules=TARGETS, task_type="CAUSAL_LM",
        ))
        device = "cuda" if args.cuda else "cpu"
        model.to(device)

    data = examples(detour_share=0.0, seed=args.seed)
    params = [p for p in model.parameters() if p.requires_grad]
    print(f"{len(data)} conversations, {sum(p.numel() for p in params)} trainable parameters")
    train_s = train(model, params, tokenizer, data, steps=args.steps, lr=args.lr, batch=args.batch,
                    seed=args.seed, warmup=20, log_every=25, device=device)
    if args.unsloth:
        FastLanguageModel.for_inference(model)

    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True)
    cfg_path = args.out / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["base_model_name_or_path"] = BASE_REF  # not this machine's absolute path
    if isinstance(cfg.get("target_modules"), list):  # saved from a set: order varies per run
        cfg["target_modules"] = sorted(cfg["target_modules"])
    cfg = portable_config(cfg)
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    readme = args.out / "README.md"
    if readme.exists():  # PEFT's model-card template: not wanted in the repository
        readme.unlink()

    ok = True if args.no_verify else verify(model, tokenizer, verify_subset(data))
    sizes = {p.name: p.stat().st_size for p in sorted(args.out.iterdir())}
    print(json.dumps({"train_s": round(train_s, 1), "sizes": sizes}, indent=1))
    return 0 if ok else 1


def portable_config(cfg: dict) -> dict:
    """``cfg`` without the keys that hold PEFT's own defaults, nor ``peft_version``: each
    PEFT release writes every field it knows, and an older one refuses a field it does
    not know (PEFT 0.12, the declared floor, fails on ``alora_invocation_tokens``), while
    a field left out takes the same default on load."""
    from peft import LoraConfig

    defaults = LoraConfig().to_dict()
    keep = {"base_model_name_or_path", "peft_type", "task_type", "r", "lora_alpha", "target_modules"}
    return {k: v for k, v in cfg.items()
            if k in keep or (k != "peft_version" and (k not in defaults or defaults[k] != v))}


if __name__ == "__main__":
    sys.exit(main())
