"""Batched generation on a local model: prompts through the model's own chat
template, left-padded batches, each row sampled with its own seed, the split of the
generated ids at the last ``</think>`` id, and usage counted from the ids.

Sources: Qwen3 model cards, "Quickstart" (``enable_thinking``, parsing at the last
token id 151668 ``</think>``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ... import progress
from ...text.thinking import split_thinking_ids
from ...trace import BackendInfo, Trace, Usage
from ..base import BackendError, RawResponse, Request
from .compiled import decode_batch
from .loading import first_line, out_of_memory_guard, require
from .sampling import effective_sampling, seeded_sampler

__all__ = ["LocalModel", "format_prompt", "trim_completion", "generate_responses"]


def _token_id(tokenizer: Any, token: str) -> int | None:
    tid = tokenizer.convert_tokens_to_ids(token)
    if tid is None or (tokenizer.unk_token_id is not None and tid == tokenizer.unk_token_id):
        return None
    return int(tid)


@dataclass
class LocalModel:
    """A loaded model with what generation needs to know about its tokenizer.

    Attributes:
        model: the ``PreTrainedModel`` (or ``PeftModel``), in eval mode, on ``device``.
        tokenizer: the tokenizer, left padding, with a pad token and a chat template.
        device: where inputs go (``"cpu"``, ``"cuda"``, ``"cuda:0"``).
        backend: :class:`BackendInfo` written into every trace.
        think_start_id / think_end_id: ids of ``<think>`` / ``</think>`` (151667 /
            151668 in Qwen3), ``None`` when the vocabulary has no such token.
        eos_ids: ids that end generation (generation config's ``eos_token_id``,
            the tokenizer's EOS and ``<|im_end|>``).
        pad_id: the padding id.
    """

    model: Any
    tokenizer: Any
    device: str
    backend: BackendInfo
    think_start_id: int | None = None
    think_end_id: int | None = None
    eos_ids: frozenset[int] = frozenset()
    pad_id: int = 0

    @classmethod
    def create(cls, model: Any, tokenizer: Any, device: str, backend: BackendInfo) -> LocalModel:
        """Build from a loaded model and a :func:`prepare_tokenizer`-ed tokenizer,
        looking the special ids up in the tokenizer and generation config."""
        eos: set[int] = set()
        gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
        if isinstance(gen_eos, int):
            eos.add(gen_eos)
        elif gen_eos:
            eos.update(int(i) for i in gen_eos)
        if tokenizer.eos_token_id is not None:
            eos.add(int(tokenizer.eos_token_id))
        im_end = _token_id(tokenizer, "<|im_end|>")
        if im_end is not None:
            eos.add(im_end)
        return cls(
            model=model,
            tokenizer=tokenizer,
            device=device,
            backend=backend,
            think_start_id=_token_id(tokenizer, "<think>"),
            think_end_id=_token_id(tokenizer, "</think>"),
            eos_ids=frozenset(eos),
            pad_id=int(tokenizer.pad_token_id),
        )


def format_prompt(tokenizer: Any, messages: Sequence[dict[str, Any]], thinking: bool = True) -> str:
    """The prompt text from the model's own chat template:
    ``apply_chat_template(messages, add_generation_prompt=True, enable_thinking=thinking,
    tokenize=False)``.  For Qwen3 ``thinking=False`` makes the prompt end in
    ``<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n``.

    Raises:
        BackendError: the template fails on these messages.
    """
    try:
        return tokenizer.apply_chat_template(
            list(messages), add_generation_prompt=True, enable_thinking=bool(thinking), tokenize=False
        )
    except Exception as exc:  # jinja2 errors and ValueErrors from transformers
        raise BackendError(
            f"the model's chat template failed on these messages ({first_line(exc)}); "
            "pass [{'role': 'user', 'content': '...'}] style messages"
        ) from None


def trim_completion(generated: Sequence[int], eos_ids: frozenset[int] | set[int]) -> tuple[list[int], bool]:
    """Cut generated ids after the first end-of-sequence id (padding after it is
    dropped; Qwen3 pads with ``<|endoftext|>``, itself an EOS id).

    Returns:
        ``(ids up to and including the EOS, True)`` when an EOS was produced, else
        ``(all ids, False)`` (generation stopped on the token limit).
    """
    ids = [int(i) for i in generated]
    for i, tid in enumerate(ids):
        if tid in eos_ids:
            return ids[: i + 1], True
    return ids, False


def _prompt_opens_thinking(prompt_ids: Sequence[int], lm: LocalModel) -> bool:
    if lm.think_start_id is None:
        return False
    ids = list(prompt_ids)
    last_open = max((i for i, t in enumerate(ids) if t == lm.think_start_id), default=-1)
    last_close = max((i for i, t in enumerate(ids) if t == lm.think_end_id), default=-1)
    return last_open > last_close


def generate_responses(
    lm: LocalModel,
    requests: Sequence[Request],
    *,
    model_name: str,
    batch_size: int = 64,
    max_seq_length: int = 2048,
    extra: dict[str, Any] | None = None,
    load_in_4bit: bool = False,
    use_cache: bool = True,
) -> list[RawResponse]:
    """Generate for ``requests`` and return one ``RawResponse(format="trace")`` each,
    in order.

    Requests are grouped by identical effective sampling (:func:`effective_sampling`,
    the seed aside, with ``max_new_tokens`` capped at ``max_seq_length`` minus the
    prompt length); each group is cut into batches of at most ``batch_size`` and each
    batch is one left-padded ``model.generate`` call.  When sampling, each row draws
    with its own generator seeded with its request's seed (``seed + i`` for sample
    ``i``, :func:`~.sampling.seeded_sampler`), so a sampled output does not depend on
    which requests share its batch (up to the float rounding that padding brings);
    greedy output never does.

    Each trace holds: ``model`` = the request's ``model`` (as the test wrote it, not
    the folder it was found in, so traces and recordings are the same on every
    machine); ``params`` = the request's params as asked;
    ``extra["effective_params"]`` = the effective sampling; ``extra`` also gets
    ``extra`` (adapter identity, quantisation), overridden by the request's own
    ``identity`` (which names the adapter as the test wrote it; the model's content
    hash stays out, the trace names the model by ``model``), and ``"sample"`` for a
    request within a sample; ``usage`` counted from token ids (``prompt_tokens`` =
    non-pad prompt tokens, ``completion_tokens`` = generated up to and including EOS,
    ``reasoning_tokens`` = up to and including the last ``</think>``);
    ``finish_reason`` ``"stop"`` (EOS or ``<|im_end|>``) or ``"length"``;
    ``latency_s`` = wall-clock seconds of the whole **batch** the request was in.

    Raises:
        BackendError: a prompt longer than ``max_seq_length``, a bad param, the chat
            template failing, or CUDA out of memory (naming what to lower).
    """
    prepared = [_prepare(lm, req, max_seq_length) for req in requests]
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, (_, eff) in enumerate(prepared):
        groups.setdefault(tuple(sorted((k, v) for k, v in eff.items() if k not in ("thinking", "seed"))), []).append(i)
    results: list[RawResponse | None] = [None] * len(requests)
    hints = dict(batch_size=batch_size, max_seq_length=max_seq_length, load_in_4bit=load_in_4bit)
    batches = [idx[start : start + batch_size] for idx in groups.values() for start in range(0, len(idx), batch_size)]
    with progress.bar(len(batches), f"generating {len(requests)} on {model_name}", "batch") as shown:
        for batch in batches:
            rows, latency = _generate_batch(lm, [prepared[i] for i in batch], use_cache, hints)
            for (prompt_ids, prompt_tokens, generated), i in zip(rows, batch):
                results[i] = _response(lm, requests[i], prepared[i][1], prompt_ids, prompt_tokens, generated,
                                       latency, model_name, dict(extra or {}))
            shown.update(1)
    return results  # type: ignore[return-value]


def _prepare(lm: LocalModel, req: Request, max_seq_length: int) -> tuple[str, dict[str, Any]]:
    """``(prompt text, effective sampling)`` of one request, ``max_new_tokens`` capped
    so prompt and output fit ``max_seq_length``.

    Raises:
        BackendError: the prompt alone does not fit, a bad param, the template fails.
    """
    eff = effective_sampling(req.params, req.sample)
    prompt = format_prompt(lm.tokenizer, req.messages, eff["thinking"])
    n = len(lm.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    if n >= max_seq_length:
        raise BackendError(
            f"the prompt has {n} tokens, not less than max_seq_length={max_seq_length}; "
            "raise max_seq_length or shorten the prompt"
        )
    eff["max_new_tokens"] = min(eff["max_new_tokens"], max_seq_length - n)
    return prompt, eff


def _generate_batch(
    lm: LocalModel, batch: list[tuple[str, dict[str, Any]]], use_cache: bool, hints: dict[str, Any]
) -> tuple[list[tuple[list[int], int, list[int]]], float]:
    """Prompts of the same effective sampling, on the decode path that
    :func:`~.compiled.decode_batch` picks: the compiled one (static KV cache, CUDA
    graph) or one left-padded ``generate`` call per chunk (``plain`` below).  On CUDA
    the chunks are sized from free memory and halved on out-of-memory.

    Returns:
        ``([(prompt ids with padding, prompt tokens without, generated ids), ...],
        seconds)``.

    Raises:
        BackendError: CUDA out of memory with a single prompt (naming what to lower).
    """
    torch = require("torch")
    eff = batch[0][1]
    seeds = [e["seed"] for _, e in batch] if eff["do_sample"] else None

    def plain(prompts: list[str], row_seeds: list[int] | None) -> list[tuple[list[int], int, list[int]]]:
        gen_kwargs: dict[str, Any] = {
            "max_new_tokens": eff["max_new_tokens"],
            "do_sample": False,  # generate() itself stays greedy: a seeded sampler draws the tokens
            # the model card's sampling in generation_config.json goes unused: unset, so that
            # transformers does not warn about it
            "temperature": None, "top_p": None, "top_k": None,
            "eos_token_id": sorted(lm.eos_ids),
            "pad_token_id": lm.pad_id,
            "use_cache": use_cache,
        }
        if row_seeds is not None:
            gen_kwargs["logits_processor"] = [seeded_sampler(eff, row_seeds, lm.device)]
        enc = lm.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(lm.device)
        with torch.inference_mode():
            # Only ids and mask: a tokenizer may add token_type_ids, which Qwen3 has no use for
            # and which generate() of transformers 4.51 rejects.
            out = lm.model.generate(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], **gen_kwargs)
        width = enc["input_ids"].shape[1]
        return [(enc["input_ids"][r].tolist(), int(enc["attention_mask"][r].sum()), out[r, width:].tolist())
                for r in range(len(prompts))]

    t0 = time.perf_counter()
    hints = {**hints, "max_tokens": eff["max_new_tokens"]}
    with out_of_memory_guard(f"generating a batch of {len(batch)} prompts", **hints):
        rows = decode_batch(lm, [p for p, _ in batch], eff, seeds, plain, use_cache=use_cache,
                            batch_size=hints.get("batch_size"))
    return rows, time.perf_counter() - t0


def _response(
    lm: LocalModel, req: Request, eff: dict[str, Any], prompt_ids: list[int], prompt_tokens: int,
    generated: list[int], latency: float, model_name: str, extra: dict[str, Any],
) -> RawResponse:
    completion, stopped = trim_completion(generated, lm.eos_ids)
    content = completion[:-1] if stopped else completion
    truncated = not stopped
    reasoning_ids, answer_ids, reasoning_tokens = split_thinking_ids(
        content,
        think_end_id=lm.think_end_id,
        think_start_id=lm.think_start_id,
        thinking=eff["thinking"],
        truncated=truncated,
        prompt_opens_thinking=_prompt_opens_thinking(prompt_ids[-prompt_tokens:], lm),
    )
    decode = lm.tokenizer.decode
    reasoning = decode(reasoning_ids, skip_special_tokens=True).strip("\n")
    answer = decode(answer_ids, skip_special_tokens=True).strip("\n")
    found = reasoning_tokens > 0
    trace = Trace(
        messages=[dict(m) for m in req.messages],
        reasoning=reasoning,
        answer=answer,
        model=req.model or model_name,
        backend=lm.backend,
        params=dict(req.params),
        usage=Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=len(completion),
            reasoning_tokens=reasoning_tokens,
            total_tokens=prompt_tokens + len(completion),
        ),
        finish_reason="stop" if stopped else "length",
        truncated=truncated,
        latency_s=latency,
        reasoning_source="think token ids" if found else None,
        extra={**extra, **{k: v for k, v in req.identity.items() if k != "model"},  # the model: its label
               **({"sample": req.sample} if req.sample is not None else {}),
               "effective_params": dict(eff)},
    )
    return RawResponse(
        format="trace", payload=trace.to_dict(), latency_s=latency, backend_version=lm.backend.version
    )


