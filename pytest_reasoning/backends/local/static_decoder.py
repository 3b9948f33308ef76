"""The static decoder behind the compiled decode path (:mod:`.compiled`): a causal LM's
own modules and weights over a preallocated KV cache, the decode step captured once per
shape bucket as a CUDA graph and replayed.

* **Arithmetic** as in transformers' ``modeling_qwen3.py`` (RMSNorm statistics in
  float32, ``rotate_half`` RoPE from the model's ``inv_freq``, eager attention with a
  float32 softmax, float32 logits); q/k/v and gate/up as one matrix product each (on
  CUDA the modules' weights become views of the fused one: no second copy); bitsandbytes
  4-bit layers dequantised once when free memory allows; other layers (PEFT LoRA, 4-bit
  kept packed) called as their modules.
* **Prefill** runs eagerly (SDPA) in row chunks, writing K and V at slots ``0 .. P-1``;
  decode step ``s`` feeds one token per row at its own position (``cumsum(mask) - 1``)
  and writes slot ``P + s``; keys are masked per row (prompt padding) and by the slot.
  The next token (argmax, or the per-row seeded sampler) is chosen outside the graph.
* **Buckets**: batches padded to a power of two with copies of their first prompt
  (outputs dropped), cache lengths rounded up to a multiple of :data:`LENGTH_STEP`; the
  last :data:`MAX_WORKSPACES` (batch, length) buckets are kept.

Nothing heavy is imported at module import.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "LENGTH_STEP", "MAX_WORKSPACES", "SUPPORTED_MODEL_TYPES", "bucket_batch", "bucket_length",
    "free_cuda_bytes", "unsupported_reason", "StaticDecoder",
]

#: Cache lengths are rounded up to a multiple of this many tokens.
LENGTH_STEP = 256
#: ``config.model_type`` values whose layer layout the decoder knows.
SUPPORTED_MODEL_TYPES = ("qwen3", "qwen2", "llama")
#: Workspaces (KV cache + graph) kept per model, least recently used dropped first.
MAX_WORKSPACES = 2
#: Prompt tokens per prefill chunk (rows x padded prompt length).
PREFILL_TOKENS = 8192
_CHECK_EVERY = 16  # decode steps between checks that every row has ended


# -- shapes and memory ---------------------------------------------------------
def bucket_batch(n: int, cap: int) -> int:
    """Rows a batch of ``n`` prompts runs with: the next power of two, at most ``cap``
    (and at least ``n``).  Raises ``ValueError`` when ``n < 1``."""
    if n < 1:
        raise ValueError(f"a batch needs at least one row, got {n}")
    size = 1 << (n - 1).bit_length()
    return max(n, min(size, cap))


def bucket_length(tokens: int, step: int = LENGTH_STEP) -> int:
    """KV-cache length for ``tokens`` (padded prompt + new tokens): the next multiple of ``step``."""
    return max(step, -(-tokens // step) * step)


def free_cuda_bytes(torch: Any, device: str) -> int:
    """Free bytes on ``device``: the driver's free memory plus what torch's caching
    allocator holds unused."""
    free, _ = torch.cuda.mem_get_info(torch.device(device))
    return int(free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device))


def unsupported_reason(model: Any) -> str | None:
    """Why :class:`StaticDecoder` cannot run ``model`` (a causal LM, optionally PEFT-wrapped),
    or ``None`` when it can."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    config, core = getattr(base, "config", None), getattr(base, "model", None)
    kind = getattr(config, "model_type", None)
    if kind not in SUPPORTED_MODEL_TYPES or core is None or not hasattr(core, "layers"):
        return f"model type {kind!r} (the decoder knows {', '.join(SUPPORTED_MODEL_TYPES)})"
    rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    if rope.get("rope_type", rope.get("type", "default")) not in ("default", "linear", "llama3", "yarn"):
        return f"rope type {rope.get('rope_type')!r} depends on the sequence length"
    if any(t != "full_attention" for t in (getattr(config, "layer_types", None) or [])):
        return "sliding-window layers"
    if getattr(config, "hidden_act", "silu") != "silu":
        return f"activation {config.hidden_act!r}"
    return None


