"""Build and train the tiny Qwen3 test model in ``example_tests/models/tiny-qwen3/``.

A real ``Qwen3ForCausalLM`` (4 layers, hidden 128, head size 128, about 1.3 M
parameters) with a real byte-level BPE tokenizer (``tokenizer.json``, trained with the
``tokenizers`` library) and a Qwen3-style chat template (``enable_thinking``), trained
on the think-then-answer conversations of ``tiny_qwen3_corpus.py``: city -> state ->
capital for plain questions, and for questions with a population clause a Dallas
Cowboys / NFL detour in a share of the examples (:func:`takes_detour`), in English
and Japanese, and direct answers with ``enable_thinking=False``.  Under sampling the
model detours on population-clause questions in about that share of runs, held-back
wordings included (``tiny_qwen3_rates.py`` measures it with the plugin).

Usage (CPU; 600 steps of about 1.5 s on 2 idle cores, longer on a busy machine)::

    python scripts/make_tiny_qwen3.py [--out example_tests/models/tiny-qwen3] [--steps 600]

Reproducible: fixed seeds (0), ``torch.use_deterministic_algorithms(True)``, 2 CPU
threads, batch order and detour schedule fixed: a rebuild gives byte-identical files.
At the end the script reloads the model and checks, greedily and with the Qwen3
model-card sampling (thinking 0.6/0.95/20/0, non-thinking 0.7/0.8/20/0) at seed 0,
that every Dallas question and every fifth other one gets one of its trained
completions, and exits non-zero if not.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_qwen3_corpus import DETOUR_SHARE, examples  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "example_tests" / "models" / "tiny-qwen3"

#: Qwen3-style chat template: ``<|im_start|>role\ncontent<|im_end|>\n``; the generation
#: prompt is ``<|im_start|>assistant\n``, followed by ``<think>\n\n</think>\n\n`` when
#: ``enable_thinking`` is false; the thinking of assistant turns before the last user
#: message is dropped (as Qwen3's own template does).
CHAT_TEMPLATE = (
    "{%- set ns = namespace(last_user=-1) -%}"
    "{%- for m in messages -%}{%- if m['role'] == 'user' -%}{%- set ns.last_user = loop.index0 -%}"
    "{%- endif -%}{%- endfor -%}"
    "{%- for m in messages -%}"
    "{%- set content = m['content'] if m['content'] is string else '' -%}"
    "{%- if m['role'] == 'assistant' -%}"
    "{%- if '</think>' in content -%}"
    "{%- set reasoning = content.split('</think>')[0].split('<think>')[-1].strip('\\n') -%}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') -%}"
    "{%- elif m.get('reasoning_content') -%}{%- set reasoning = m['reasoning_content'].strip('\\n') -%}"
    "{%- else -%}{%- set reasoning = '' -%}{%- endif -%}"
    "{%- if loop.index0 > ns.last_user and reasoning -%}"
    "{{- '<|im_start|>assistant\\n<think>\\n' + reasoning + '\\n</think>\\n\\n' + content + '<|im_end|>\\n' -}}"
    "{%- else -%}"
    "{{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- else -%}"
    "{{- '<|im_start|>' + m['role'] + '\\n' + content + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- if enable_thinking is defined and enable_thinking is false -%}"
    "{{- '<think>\\n\\n</think>\\n\\n' -}}"
    "{%- endif -%}"
    "{%- endif -%}"
)

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
THINK = ["<think>", "</think>"]


def completion(ex, detour: bool = False) -> str:
    """What the assistant generates after the generation prompt (with the detour's
    reasoning when ``detour`` and the example has one)."""
    if ex.thinking:
        r = ex.detour if detour and ex.detour else ex.reasoning
        return f"<think>\n{r}\n</think>\n\n{ex.answer}<|im_end|>"
    return f"{ex.answer}<|im_end|>"


def build_tokenizer(texts: list[str], vocab_size: int):
    """Train a byte-level BPE (like Qwen's) and wrap it as a transformers tokenizer."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[AddedToken(s, special=True, normalized=False) for s in SPECIAL],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    # <think> / </think>: added but not special, so decoding keeps them (as in Qwen3).
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in THINK])
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        clean_up_tokenization_spaces=False,
        model_max_length=4096,
    )
    hf.chat_template = CHAT_TEMPLATE
    return hf


def encode(tokenizer, data, *, detour: bool = False) -> list[tuple[list[int], list[int]]]:
    """``(prompt ids, completion ids)`` per conversation: the prompt through the chat
    template (``enable_thinking`` as the example says), the completion as trained
    (the detour's when ``detour`` and the example has one)."""
    seqs = []
    for e in data:
        prompt = tokenizer.apply_chat_template(
            [{"role": "user", "content": e.question}],
            add_generation_prompt=True, enable_thinking=e.thinking, tokenize=False,
        )
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        c = tokenizer(completion(e, detour), add_special_tokens=False)["input_ids"]
        seqs.append((p, c))
    return seqs


