"""The common local backend: settings, identity and generation shared by the
``transformers`` and ``unsloth`` backends, whose subclasses only say how to load."""

from __future__ import annotations

import importlib
import os
from abc import abstractmethod
from typing import Any

from ...settings.kinds import Setting, device, dtype, flag, number
from ..base import Backend, BackendError, RawResponse, Request
from .adapters import adapter_sha256, check_adapter_dir
from .identity import model_identity
from .compiled import configure_decode, decode_path_of, release_decode
from .generation import LocalModel, generate_responses

__all__ = ["LocalBackend", "LOCAL_PARAMS"]

#: Request parameters the local backends honour, with the type each takes.
LOCAL_PARAMS: dict[str, type | tuple[type, ...]] = {
    "temperature": (int, float),
    "top_p": (int, float),
    "top_k": int,
    "min_p": (int, float),
    "max_tokens": int,
    "seed": int,
    "thinking": bool,
    "do_sample": bool,
}


class LocalBackend(Backend):
    """A model loaded in this process; subclasses implement :meth:`_load`.

    Args:
        model: local directory or Hugging Face hub id (written into ``trace.model``
            as given).
        adapter: directory of a PEFT LoRA adapter to load over ``model``, or ``None``.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"``; ``None`` = CUDA when available.
        load_in_4bit: load the weights in 4-bit NF4 (bitsandbytes; CUDA only).
        max_seq_length: most tokens of prompt plus generation; ``max_new_tokens`` is
            capped so that a request fits.
        dtype: ``float32``, ``bfloat16``, ``float16`` or ``None`` (float32 on CPU,
            bfloat16 on GPU).
        batch_size: most prompts per ``generate`` call.
        use_cache: decode with a KV cache (default).  ``False`` recomputes the whole
            sequence at each step on the plain path: slower, but it sidesteps a decode
            path that differs from the prefill one (Unsloth 2026.10's batch-1 4-bit
            decode, its Triton NF4 GEMV, on the small test model's shapes; the compiled
            path does not run it; see example_tests/models/README.md).
        decode: ``"auto"`` (default: the compiled path, a static KV cache with the decode
            step captured as a CUDA graph, on CUDA for Qwen3/Qwen2/Llama layouts; plain
            ``generate`` elsewhere), ``"compiled"`` (on CPU: the same decoder without
            graphs) or ``"plain"``; see :mod:`.compiled`.  A keyword of the constructor,
            not a setting.

    Raises:
        BackendError: see :meth:`_load` and :meth:`identity_for`.
    """

    #: The settings local backends take (options, ini keys, marker keywords).
    SETTINGS = (
        Setting("adapter", "LoRA adapter directory (PEFT save_pretrained output) loaded over the model"),
        Setting("device", "device for local models: cpu, cuda, cuda:N, mps (default: cuda if available)", device),
        Setting("load_in_4bit", "load local models in 4-bit (bitsandbytes NF4; always on for unsloth)", flag),
        Setting("max_seq_length", "context length for local models (default 2048)", number(int), 2048),
        Setting("dtype", "weight dtype for local models: auto, float32, bfloat16, float16 "
                "(default auto: float32 on CPU, bfloat16 on GPU)", dtype),
        Setting("batch_size", "most prompts per generate call on local models (default 64)", number(int), 64),
        Setting("use_cache", "decode local models with a KV cache (default true; false recomputes each step)",
                flag, True),
    )
    #: The request parameters local backends honour.
    PARAMS = LOCAL_PARAMS

    def __init__(
        self,
        model: str,
        *,
        adapter: str | None = None,
        device: str | None = None,
        load_in_4bit: bool = False,
        max_seq_length: int = 2048,
        dtype: str | None = None,
        batch_size: int = 64,
        use_cache: bool = True,
        decode: str = "auto",
    ) -> None:
        if decode not in ("auto", "compiled", "plain"):
            raise BackendError(f"decode must be auto, compiled or plain, got {decode!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise BackendError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(max_seq_length, int) or max_seq_length < 2:
            raise BackendError(f"max_seq_length must be an integer >= 2, got {max_seq_length!r}")
        self.model_name = str(model)
        self.adapter = None if adapter is None else str(adapter)
        self.device = device
        self.load_in_4bit = bool(load_in_4bit)
        self.max_seq_length = max_seq_length
        self.dtype = dtype
        self.batch_size = batch_size
        self.use_cache = bool(use_cache)
        if self.adapter is not None:
            check_adapter_dir(self.adapter)
        self._identity = self.identity_for(self.name, {"adapter": self.adapter, "load_in_4bit": self.load_in_4bit})
        self.lm: LocalModel | None = self._load()
        configure_decode(self.lm, decode)

    @classmethod
    def identity_for(cls, name: str, settings: dict[str, Any], locate: Any = str) -> dict[str, Any]:
        """``{"model": {"sha256"}, "adapter": {"path", "sha256"}, "quantization": "4bit"}``,
        each key only when it applies.  The one place a local backend's identity is
        computed: for recording keys before any model loads, and for each trace's
        ``extra`` (where the backend passes no ``model``).

        * ``"model"``: when ``settings["model"]`` found at ``locate(model)`` is a model
          folder, :func:`~.identity.model_identity` of its content (config, tokenizer,
          chat template, weights); the path as written is then only a label, left out
          of the recording key, so a moved folder still replays.  A hub id, or a folder
          that is not here, has none.
        * ``"adapter"``: the adapter's path as written (so keys are the same on every
          machine) and :func:`~.adapters.adapter_sha256` of its files at ``locate(path)``.
        * ``"quantization"``: ``"4bit"`` for ``unsloth`` or ``load_in_4bit``.

        Raises:
            BackendError: the adapter folder is missing or holds no weights, or a model
                file cannot be read.
        """
        identity: dict[str, Any] = {}
        model = settings.get("model")
        if model:
            try:
                content = model_identity(os.path.expanduser(str(locate(model))))
            except OSError as e:
                raise BackendError(f"cannot read the model folder {model!r} ({e.strerror or e}); check its files") from None
            if content:
                identity["model"] = content
        adapter = settings.get("adapter")
        if adapter:
            identity["adapter"] = {"path": adapter, "sha256": adapter_sha256(os.path.expanduser(str(locate(adapter))))}
        if name == "unsloth" or settings.get("load_in_4bit"):
            identity["quantization"] = "4bit"
        return identity

    @abstractmethod
    def _load(self) -> LocalModel:
        """Load model and tokenizer per the settings on ``self``.

        Raises:
            BackendError: missing package, model not found, not a causal LM, no chat
                template, no GPU where one is needed, CUDA out of memory.
        """

    def identity(self) -> dict[str, Any]:
        """``{"adapter": {"path", "sha256"}, "quantization": "4bit"}``, each key only
        when it applies (part of every recording key)."""
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in self._identity.items()}

    def run(self, requests: list[Request]) -> list[RawResponse]:
        """Generate for ``requests`` (see :func:`generate_responses`); each response is
        ``format="trace"`` with ``extra["adapter"]`` / ``extra["quantization"]`` when set.
        The decode path of each batch is in its backend version string
        (``"... (decode: compiled)"``) and, on a CUDA device, where there is a choice, in
        ``extra["decode_path"]`` too (on CPU the extra stays as it was, so CPU snapshots
        do not change).

        Raises:
            BackendError: closed backend, over-long prompt, bad params, CUDA OOM.
        """
        if self.lm is None:
            raise BackendError(f"the {self.name} backend for {self.model_name!r} was closed; create a new one")
        responses = generate_responses(
            self.lm, requests, model_name=self.model_name, batch_size=self.batch_size,
            max_seq_length=self.max_seq_length, extra=self.identity(), load_in_4bit=self.load_in_4bit,
            use_cache=self.use_cache,
        )
        if str(self.lm.device).startswith("cuda"):
            for raw in responses:
                raw.payload.setdefault("extra", {})["decode_path"] = decode_path_of(raw.backend_version)
        return responses

    def close(self) -> None:
        """Drop the model and free GPU memory (the backend cannot run afterwards)."""
        if self.lm is None:
            return
        release_decode(self.lm)
        self.lm = None
        import gc

        gc.collect()
        torch = importlib.import_module("torch")
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
