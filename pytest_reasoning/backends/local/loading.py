"""Loading a local model's parts, with every usual failure as a one-line
:class:`~pytest_reasoning.backends.base.BackendError` that says what to do: missing
packages (naming the pip extra), a model path that holds no model, a checkpoint that
is not a causal LM, a tokenizer without a chat template, CUDA out of memory.

Nothing heavy is imported at module import: torch and transformers are imported
inside the functions that need them.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from ... import progress
from ..base import BackendError

__all__ = [
    "INSTALL_LOCAL",
    "INSTALL_UNSLOTH",
    "require",
    "first_line",
    "is_local_path",
    "check_model_source",
    "hub_reachable",
    "local_files_only",
    "quiet_loading",
    "load_causal_config",
    "prepare_tokenizer",
    "load_tokenizer",
    "default_cuda_device",
    "resolve_device",
    "resolve_dtype",
    "is_out_of_memory",
    "out_of_memory_error",
    "out_of_memory_guard",
]

#: pip command for the ``local`` extra (torch, transformers, peft, safetensors, tokenizers).
INSTALL_LOCAL = "pip install 'pytest-reasoning[local]'"
#: pip command for the ``unsloth`` extra (unsloth, bitsandbytes, torch, transformers, peft).
INSTALL_UNSLOTH = "pip install 'pytest-reasoning[unsloth]'"


# -- packages ----------------------------------------------------------------
def require(module: str, extra: str = "local") -> ModuleType:
    """Import and return ``module``.

    Raises:
        BackendError: the package is not installed; the message names the pip extra
            (``extra`` is ``"local"`` or ``"unsloth"``) to install.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        cmd = INSTALL_UNSLOTH if extra == "unsloth" else INSTALL_LOCAL
        raise BackendError(
            f"the {extra} backend needs the {module.split('.')[0]!r} package, which is not "
            f"installed ({exc}); install it with: {cmd}"
        ) from None


def first_line(exc: BaseException, limit: int = 200) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- model source, config, tokenizer -----------------------------------------
def is_local_path(model: str) -> bool:
    """``True`` when ``model`` names something on disk, or is written like a path
    (absolute, ``./``, ``../``, ``~``, more than one ``/``, or a trailing ``/``)
    rather than like a hub id (``org/name``)."""
    if os.path.exists(os.path.expanduser(model)):
        return True
    return (
        model.startswith(("/", "./", "../", "~", ".\\"))
        or model.endswith(("/", os.sep))
        or model.count("/") > 1
        or (os.sep != "/" and os.sep in model)
    )


def check_model_source(model: str) -> None:
    """Fail early, before importing anything heavy, when ``model`` is a local path
    that does not hold a model.  Hub ids (``org/name``) pass unchecked.

    Raises:
        BackendError: the directory is missing, is a file, or has no ``config.json``.
    """
    if not is_local_path(model):
        return
    path = Path(model).expanduser()
    if not path.exists():
        raise BackendError(
            f"model directory {model!r} not found; pass an existing directory "
            "(config.json, weights, tokenizer) or a Hugging Face hub id such as Qwen/Qwen3-8B"
        )
    if not path.is_dir():
        raise BackendError(
            f"model path {model!r} is a file; pass the model's directory (the one "
            "save_pretrained wrote, with config.json, weights and tokenizer)"
        )
    if not (path / "config.json").is_file():
        raise BackendError(
            f"model directory {model!r} has no config.json; pass a directory written by "
            "save_pretrained (config.json, model.safetensors, tokenizer files)"
        )