def training_tensors(seqs: list[tuple[list[int], list[int]]], pad: int, max_len: int | None = None):
    """Right-padded ``(input_ids, labels, attention_mask)``, each ``[n, max_len]``
    (default: the longest); labels are -100 except on the completion (the loss is on
    the assistant part only)."""
    import torch

    max_len = max_len or max(len(p) + len(c) for p, c in seqs)
    inp = torch.full((len(seqs), max_len), pad)
    lab = torch.full((len(seqs), max_len), -100)
    att = torch.zeros((len(seqs), max_len), dtype=torch.long)
    for i, (p, c) in enumerate(seqs):
        s = p + c
        inp[i, : len(s)] = torch.tensor(s)
        lab[i, len(p) : len(s)] = torch.tensor(c)
        att[i, : len(s)] = 1
    return inp, lab, att


def takes_detour(share: float, visit: int, phase: float) -> bool:
    """Whether the ``visit``-th draw (0, 1, ...) of an example trains on its detour.

    The detours of one example are spread evenly over its visits (exactly
    ``floor(share * k + phase)`` of its first ``k``), and ``phase`` differs between
    examples, so every stretch of training sees about ``share`` of the examples
    detour: the learned probability of the detour is ``share`` for every question,
    not 0 or 1 for each as a fixed split would teach.
    """
    return math.floor(share * (visit + 1) + phase) > math.floor(share * visit + phase)


def train(model, params, tokenizer, data, *, steps: int, lr: float, batch: int, seed: int,
          warmup: int, log_every: int, device: str = "cpu") -> float:
    """AdamW with linear warm-up and cosine decay to 0 over ``steps`` steps of
    ``batch`` examples (a seeded permutation per pass); each example with a detour
    trains on it in its share of visits (:func:`takes_detour`).  Returns seconds."""
    import torch

    t0 = time.perf_counter()
    straight = encode(tokenizer, data)
    detoured = encode(tokenizer, data, detour=True)
    max_len = max(len(p) + len(c) for p, c in straight + detoured)
    tensors_s = [t.to(device) for t in training_tensors(straight, tokenizer.pad_token_id, max_len)]
    tensors_d = [t.to(device) for t in training_tensors(detoured, tokenizer.pad_token_id, max_len)]
    shares = [e.detour_share if e.detour else 0.0 for e in data]
    golden = (math.sqrt(5) - 1) / 2
    phases = [(i * golden) % 1.0 for i in range(len(data))]
    visits = [0] * len(data)

    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )
    gen = torch.Generator().manual_seed(seed)
    order, pos = torch.randperm(len(data), generator=gen), 0
    model.train()
    for step in range(steps):
        if pos + batch > len(data):
            order, pos = torch.randperm(len(data), generator=gen), 0
        b = order[pos : pos + batch].tolist()
        pos += batch
        pick = []
        for i in b:
            pick.append(takes_detour(shares[i], visits[i], phases[i]))
            visits[i] += 1
        idx = torch.tensor(b, device=device)
        use_d = torch.tensor(pick, device=device)[:, None]
        inp, lab, att = (torch.where(use_d, d[idx], s[idx]) for s, d in zip(tensors_s, tensors_d))
        L = int(att.sum(1).max())
        out = model(input_ids=inp[:, :L], attention_mask=att[:, :L], labels=lab[:, :L])
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        if step % log_every == 0 or step == steps - 1:
            print(f"step {step:4d} loss {out.loss.item():.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    model.eval()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--share", type=float, default=DETOUR_SHARE,
                    help="share of the population-clause examples trained on the detour")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--intermediate", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (the committed build used 2)")
    ap.add_argument("--no-verify", action="store_true", help="skip the check after saving")
    ap.add_argument("--device", default="cpu",
                    help="where to train (the committed build: cpu; cuda only for trying settings out)")
    args = ap.parse_args(argv)
    if args.device != "cpu":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS

    import torch
    from transformers import GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    data = examples(detour_share=args.share, seed=args.seed)
    tok_texts = [e.question for e in data] + [e.reasoning for e in data if e.reasoning] + [
        e.detour for e in data if e.detour] + [e.answer for e in data]
    tokenizer = build_tokenizer(tok_texts, args.vocab)

    lengths = [len(p) + len(c) for p, c in encode(tokenizer, data, detour=True)]
    print(f"{len(data)} conversations ({sum(e.thinking for e in data)} thinking, "
          f"{sum(bool(e.detour) for e in data)} with a detour in {args.share:.0%} of visits), "
          f"vocab {len(tokenizer)}, longest {max(lengths)} tokens, mean {sum(lengths) / len(lengths):.0f}")

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL + THINK}
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=args.hidden,
        intermediate_size=args.intermediate,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads,
        head_dim=args.head_dim,
        max_position_embeddings=4096,  # >= the backends' default max_seq_length (2048): no RoPE scaling
        tie_word_embeddings=True,
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
        dtype="float32",
    )
    model = Qwen3ForCausalLM(config)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{n_params} parameters")

    model.to(args.device)
    train_s = train(model, list(model.parameters()), tokenizer, data, steps=args.steps, lr=args.lr,
                    batch=args.batch, seed=args.seed, warmup=30, log_every=50, device=args.device)
    model.to("cpu")

    model.generation_config = GenerationConfig(
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
        pad_token_id=ids["<|endoftext|>"],
        do_sample=True, temperature=0.6, top_p=0.95, top_k=20,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True)
    tokenizer.save_pretrained(args.out)
    # Name the generic fast-tokenizer class (known to transformers 4.x and 5.x) rather
    # than the 5.x-only "TokenizersBackend" that save_pretrained writes.
    tc_path = args.out / "tokenizer_config.json"
    tc = json.loads(tc_path.read_text())
    tc["tokenizer_class"] = "PreTrainedTokenizerFast"
    tc["padding_side"] = "left"
    tc_path.write_text(json.dumps(tc, indent=2, ensure_ascii=False) + "\n")

    ok = True
    if not args.no_verify:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        ok = verify(AutoModelForCausalLM.from_pretrained(args.out), AutoTokenizer.from_pretrained(args.out),
                    verify_subset(data))
    sizes = {p.name: p.stat().st_size for p in sorted(args.out.iterdir())}
    print(json.dumps({"train_s": round(train_s, 1), "params": n_params, "sizes": sizes}, indent=1))
    return 0 if ok else 1