# -- the decoder -------------------------------------------------------------------
class _Proj:
    """Projections that read the same input, fused into one matrix product where all
    have a usable weight, else each called as its module; returns the outputs
    concatenated on the last dimension."""

    def __init__(self, modules: Sequence[Any], dequantize: bool, repoint: bool) -> None:
        import torch

        got = [_usable_weight(m, dequantize) for m in modules]
        self.parts: list[tuple[Any, Any, Any]] = []
        if len(modules) > 1 and all(g is not None for g in got):
            weight = torch.cat([w for w, _ in got])
            bias = None
            if any(b is not None for _, b in got):
                bias = torch.cat([b if b is not None else w.new_zeros(w.shape[0]) for w, b in got])
            if repoint:  # the modules keep working, as views of the fused weight: no second copy
                offset = 0
                for m, (w, _) in zip(modules, got):
                    if type(m) is torch.nn.Linear:
                        m.weight.data = weight[offset : offset + w.shape[0]]
                    offset += w.shape[0]
            self.parts.append((weight, bias, None))
        else:
            self.parts = [(g[0], g[1], None) if g is not None else (None, None, m) for g, m in zip(got, modules)]

    def __call__(self, x: Any) -> Any:
        import torch
        from torch.nn.functional import linear

        outs = [linear(x, w, b) if m is None else m(x) for w, b, m in self.parts]
        return outs[0] if len(outs) == 1 else torch.cat(outs, -1)


def _is_bnb_4bit(module: Any) -> bool:
    """A bitsandbytes ``Linear4bit`` itself, not PEFT's LoRA layer of the same class name
    that wraps one (``peft.tuners.lora.bnb.Linear4bit``, whose ``weight`` is its base's)."""
    cls = type(module)
    return cls.__name__ == "Linear4bit" and cls.__module__.split(".")[0] == "bitsandbytes"


def _usable_weight(module: Any, dequantize: bool) -> tuple[Any, Any] | None:
    """``(weight, bias)`` of a plain ``nn.Linear``, or of a bitsandbytes 4-bit layer
    dequantised (``bitsandbytes.functional.dequantize_4bit``); ``None`` for anything else
    (a LoRA layer is called as its module, adapter included)."""
    import torch

    if type(module) is torch.nn.Linear:
        return module.weight, module.bias
    state = getattr(getattr(module, "weight", None), "quant_state", None)
    if dequantize and _is_bnb_4bit(module) and state is not None:
        from bitsandbytes.functional import dequantize_4bit

        return dequantize_4bit(module.weight.data, state).to(state.dtype), module.bias
    return None


def _norm(module: Any) -> tuple[Any, float]:
    return module.weight, float(getattr(module, "variance_epsilon", getattr(module, "eps", 1e-6)))


def _rms(x: Any, norm: tuple[Any, float]) -> Any:
    """transformers' RMSNorm: float32 statistics, the weight applied in the input dtype."""
    import torch

    weight, eps = norm
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(x.dtype)


def _rope(x: Any, cos: Any, sin: Any) -> Any:
    import torch

    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), -1) * sin


