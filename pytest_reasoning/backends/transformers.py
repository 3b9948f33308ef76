"""The ``transformers`` backend: a causal LM run in this process with Hugging Face
transformers, on CPU or a CUDA GPU, optionally in 4-bit (bitsandbytes NF4, GPU only)
and with a PEFT LoRA adapter.

Everything but loading (prompt formatting, batching, the ``</think>`` split, usage,
errors) is shared with the ``unsloth`` backend in :mod:`.local`.  torch and
transformers are imported when a backend is created, not when this module is.
"""

from __future__ import annotations

from typing import Any

from ..trace import BackendInfo
from .base import BackendError
from .local import (
    INSTALL_UNSLOTH,
    LocalBackend,
    LocalModel,
    apply_adapter,
    check_model_source,
    first_line,
    load_causal_config,
    load_tokenizer,
    local_files_only,
    out_of_memory_guard,
    quiet_loading,
    require,
    resolve_device,
    resolve_dtype,
)

__all__ = ["TransformersBackend", "load_local_model"]


def load_local_model(
    model: str,
    *,
    adapter: str | None = None,
    device: str | None = None,
    load_in_4bit: bool = False,
    dtype: str | None = None,
    max_seq_length: int = 2048,
) -> LocalModel:
    """Load ``model`` (local directory or hub id) with ``AutoModelForCausalLM``.

    Order: cheap checks first (path, config is a causal LM, tokenizer with a chat
    template, 4-bit only on CUDA), then the weights, then the adapter (PEFT).  A local
    folder, or a hub id while the hub cannot be reached, loads from local files only
    (no half minute of retries); transformers' progress bars, logging below errors
    and ``FutureWarning``s are quiet while it loads.

    Returns:
        a :class:`LocalModel` in eval mode on the resolved device, with
        ``backend = BackendInfo("transformers", "transformers <version>")`` (the same
        string is each response's ``backend_version``).

    Raises:
        BackendError: torch/transformers/peft/bitsandbytes missing (naming the pip
            extra), model not found, not a causal LM, no chat template, 4-bit asked
            for without CUDA, CUDA out of memory.
    """
    require("torch")
    transformers = require("transformers")
    device = resolve_device(device)
    if load_in_4bit and not device.startswith("cuda"):
        raise BackendError(
            f"load_in_4bit (bitsandbytes NF4) needs a CUDA GPU but the device is {device!r}; "
            "drop load_in_4bit on CPU or run on a GPU machine"
        )
    check_model_source(model)
    local_only = local_files_only(model)
    load_causal_config(model, local_only)
    tokenizer = load_tokenizer(model, local_only)
    torch_dtype = resolve_dtype(dtype, device)
    kwargs: dict[str, Any] = {"dtype": torch_dtype, "local_files_only": local_only}
    if load_in_4bit:
        kwargs.update(_four_bit(transformers, torch_dtype, device))
    try:
        with out_of_memory_guard(f"loading {model!r}", max_seq_length=max_seq_length, load_in_4bit=load_in_4bit), \
                quiet_loading():
            loaded = _from_pretrained(transformers.AutoModelForCausalLM, model, kwargs)
            if not load_in_4bit:
                loaded = loaded.to(device)
    except (OSError, ValueError) as exc:
        raise BackendError(
            f"cannot load the weights of {model!r} ({first_line(exc)}); "
            "the directory needs model.safetensors (or pytorch_model.bin) as save_pretrained writes"
        ) from None
    if adapter is not None:
        with quiet_loading():
            loaded = apply_adapter(loaded, adapter)
    loaded.eval()
    info = BackendInfo("transformers", f"transformers {transformers.__version__}")
    return LocalModel.create(loaded, tokenizer, device, info)


def _four_bit(transformers: Any, torch_dtype: Any, device: str) -> dict[str, Any]:
    """The ``from_pretrained`` arguments that load the weights in bitsandbytes NF4
    (double quantisation, computing in ``torch_dtype``) onto ``device``.

    Raises:
        BackendError: bitsandbytes is not installed (naming how to install it).
    """
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise BackendError(
            f"load_in_4bit needs the 'bitsandbytes' package; install it with: "
            f"pip install bitsandbytes (or {INSTALL_UNSLOTH})"
        ) from None
    config = transformers.BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch_dtype,
    )
    return {"quantization_config": config, "device_map": {"": device}}


def _from_pretrained(auto_cls: Any, model: str, kwargs: dict[str, Any]) -> Any:
    """``from_pretrained`` with ``dtype=`` (transformers >= 4.56) or ``torch_dtype=``."""
    try:
        return auto_cls.from_pretrained(model, **kwargs)
    except TypeError as exc:
        if "dtype" not in str(exc):
            raise
        kwargs = dict(kwargs)
        kwargs["torch_dtype"] = kwargs.pop("dtype")
        return auto_cls.from_pretrained(model, **kwargs)


class TransformersBackend(LocalBackend):
    """A causal LM through Hugging Face transformers, on CPU or GPU.

    ``TransformersBackend(model, *, adapter=None, device=None, load_in_4bit=False,
    max_seq_length=2048, dtype=None, batch_size=64)``: see :class:`LocalBackend`
    for the arguments.  The model is loaded once, in the constructor.

    Methods: :meth:`run` / :meth:`generate` (batched, see
    :func:`~pytest_reasoning.backends.local.generate_responses`),
    :meth:`identity` (adapter path + SHA-256, ``"4bit"``), :meth:`close`.

    Raises:
        BackendError: from the constructor, see :func:`load_local_model`.
    """

    name = "transformers"

    def _load(self) -> LocalModel:
        return load_local_model(
            self.model_name,
            adapter=self.adapter,
            device=self.device,
            load_in_4bit=self.load_in_4bit,
            dtype=self.dtype,
            max_seq_length=self.max_seq_length,
        )