@functools.cache
def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub (``HF_ENDPOINT``, else https://huggingface.co)
    answers at all within ``timeout`` seconds, asked once per process through
    ``huggingface_hub``'s own HTTP session (so its proxy settings apply);
    ``False`` at once in offline mode (``HF_HUB_OFFLINE``)."""
    try:
        from huggingface_hub import constants
        from huggingface_hub.utils import get_session

        if constants.HF_HUB_OFFLINE:
            return False
        get_session().head(constants.ENDPOINT, timeout=timeout)
    except Exception:  # connection refused, DNS, timeout, offline mode: not reachable
        return False
    return True


def local_files_only(model: str) -> bool:
    """Whether ``model`` must load from local files only: a local path, or a hub id
    when the hub cannot be reached (:func:`hub_reachable`), so that loading does not
    spend half a minute on retries.

    Raises:
        BackendError: a hub id that is not in the local Hugging Face cache while the
            hub cannot be reached.
    """
    if is_local_path(model):
        return True
    if hub_reachable():
        return False
    from huggingface_hub import constants, try_to_load_from_cache

    if not isinstance(try_to_load_from_cache(model, "config.json"), str):
        raise BackendError(
            f"model {model!r} is not in the local Hugging Face cache and the hub ({constants.ENDPOINT}) cannot "
            f"be reached; download it where the hub is reachable (hf download {model}) or pass a local directory"
        )
    return True


@contextmanager
def quiet_loading() -> Iterator[None]:
    """Inside the block: transformers logs errors only, its progress bars ("Loading
    weights") and the hub's show only on a terminal that pytest does not capture and
    outside CI (:func:`pytest_reasoning.progress.enabled`), and ``FutureWarning``s are
    not shown; each is restored as it was afterwards."""
    tlog = importlib.import_module("transformers.utils.logging")
    hub = importlib.import_module("huggingface_hub.utils")
    verbosity, bars, hub_off = tlog.get_verbosity(), tlog.is_progress_bar_enabled(), hub.are_progress_bars_disabled()
    tlog.set_verbosity_error()
    show = progress.enabled()
    (tlog.enable_progress_bar if show else tlog.disable_progress_bar)()
    (hub.enable_progress_bars if show else hub.disable_progress_bars)()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        tlog.set_verbosity(verbosity)
        if bars:
            tlog.enable_progress_bar()
        (hub.disable_progress_bars if hub_off else hub.enable_progress_bars)()


def load_causal_config(model: str, local_only: bool = False) -> Any:
    """Load the model's ``transformers`` config and check it is a causal LM
    (``local_only``: from local files and the cache only, never the hub).

    Returns:
        the ``PretrainedConfig``.

    Raises:
        BackendError: transformers missing, config unreadable or not found, or the
            model type has no causal-LM class (e.g. T5, ViT).
    """
    transformers = require("transformers")
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    try:
        config = transformers.AutoConfig.from_pretrained(model, local_files_only=local_only)
    except (OSError, ValueError, KeyError) as exc:
        if is_local_path(model):
            raise BackendError(
                f"cannot read the config of {model!r} ({first_line(exc)}); it must be a causal "
                "language model saved with save_pretrained (config.json with a model_type)"
            ) from None
        raise BackendError(
            f"model {model!r} not found locally or on the Hugging Face hub ({first_line(exc)}); "
            f"download it first (hf download {model}) or pass a local directory"
        ) from None
    model_type = getattr(config, "model_type", None)
    if model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise BackendError(
            f"{model!r} is a {model_type!r} model, not a causal language model; pass a "
            "decoder-only chat model such as Qwen3 (AutoModelForCausalLM must load it)"
        )
    return config


def prepare_tokenizer(tokenizer: Any, model: str) -> Any:
    """Check that ``tokenizer`` has a chat template and set it up for batched
    generation: left padding, a pad token (the EOS token when it has none).

    Returns:
        the same tokenizer.

    Raises:
        BackendError: the tokenizer has no chat template.
    """
    if not getattr(tokenizer, "chat_template", None):
        raise BackendError(
            f"the tokenizer of {model!r} has no chat template; use a chat/instruct model "
            "(such as Qwen3) or set tokenizer.chat_template and save it with save_pretrained"
        )
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_tokenizer(model: str, local_only: bool = False) -> Any:
    """Load the model's tokenizer (``AutoTokenizer``) and :func:`prepare_tokenizer` it
    (``local_only`` as for :func:`load_causal_config`).

    Raises:
        BackendError: transformers missing, no loadable tokenizer, or no chat template.
    """
    transformers = require("transformers")
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(model, local_files_only=local_only)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise BackendError(
            f"cannot load the tokenizer of {model!r} ({first_line(exc)}); the model directory "
            "needs the tokenizer files that save_pretrained writes (tokenizer.json, tokenizer_config.json)"
        ) from None
    return prepare_tokenizer(tokenizer, model)


def default_cuda_device(torch: Any) -> str:
    """``"cuda:N"`` for pytest-xdist worker ``gwK`` on a machine with several GPUs
    (N = K mod the GPU count: one GPU per worker, each worker loading its own copy),
    else ``"cuda"``."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = torch.cuda.device_count()
    if worker.startswith("gw") and worker[2:].isdigit() and count > 1:
        return f"cuda:{int(worker[2:]) % count}"
    return "cuda"


def resolve_device(device: str | None) -> str:
    """``None`` -> a CUDA GPU when one is visible (:func:`default_cuda_device`), else
    ``"cpu"``; other values (``"cpu"``, ``"cuda"``, ``"cuda:1"``) are returned unchanged.

    Raises:
        BackendError: torch missing, or a CUDA device asked for without CUDA.
    """
    torch = require("torch")
    if device is None:
        return default_cuda_device(torch) if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise BackendError(
            f"device {device!r} asked for but torch sees no CUDA GPU; use device 'cpu' or run on a GPU machine"
        )
    return str(device)


_DTYPES = {
    "float32": "float32", "fp32": "float32", "float": "float32",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float16": "float16", "fp16": "float16", "half": "float16",
}


def resolve_dtype(dtype: str | None, device: str) -> Any:
    """The ``torch.dtype`` to load weights in: ``None`` -> float32 on CPU, bfloat16
    on a GPU that supports it (else float16); or one of ``float32``, ``bfloat16``,
    ``float16`` (aliases ``fp32``, ``bf16``, ``fp16``).

    Raises:
        BackendError: an unknown dtype name.
    """
    torch = require("torch")
    if dtype is None or dtype == "auto":
        if not device.startswith("cuda"):
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if not isinstance(dtype, str):
        return dtype
    name = _DTYPES.get(dtype.lower())
    if name is None:
        raise BackendError(f"unknown dtype {dtype!r}; use float32, bfloat16, float16 or auto")
    return getattr(torch, name)


# -- errors ----------------------------------------------------------------------
def is_out_of_memory(exc: BaseException) -> bool:
    """``True`` for ``torch.cuda.OutOfMemoryError`` (and the older RuntimeError form)."""
    name = type(exc).__name__
    return name == "OutOfMemoryError" or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


def out_of_memory_error(
    during: str, *, batch_size: int | None = None, max_tokens: int | None = None,
    max_seq_length: int | None = None, load_in_4bit: bool | None = None,
) -> BackendError:
    """The one-line error for CUDA out of memory ``during`` ("loading ...",
    "generating ..."), naming the settings to lower with their current values."""
    hints = []
    if batch_size is not None:
        hints.append(f"batch_size (now {batch_size})")
    if max_tokens is not None:
        hints.append(f"max_tokens (now {max_tokens})")
    if max_seq_length is not None:
        hints.append(f"max_seq_length (now {max_seq_length})")
    tail = "lower " + ", ".join(hints) if hints else "use a smaller model"
    if not load_in_4bit:
        tail += ", or load the model in 4-bit (load_in_4bit)"
    return BackendError(f"CUDA out of memory while {during}; {tail}")


@contextmanager
def out_of_memory_guard(during: str, **hints: Any) -> Iterator[None]:
    """Run the block; CUDA out of memory inside it frees the cache and becomes
    :func:`out_of_memory_error` (``during`` and ``hints`` as there).  The one place
    loading and generation turn an OOM into a one-line error."""
    try:
        yield
    except BackendError:
        raise
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise out_of_memory_error(during, **hints) from None
