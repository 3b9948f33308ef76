"""Sampling for local models: the Qwen3 model card's defaults, the effective settings
of a request, and a sampler that seeds each row of a batch on its own.

Seeding each row with its own ``torch.Generator`` (sample ``i`` of a request gets
``seed + i``) makes a sampled output depend on its request alone, not on which other
requests share its batch: the n samples of a test run as one batch, and a
re-recording of any one of them gives the same text.

Sources: Qwen3 model cards (e.g. ``Qwen/Qwen3-8B``), "Best Practices": thinking mode
temperature 0.6, top_p 0.95, top_k 20, min_p 0; non-thinking mode 0.7, 0.8, 20, 0;
"DO NOT use greedy decoding" in thinking mode.  The warpers are transformers' own
(``TemperatureLogitsWarper``, ``TopKLogitsWarper``, ``TopPLogitsWarper``,
``MinPLogitsWarper``), in the order ``generate`` applies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..base import BackendError

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_SEED",
    "THINKING_SAMPLING",
    "NON_THINKING_SAMPLING",
    "effective_sampling",
    "seeded_sampler",
]

#: ``max_tokens`` (new tokens, reasoning included) when a request does not set it.
DEFAULT_MAX_TOKENS = 512
#: ``seed`` when a request does not set it: sampled runs are reproducible by default.
DEFAULT_SEED = 0
#: Qwen3 model card, "Best Practices", thinking mode (``enable_thinking=True``).
THINKING_SAMPLING: dict[str, float | int] = {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0}
#: Qwen3 model card, "Best Practices", non-thinking mode (``enable_thinking=False``).
NON_THINKING_SAMPLING: dict[str, float | int] = {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "min_p": 0.0}


def effective_sampling(params: dict[str, Any], sample: int | None = None) -> dict[str, Any]:
    """The sampling a request gets, from its ``params``.

    Honoured params: ``temperature``, ``top_p``, ``top_k``, ``min_p``, ``max_tokens``
    (new tokens, default :data:`DEFAULT_MAX_TOKENS`), ``seed`` (default
    :data:`DEFAULT_SEED`; sample ``i`` of a :class:`~pytest_reasoning.backends.base.Request`
    is seeded ``seed + i``), ``thinking`` (bool, default ``True``), ``do_sample``.
    Unset sampling values come from the Qwen3 model card (:data:`THINKING_SAMPLING`
    or :data:`NON_THINKING_SAMPLING`).  ``temperature=0`` or ``do_sample=False`` means
    greedy decoding.

    Returns:
        ``{"thinking", "do_sample", "max_new_tokens"}`` plus, when sampling,
        ``temperature``, ``top_p``, ``top_k``, ``min_p`` and ``seed``.

    Raises:
        BackendError: a value out of range (``max_tokens < 1``, ``temperature < 0``,
            ``top_p`` not in (0, 1], ``top_k < 0``, ``min_p`` not in [0, 1]).
    """
    thinking = bool(params.get("thinking", True))
    max_tokens = params.get("max_tokens", DEFAULT_MAX_TOKENS)
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise BackendError(f"max_tokens must be a positive integer, got {max_tokens!r}")
    out: dict[str, Any] = {"thinking": thinking, "max_new_tokens": max_tokens}
    temperature = params.get("temperature")
    if params.get("do_sample") is False or temperature == 0:
        out["do_sample"] = False
        return out
    defaults = THINKING_SAMPLING if thinking else NON_THINKING_SAMPLING
    try:
        s = {k: float(params.get(k, v)) for k, v in defaults.items()}
        seed = int(params.get("seed", DEFAULT_SEED)) + (sample or 0)
    except (TypeError, ValueError):
        raise BackendError(
            "temperature, top_p, top_k, min_p and seed must be numbers, got "
            f"{ {k: params[k] for k in (*defaults, 'seed') if k in params} }"
        ) from None
    if not float(s["temperature"]) > 0:
        raise BackendError(f"temperature must be >= 0, got {s['temperature']!r}")
    if not 0 < float(s["top_p"]) <= 1:
        raise BackendError(f"top_p must be in (0, 1], got {s['top_p']!r}")
    if int(s["top_k"]) < 0:
        raise BackendError(f"top_k must be >= 0 (0 = off), got {s['top_k']!r}")
    if not 0 <= float(s["min_p"]) <= 1:
        raise BackendError(f"min_p must be in [0, 1], got {s['min_p']!r}")
    out.update(
        do_sample=True,
        temperature=float(s["temperature"]),
        top_p=float(s["top_p"]),
        top_k=int(s["top_k"]),
        min_p=float(s["min_p"]),
        seed=seed,
    )
    return out


def seeded_sampler(eff: dict[str, Any], seeds: Sequence[int], device: str) -> Any:
    """A transformers ``LogitsProcessor`` that samples row ``r`` of a batch with its own
    ``torch.Generator`` seeded ``seeds[r]``, after the warpers of ``eff`` (the output of
    :func:`effective_sampling`), by inverse transform sampling (one ``torch.rand``
    uniform per row and step, drawn on the CPU, against the cumulative probabilities in
    float64), so the draws depend on neither the torch release nor the device.  It
    leaves one finite score per row (the token drawn), so ``generate(do_sample=False,
    logits_processor=[sampler])`` emits exactly the sampled tokens.

    Args:
        eff: effective sampling (``temperature``, ``top_k``, ``top_p``, ``min_p``).
        seeds: one seed per batch row.
        device: where the scores live (the generators stay on the CPU whatever it is).
    """
    import torch
    from transformers import LogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    warpers = [TemperatureLogitsWarper(eff["temperature"])]
    if eff["top_k"]:
        warpers.append(TopKLogitsWarper(eff["top_k"]))
    if eff["top_p"] < 1.0:
        warpers.append(TopPLogitsWarper(eff["top_p"]))
    if eff["min_p"]:
        from transformers import MinPLogitsWarper

        warpers.append(MinPLogitsWarper(eff["min_p"]))
    # On the CPU whatever the model's device: torch.rand's CPU stream for a seed is the same
    # on every torch release and machine, so a seed draws the same sample on a GPU as on
    # the CPU (where the logits agree); the uniforms cross to the device, a few bytes a step.
    generators = [torch.Generator(device="cpu").manual_seed(int(s)) for s in seeds]

    class SeededSampler(LogitsProcessor):
        def __call__(self, input_ids: Any, scores: Any) -> Any:
            for warp in warpers:
                scores = warp(input_ids, scores)
            # Inverse transform sampling in float64: one uniform per row from the row's
            # generator picks the token whose cumulative probability first exceeds it.
            # torch.rand's stream for a seed is the same in every torch release, while
            # torch.multinomial's draws changed between releases (2.4 and 2.13 differ),
            # so a recording made on one torch is re-drawn the same on another.
            exact = torch.float32 if scores.device.type == "mps" else torch.float64  # MPS has no float64
            cdf = torch.softmax(scores.to(exact), dim=-1).cumsum(-1)
            u = torch.cat([torch.rand(1, generator=g, dtype=torch.float64) for g in generators]).to(cdf)
            drawn = torch.searchsorted(cdf, (u * cdf[:, -1]).view(-1, 1), right=True).clamp_(max=cdf.shape[-1] - 1)
            chosen = torch.full_like(scores, float("-inf"))
            return chosen.scatter_(1, drawn.view(-1, 1), 0.0)

    return SeededSampler()
