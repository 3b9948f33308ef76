"""Decode paths for local models, chosen per batch: the plain ``generate`` call, or the
compiled path (a static KV cache with the decode step captured as a CUDA graph,
:mod:`.static_decoder`); batch sizes from free GPU memory; halving on out-of-memory.

* **Paths**: ``"compiled"`` runs :class:`~.static_decoder.StaticDecoder` with CUDA
  graphs; ``"static"`` is the same decoder without graphs (CPU, for checking);
  ``"plain"`` is ``model.generate``.  The default (``"auto"``) is compiled on CUDA for
  the layouts the decoder knows with the KV cache on, plain otherwise; a failure while
  building or capturing switches the compiled path off for the model and reruns the
  batch plain.  The path is written into the backend version string of each trace
  (``"transformers 5.17.0 (decode: compiled)"``, or ``"... (decode: plain; compiled path
  off: <why>)"``).
* **Batch size from memory** (CUDA): free memory over what one sequence needs (its KV
  cache, layers x 2 x KV heads x head dim x bytes x tokens, plus float32 logits),
  capped by ``batch_size``; a CUDA out-of-memory error in a chunk halves it and retries
  (:func:`run_halving`), and only a single prompt that does not fit is an error.

Nothing heavy is imported at module import.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ...trace import BackendInfo
from .loading import first_line, is_out_of_memory
from .static_decoder import bucket_length, free_cuda_bytes, unsupported_reason

if TYPE_CHECKING:
    from .static_decoder import StaticDecoder

__all__ = [
    "COMPILED", "STATIC", "PLAIN", "kv_bytes_per_token", "batch_from_memory", "run_halving", "configure_decode",
    "release_decode", "decode_path_of", "decode_batch",
]

COMPILED, STATIC, PLAIN = "compiled", "static", "plain"


def kv_bytes_per_token(config: Any, dtype_bytes: int) -> int:
    """Bytes of KV cache one token takes: layers x 2 (K and V) x KV heads x head dim x
    ``dtype_bytes`` (Qwen3-4B in bfloat16: 36 x 2 x 8 x 128 x 2 = 147,456)."""
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    return config.num_hidden_layers * 2 * kv_heads * head_dim * dtype_bytes


def batch_from_memory(free_bytes: int, per_sequence_bytes: int, cap: int, reserve: float = 0.1) -> int:
    """Most sequences that fit in ``free_bytes`` less a ``reserve`` fraction and 1 GiB
    (activations, allocator slack), ``per_sequence_bytes`` each; between 1 and ``cap``."""
    usable = int(free_bytes * (1 - reserve)) - (1 << 30)
    return max(1, min(cap, usable // max(1, per_sequence_bytes)))


def run_halving(total: int, size: int, run: Callable[[int, int], list], on_oom: Callable[[], None] = lambda: None) -> list:
    """``run(lo, hi)`` over ``[0, total)`` in chunks of ``size``, concatenated.  A CUDA
    out-of-memory error in a chunk calls ``on_oom()`` (free caches) and retries it at half
    its size (rounded up), which then holds for the chunks after it; at size 1 the error
    is raised."""
    out: list = []
    lo = 0
    while lo < total:
        hi = min(total, lo + size)
        try:
            out.extend(run(lo, hi))
        except Exception as exc:
            if not is_out_of_memory(exc) or size == 1:
                raise
            del exc
            on_oom()
            size = max(1, (hi - lo + 1) // 2)
            continue
        lo = hi
    return out


# -- which path ------------------------------------------------------------------
class _DecodeState:
    """What one loaded model keeps between batches: the chosen mode, the base version
    string, the decoder (built on first use), and why the compiled path is off."""

    def __init__(self, lm: Any, mode: str = "auto") -> None:
        self.mode, self.base_version = mode, lm.backend.version
        self.decoder: StaticDecoder | None = None
        self.off: str | None = None


def _state(lm: Any) -> _DecodeState:
    state = lm.__dict__.get("_decode_state")
    if state is None:
        state = lm.__dict__["_decode_state"] = _DecodeState(lm)
    return state


def configure_decode(lm: Any, mode: str = "auto") -> None:
    """Choose the decode path of a :class:`~.generation.LocalModel`: ``"auto"`` (compiled
    on CUDA where supported, else plain), ``"compiled"`` (the static decoder; without a
    CUDA graph on CPU) or ``"plain"``.  Raises ``ValueError`` on another value."""
    if mode not in ("auto", COMPILED, PLAIN):
        raise ValueError(f"decode must be auto, compiled or plain, got {mode!r}")
    release_decode(lm)
    _state(lm).mode = mode


def release_decode(lm: Any) -> None:
    """Drop the decoder, its KV caches and graphs (the model itself is kept)."""
    state = lm.__dict__.get("_decode_state")
    if state is not None and state.decoder is not None:
        state.decoder.workspaces.clear()
        state.decoder = None


def decode_path_of(version: str | None) -> str | None:
    """The path written into a backend version string by :func:`decode_batch`, or ``None``."""
    if not version or "(decode: " not in version:
        return None
    return version.rsplit("(decode: ", 1)[1].split(";")[0].rstrip(")")


def _choose(lm: Any, state: _DecodeState, use_cache: bool) -> tuple[str, str | None]:
    """``(path, why not compiled)``."""
    cuda = str(lm.device).startswith("cuda")
    if state.mode == PLAIN or not use_cache:
        return PLAIN, None
    if state.mode == "auto" and not cuda:
        return PLAIN, None
    why = state.off or unsupported_reason(lm.model)
    if why:
        return PLAIN, why
    return (COMPILED if cuda else STATIC), None


def decode_batch(
    lm: Any, prompts: Sequence[str], eff: dict[str, Any], seeds: Sequence[int] | None,
    plain: Callable[[list[str], list[int] | None], list], *, use_cache: bool = True, batch_size: int | None = None,
) -> list[tuple[list[int], int, list[int]]]:
    """Generate for ``prompts`` (one effective sampling ``eff``; ``seeds`` per row when
    sampling) on the path :func:`configure_decode` chose, and label ``lm.backend``'s
    version with it.  ``plain(prompts, seeds)`` is the plain ``generate`` call.  On CUDA
    the prompts run in chunks sized from free memory (capped by ``batch_size``), halved
    on out-of-memory.  A failure of the compiled path (not out-of-memory) switches it
    off for this model and reruns the whole batch on the plain path.

    Returns:
        ``[(prompt ids with padding, prompt tokens, generated ids), ...]`` in order.

    Raises:
        the CUDA out-of-memory error when even one prompt does not fit.
    """
    state = _state(lm)
    path, why = _choose(lm, state, use_cache)
    prompts = list(prompts)
    torch = sys.modules.get("torch")
    cap = _rows_that_fit(lm, prompts, eff, batch_size or len(prompts), torch)  # halved on OOM
    size = min(len(prompts), cap)

    def free() -> None:
        nonlocal cap
        cap = max(1, cap // 2)
        if state.decoder is not None:
            state.decoder.workspaces.clear()
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()

    def run(use: str) -> list:
        def chunk(lo: int, hi: int) -> list:
            row_seeds = None if seeds is None else list(seeds[lo:hi])
            if use == PLAIN:
                return plain(prompts[lo:hi], row_seeds)
            if state.decoder is None:
                from .static_decoder import StaticDecoder

                state.decoder = StaticDecoder(lm.model, graphs=use == COMPILED)
            return state.decoder.rows(lm, prompts[lo:hi], eff, row_seeds, cap=max(cap, hi - lo))
        return run_halving(len(prompts), size, chunk, free)

    if path != PLAIN:
        try:
            rows = run(path)
        except Exception as exc:
            if is_out_of_memory(exc):
                raise
            state.off, state.decoder = f"{type(exc).__name__}: {first_line(exc, 120)}", None
            path, why = PLAIN, state.off
    if path == PLAIN:
        rows = run(PLAIN)
    label = path if path != PLAIN or not why else f"plain; compiled path off: {why}"
    lm.backend = BackendInfo(lm.backend.name, f"{state.base_version} (decode: {label})")
    return rows


def _rows_that_fit(lm: Any, prompts: list[str], eff: dict[str, Any], cap: int, torch: Any) -> int:
    """The most rows a chunk (dummy rows included) may take: ``cap``, and on CUDA no
    more than free memory holds for the longest prompt plus ``max_new_tokens``."""
    if not (str(lm.device).startswith("cuda") and torch is not None):
        return cap
    tokens = max(len(lm.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts)
    per_seq = _sequence_bytes(lm.model, bucket_length(tokens + eff["max_new_tokens"]))
    return batch_from_memory(free_cuda_bytes(torch, lm.device), per_seq, cap)


def _sequence_bytes(model: Any, tokens: int) -> int:
    """KV cache of one sequence of ``tokens`` plus its float32 logits (x 4: scores,
    probabilities and the sampler's copies)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    emb = base.get_input_embeddings().weight
    return kv_bytes_per_token(base.config, emb.element_size()) * tokens + 16 * base.config.vocab_size