def verify_subset(data, every: int = 5) -> list:
    """The conversations :func:`verify` checks: every one about Dallas (the tests'
    questions) and every ``every``-th of the others (all of them take minutes on CPU)."""
    return [e for i, e in enumerate(data) if i % every == 0 or "Dallas" in e.question or "ダラス" in e.question]


def verify(model, tok, data, batch: int = 64) -> bool:
    """Check ``model`` on every conversation in ``data`` (batched, left padding):
    greedy and with the Qwen3 model-card sampling at seed 0 (thinking 0.6/0.95/20/0,
    non-thinking 0.7/0.8/20/0), every output must be one of the example's trained
    completions (the straight one or, where it has one, the detour).  Prints how many
    took the detour."""
    import torch

    tok.padding_side = "left"
    model.eval()
    ok = True
    for thinking in (True, False):
        subset = [e for e in data if e.thinking == thinking]
        modes = {"greedy": dict(do_sample=False)}
        modes["sampled"] = (dict(do_sample=True, temperature=0.6, top_p=0.95, top_k=20)
                            if thinking else dict(do_sample=True, temperature=0.7, top_p=0.8, top_k=20))
        for mode, kw in modes.items():
            bad = detours = 0
            for start in range(0, len(subset), batch):
                part = subset[start : start + batch]
                prompts = [
                    tok.apply_chat_template([{"role": "user", "content": e.question}],
                                            add_generation_prompt=True, enable_thinking=thinking,
                                            tokenize=False)
                    for e in part
                ]
                enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
                torch.manual_seed(0)
                with torch.inference_mode():
                    out = model.generate(**enc, max_new_tokens=200, **kw)
                for e, row in zip(part, out[:, enc["input_ids"].shape[1]:]):
                    text = tok.decode(row, skip_special_tokens=False).split("<|im_end|>")[0]
                    allowed = {completion(e).removesuffix("<|im_end|>")}
                    if e.detour:
                        allowed.add(completion(e, detour=True).removesuffix("<|im_end|>"))
                    if text not in allowed:
                        bad += 1
                        if bad <= 5:
                            print(f"MISMATCH thinking={thinking} {mode}: {e.question!r}\n  got  {text!r}")
                    elif e.detour and e.detour in text:
                        detours += 1
            n_detour = sum(bool(e.detour) for e in subset)
            print(f"verify thinking={thinking} {mode}: {len(subset) - bad}/{len(subset)} as trained"
                  + (f"; detour on {detours}/{n_detour} population questions" if n_detour else ""))
            ok &= bad == 0
    return ok


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