class StaticDecoder:
    """Greedy or sampled decoding of one causal LM over a static KV cache.

    Args:
        model: a loaded Qwen3, Qwen2 or Llama causal LM (or a PEFT model over one), in
            eval mode, on one device; see :func:`unsupported_reason`.
        graphs: capture each workspace's decode step as a CUDA graph (CUDA only).
        dequantize: dequantise bitsandbytes 4-bit layers once (default: when their
            16-bit weights take under 40 % of free GPU memory).

    Raises:
        ValueError: the model is not supported.
    """

    def __init__(self, model: Any, *, graphs: bool = True, dequantize: bool | None = None) -> None:
        import torch

        why = unsupported_reason(model)
        if why:
            raise ValueError(f"the static decoder cannot run this model: {why}")
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        core, config = base.model, base.config
        self.embed, self.head, self.norm = core.embed_tokens, base.get_output_embeddings(), _norm(core.norm)
        self.dtype, self.device = self.embed.weight.dtype, self.embed.weight.device
        self.graphs = graphs and self.device.type == "cuda"
        self.heads = config.num_attention_heads
        self.kv_heads = getattr(config, "num_key_value_heads", None) or self.heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.scaling = float(getattr(core.layers[0].self_attn, "scaling", self.head_dim ** -0.5))
        self.inv_freq, self.rope_scale = self._rope_frequencies(core, config)
        if dequantize is None:
            dequantize = self.device.type == "cuda" and self._quantized_bytes(core) < 0.4 * free_cuda_bytes(
                torch, str(self.device))
        self.dequantized = dequantize and self._quantized_bytes(core) > 0
        with torch.no_grad():
            self.layers = [self._layer_weights(layer, dequantize) for layer in core.layers]
        self.workspaces: collections.OrderedDict[tuple[int, int], _Workspace] = collections.OrderedDict()

    def _rope_frequencies(self, core: Any, config: Any) -> tuple[Any, float]:
        import torch

        rotary = getattr(core, "rotary_emb", None)
        inv = getattr(rotary, "inv_freq", None)
        if inv is None:  # the default RoPE (Qwen3 model cards: rope_theta)
            theta = (getattr(config, "rope_parameters", None) or {}).get("rope_theta") or config.rope_theta
            dims = torch.arange(0, self.head_dim, 2, dtype=torch.float32, device=self.device)
            inv = 1.0 / (theta ** (dims / self.head_dim))
        return inv.float().to(self.device), float(getattr(rotary, "attention_scaling", 1.0) or 1.0)

    @staticmethod
    def _quantized_bytes(core: Any) -> int:
        """Bytes the 4-bit layers take once dequantised to 16 bits."""
        return sum(2 * m.in_features * m.out_features for m in core.modules() if _is_bnb_4bit(m))

    def _layer_weights(self, layer: Any, dequantize: bool) -> dict[str, Any]:
        import torch

        att, mlp = layer.self_attn, layer.mlp
        repoint = self.device.type == "cuda"
        out = {
            "ln1": _norm(layer.input_layernorm), "ln2": _norm(layer.post_attention_layernorm),
            "qkv": _Proj([att.q_proj, att.k_proj, att.v_proj], dequantize, repoint),
            "o": _Proj([att.o_proj], dequantize, False),
            "gate_up": _Proj([mlp.gate_proj, mlp.up_proj], dequantize, repoint),
            "down": _Proj([mlp.down_proj], dequantize, False), "qk_norm": None,
        }
        if hasattr(att, "q_norm"):
            (wq, eq), (wk, ek) = _norm(att.q_norm), _norm(att.k_norm)
            if eq != ek:
                raise ValueError("q_norm and k_norm have different eps")
            out["qk_norm"] = (torch.cat((wq.expand(self.heads, -1), wk.expand(self.kv_heads, -1))), eq)
        return out

    def rope_table(self, length: int) -> tuple[Any, Any]:
        """``(cos, sin)`` of positions ``0 .. length-1``, ``[length, head_dim]`` in the
        model dtype, computed as transformers' rotary embedding does (float32)."""
        import torch

        freqs = torch.arange(length, device=self.device, dtype=torch.float32)[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), -1)
        return (emb.cos() * self.rope_scale).to(self.dtype), (emb.sin() * self.rope_scale).to(self.dtype)

    def layer(self, w: dict[str, Any], x: Any, kv: Any, cos: Any, sin: Any, attend: Callable[..., Any]) -> Any:
        """One decoder layer on ``x`` ``[B, S, hidden]``: writes K and V through
        ``attend(q [B,S,H,D], k [B,S,Hkv,D], v [B,S,Hkv,D], kv)``, which returns
        ``[B, S, H*D]``."""
        b, s, _ = x.shape
        h, kvh, d = self.heads, self.kv_heads, self.head_dim
        y = w["qkv"](_rms(x, w["ln1"]))
        qk = y[..., : (h + kvh) * d].view(b, s, h + kvh, d)
        if w["qk_norm"] is not None:
            qk = _rms(qk, w["qk_norm"])
        qk = _rope(qk, cos[:, :, None], sin[:, :, None])
        v = y[..., (h + kvh) * d :].view(b, s, kvh, d)
        x = x + w["o"](attend(qk[:, :, :h], qk[:, :, h:], v, kv))
        gate, up = w["gate_up"](_rms(x, w["ln2"])).chunk(2, -1)
        from torch.nn.functional import silu

        return x + w["down"](silu(gate) * up)

    def logits(self, x: Any) -> Any:
        """Float32 next-token logits ``[B, vocab]`` from the last position of ``x``."""
        return self.head(_rms(x[:, -1:], self.norm))[:, 0].float()

    def workspace(self, batch: int, length: int) -> _Workspace:
        """The cached :class:`_Workspace` for this bucket, built (and captured) on first use."""
        key = (batch, length)
        if key in self.workspaces:
            self.workspaces.move_to_end(key)
            return self.workspaces[key]
        while len(self.workspaces) >= MAX_WORKSPACES:
            self.workspaces.popitem(last=False)
        ws = self.workspaces[key] = _Workspace(self, batch, length)
        return ws

    def rows(self, lm: Any, prompts: list[str], eff: dict[str, Any], seeds: list[int] | None, *, cap: int) -> list:
        """Generate for ``prompts`` (one effective sampling ``eff``, ``seeds`` per row when
        sampling) in a batch bucket of at most ``cap`` rows.

        Returns:
            ``[(prompt ids with padding, prompt tokens, generated ids), ...]``.
        """
        import torch

        enc = lm.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        ids, mask = enc["input_ids"], enc["attention_mask"]
        n, width = ids.shape
        new = eff["max_new_tokens"]
        ws = self.workspace(bucket_batch(n, cap), bucket_length(width + new))
        pick: Callable[[Any], Any] = lambda logits: logits.argmax(-1)  # noqa: E731
        if eff["do_sample"]:
            from .sampling import seeded_sampler

            sampler = seeded_sampler(eff, list(seeds or []) + [0] * (ws.batch - n), str(self.device))
            pick = lambda logits: sampler(ws.tok[:, None], logits).argmax(-1)  # noqa: E731
        with torch.inference_mode():
            out = ws.generate(ids, mask, new, torch.tensor(sorted(lm.eos_ids), device=self.device), pick)
        return [(ids[r].tolist(), int(mask[r].sum()), out[r].tolist()) for r in range(n)]


