"""The ``unsloth`` backend: a model loaded with Unsloth's ``FastLanguageModel``
(4-bit by default, CUDA GPU only), as in the project's seed::

    FastLanguageModel.from_pretrained(model_name=..., max_seq_length=2048,
        load_in_4bit=True, load_in_8bit=False, full_finetuning=False)
    FastLanguageModel.for_inference(model)

Adapters are loaded with PEFT (``PeftModel.from_pretrained(model, adapter)``) over
the base given as ``model``, exactly as the transformers backend does; Unsloth's
other route (the adapter directory as ``model_name``, base read from
``adapter_config.json``) is not used, so a relative ``base_model_name_or_path``
never matters and both backends treat adapters alike.

Everything but loading is shared with the transformers backend in :mod:`.local`.
While unsloth is imported and loads the model, ``UNSLOTH_DISABLE_STATISTICS=1`` is
set, and while it is imported, for a local model directory, ``HF_HUB_OFFLINE=1`` (the latter effective only if huggingface_hub
is not imported yet; ``local_files_only=True`` is passed as well); both are restored
to what they were right after, so the process's environment is left as
found.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..trace import BackendInfo
from .base import BackendError
from .local import (
    INSTALL_UNSLOTH,
    LocalBackend,
    LocalModel,
    apply_adapter,
    check_model_source,
    default_cuda_device,
    first_line,
    is_local_path,
    load_causal_config,
    load_tokenizer,
    local_files_only,
    out_of_memory_guard,
    prepare_tokenizer,
    quiet_loading,
    require,
    resolve_dtype,
)

__all__ = ["UnslothBackend", "load_unsloth_model"]

_NEEDS_GPU = "the unsloth backend needs a CUDA GPU; use --reasoning-backend transformers on CPU"


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set the environment variables ``values`` inside the block and restore each to
    what it was (or remove it) afterwards, whatever happens inside."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _cuda_device(device: str | None) -> str:
    """The CUDA device Unsloth loads onto (``device``, else the default one), after
    checking, without importing it, that unsloth is installed.

    Raises:
        BackendError: unsloth is not installed (naming the extra), or no CUDA GPU /
            a device that is not CUDA.
    """
    if importlib.util.find_spec("unsloth") is None:
        raise BackendError(
            f"the unsloth backend needs the 'unsloth' package, which is not installed; install it "
            f"with: {INSTALL_UNSLOTH} (CUDA GPU only), or use --reasoning-backend transformers"
        )
    torch = require("torch", "unsloth")
    if not torch.cuda.is_available() or (device is not None and not str(device).startswith("cuda")):
        raise BackendError(_NEEDS_GPU)
    return str(device or default_cuda_device(torch))


def load_unsloth_model(
    model: str,
    *,
    adapter: str | None = None,
    device: str | None = None,
    load_in_4bit: bool = True,
    dtype: str | None = None,
    max_seq_length: int = 2048,
) -> LocalModel:
    """Load ``model`` with ``FastLanguageModel.from_pretrained`` and put it in
    inference mode (``FastLanguageModel.for_inference``).

    Checks run cheapest first: unsloth installed (without importing it), a CUDA GPU,
    the model path, the config is a causal LM, the tokenizer has a chat template.

    Returns:
        a :class:`LocalModel` with ``backend = BackendInfo("unsloth",
        "unsloth <version> (transformers <version>)")``.

    Raises:
        BackendError: unsloth/torch/peft missing (naming the ``[unsloth]`` extra), no
            CUDA GPU, model not found, not a causal LM, no chat template, CUDA OOM.
    """
    device = _cuda_device(device)
    check_model_source(model)
    local = is_local_path(model)
    quiet = {"UNSLOTH_DISABLE_STATISTICS": os.environ.get("UNSLOTH_DISABLE_STATISTICS", "1")}
    with environment(**quiet, **({"HF_HUB_OFFLINE": "1"} if local else {})):
        unsloth = require("unsloth", "unsloth")  # before transformers is used, as Unsloth asks
    transformers = require("transformers", "unsloth")
    local_only = local_files_only(model)
    load_causal_config(model, local_only)
    load_tokenizer(model, local_only)  # chat template check before the (slow) weights
    kwargs: dict[str, Any] = dict(
        model_name=model,
        max_seq_length=max_seq_length,
        dtype=None if dtype is None else resolve_dtype(dtype, device),
        load_in_4bit=bool(load_in_4bit),
        load_in_8bit=False,
        full_finetuning=False,
        local_files_only=local_only,
    )
    if device != "cuda":
        kwargs["device_map"] = {"": device}
    try:
        hints = dict(max_seq_length=max_seq_length, load_in_4bit=load_in_4bit)
        with environment(**quiet), out_of_memory_guard(f"loading {model!r}", **hints), quiet_loading():
            loaded, tokenizer = unsloth.FastLanguageModel.from_pretrained(**kwargs)
    except (OSError, ValueError) as exc:
        raise BackendError(
            f"Unsloth cannot load {model!r} ({first_line(exc)}); check the model directory or hub id"
        ) from None
    # Unsloth returns the tokenizer itself (sometimes a processor wrapping it).
    tokenizer = prepare_tokenizer(getattr(tokenizer, "tokenizer", tokenizer), model)
    if adapter is not None:
        with quiet_loading():
            loaded = apply_adapter(loaded, adapter)
    unsloth.FastLanguageModel.for_inference(loaded)
    version = f"unsloth {getattr(unsloth, '__version__', 'unknown')} (transformers {transformers.__version__})"
    return LocalModel.create(loaded, tokenizer, device, BackendInfo("unsloth", version))


class UnslothBackend(LocalBackend):
    """A model through Unsloth's ``FastLanguageModel``, on a CUDA GPU.

    ``UnslothBackend(model, *, adapter=None, device=None, load_in_4bit=True,
    max_seq_length=2048, dtype=None, batch_size=64)``: as
    :class:`~pytest_reasoning.backends.transformers.TransformersBackend` (see
    :class:`~pytest_reasoning.backends.local.LocalBackend`) but always in 4-bit (the
    seed's setup, and what the plugin's recording keys assume for this backend):
    ``load_in_4bit=False`` is an error.  ``dtype=None`` lets Unsloth choose.

    Raises:
        BackendError: ``load_in_4bit=False``; otherwise see :func:`load_unsloth_model`.
    """

    name = "unsloth"

    def __init__(
        self,
        model: str,
        *,
        adapter: str | None = None,
        device: str | None = None,
        load_in_4bit: bool = True,
        max_seq_length: int = 2048,
        dtype: str | None = None,
        batch_size: int = 64,
        use_cache: bool = True,
    ) -> None:
        if not load_in_4bit:
            raise BackendError(
                "the unsloth backend always loads in 4-bit; drop load_in_4bit=False, or use "
                "--reasoning-backend transformers for 16/32-bit weights"
            )
        super().__init__(
            model, adapter=adapter, device=device, load_in_4bit=load_in_4bit,
            max_seq_length=max_seq_length, dtype=dtype, batch_size=batch_size, use_cache=use_cache,
        )

    def _load(self) -> LocalModel:
        return load_unsloth_model(
            self.model_name,
            adapter=self.adapter,
            device=self.device,
            load_in_4bit=self.load_in_4bit,
            dtype=self.dtype,
            max_seq_length=self.max_seq_length,
        )