class _Workspace:
    """The static buffers of one (batch, cache length) bucket: KV cache ``[layers, 2, B,
    KV heads, L, head dim]``, the fed token, positions, cache slot and key mask, the
    RoPE table, and the captured step."""

    def __init__(self, dec: StaticDecoder, batch: int, length: int) -> None:
        import torch

        self.dec, self.batch, self.length = dec, batch, length
        kw = {"device": dec.device}
        self.kv = torch.zeros(len(dec.layers), 2, batch, dec.kv_heads, length, dec.head_dim, dtype=dec.dtype, **kw)
        self.tok = torch.zeros(batch, dtype=torch.long, **kw)
        self.pos = torch.zeros(batch, dtype=torch.long, **kw)
        self.slot = torch.zeros(1, dtype=torch.long, **kw)
        self.keys = torch.zeros(batch, length, dtype=dec.dtype, **kw)  # 0 or the dtype's min, per key
        self.arange = torch.arange(length, **kw)
        self.cos, self.sin = dec.rope_table(length)
        self.min = torch.finfo(dec.dtype).min
        self.out: Any = None
        self.graph = self._capture() if dec.graphs else None

    def step(self) -> Any:
        """Logits of the token in ``tok`` at ``pos``, its K and V written at cache ``slot``."""
        import torch

        mask = torch.where(self.arange <= self.slot, self.keys, self.min)[:, None, None, :]
        dec = self.dec
        b, g = self.batch, dec.heads // dec.kv_heads

        def attend(q: Any, k: Any, v: Any, kv: Any) -> Any:
            kv[0].index_copy_(2, self.slot, k.transpose(1, 2))
            kv[1].index_copy_(2, self.slot, v.transpose(1, 2))
            q = q[:, 0].reshape(b, dec.kv_heads, g, dec.head_dim)
            scores = torch.matmul(q, kv[0].transpose(-1, -2)) * dec.scaling + mask
            probs = torch.softmax(scores, -1, dtype=torch.float32).to(q.dtype)
            return torch.matmul(probs, kv[1]).reshape(b, 1, dec.heads * dec.head_dim)

        x = dec.embed(self.tok[:, None])
        cos, sin = self.cos[self.pos][:, None], self.sin[self.pos][:, None]
        for i, w in enumerate(dec.layers):
            x = dec.layer(w, x, self.kv[i], cos, sin, attend)
        return dec.logits(x)

    def _capture(self) -> Any:
        import torch

        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.inference_mode(), torch.cuda.stream(stream):
            for _ in range(2):  # warm-up: cuBLAS handles and workspaces outside the capture
                self.step()
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.inference_mode(), torch.cuda.graph(graph):
            self.out = self.step()
        return graph

    def prefill(self, ids: Any, mask: Any) -> Any:
        """Run the prompts (``[B, P]``, left-padded) in row chunks, writing K and V at
        slots ``0 .. P-1``; returns the float32 logits of the last position ``[B, vocab]``."""
        import torch
        from torch.nn.functional import scaled_dot_product_attention as sdpa

        dec, (rows, width) = self.dec, ids.shape
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
        causal = torch.ones(width, width, dtype=torch.bool, device=dec.device).tril()
        diagonal = torch.eye(width, dtype=torch.bool, device=dec.device)
        chunk, logits = max(1, PREFILL_TOKENS // width), []
        for lo in range(0, rows, chunk):
            hi = min(rows, lo + chunk)
            allowed = (causal & (mask[lo:hi, None, :].bool() | diagonal))[:, None]  # a pad row sees itself

            def attend(q: Any, k: Any, v: Any, kv: Any, lo: int = lo, hi: int = hi, allowed: Any = allowed) -> Any:
                kv[0, lo:hi, :, :width] = k.transpose(1, 2)
                kv[1, lo:hi, :, :width] = v.transpose(1, 2)
                g = dec.heads // dec.kv_heads
                k, v = (t.transpose(1, 2).repeat_interleave(g, 1) for t in (k, v))
                o = sdpa(q.transpose(1, 2), k, v, attn_mask=allowed, scale=dec.scaling)
                return o.transpose(1, 2).reshape(hi - lo, width, dec.heads * dec.head_dim)

            x = dec.embed(ids[lo:hi])
            cos, sin = self.cos[positions[lo:hi]], self.sin[positions[lo:hi]]
            for i, w in enumerate(dec.layers):
                x = dec.layer(w, x, self.kv[i], cos, sin, attend)
            logits.append(dec.logits(x))
        return torch.cat(logits)

    def generate(self, ids: Any, mask: Any, new: int, eos: Any, pick: Callable[[Any], Any]) -> Any:
        """Prefill ``ids`` (``[n, P]``, n <= batch; padded here with copies of row 0),
        then decode up to ``new`` tokens, choosing each with ``pick(float32 logits)``.
        Stops early once every real row has produced an id in ``eos``.

        Returns:
            ``[n, steps]`` generated ids (ids after a row's first EOS are arbitrary).
        """
        import torch

        n, width = ids.shape
        if n < self.batch:
            ids = torch.cat([ids, ids[:1].expand(self.batch - n, -1)])
            mask = torch.cat([mask, mask[:1].expand(self.batch - n, -1)])
        self.keys.zero_()
        self.keys[:, :width].masked_fill_(mask == 0, self.min)
        out = torch.empty(self.batch, new, dtype=torch.long, device=ids.device)
        nxt = pick(self.prefill(ids, mask))
        out[:, 0] = nxt
        done = torch.isin(nxt, eos)
        self.pos.copy_(mask.sum(-1))
        self.slot.fill_(width)
        steps = 1
        while steps < new:
            self.tok.copy_(nxt)
            if self.graph is not None:
                self.graph.replay()
            else:
                self.out = self.step()
            self.pos.add_(1)
            self.slot.add_(1)
            nxt = pick(self.out)
            out[:, steps] = nxt
            done |= torch.isin(nxt, eos)
            steps += 1
            if steps % _CHECK_EVERY == 0 and bool(done[:n].all()):
                break
        return out[:n, :steps]
