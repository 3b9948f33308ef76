"""Shared code of the local-model backends (``transformers`` and ``unsloth``).

What lives here, used by both :mod:`.transformers` and :mod:`.unsloth`:

* checks that turn every usual failure into a one-line :class:`BackendError` saying
  what to do: missing packages (naming the pip extra), model path not found, not a
  causal LM, tokenizer without a chat template, CUDA out of memory;
* loading the config and tokenizer (:func:`load_causal_config`, :func:`load_tokenizer`),
  a PEFT LoRA adapter over a loaded model (:func:`apply_adapter`) and its identity
  (:func:`adapter_identity`: path and SHA-256 of the weight files);
* prompt formatting with the model's own chat template (:func:`format_prompt`);
* the Qwen3 model-card sampling defaults (:func:`effective_sampling`);
* the split of generated token ids into reasoning and answer at the **last**
  ``</think>`` token id (:func:`~pytest_reasoning.text.thinking.split_thinking_ids`), as the Qwen3 model card does;
* batched generation with left padding (:func:`generate_responses`) and the common
  :class:`LocalBackend` whose subclasses only say how to load the model.

Nothing heavy is imported at module import: torch, transformers and peft are imported
inside the functions that need them.

Sources: Qwen3 model cards (e.g. ``Qwen/Qwen3-8B`` on the Hugging Face hub), sections
"Quickstart" (``enable_thinking``, parsing at the last token id 151668 ``</think>``)
and "Best Practices" (thinking mode: temperature 0.6, top_p 0.95, top_k 20, min_p 0;
non-thinking mode: 0.7, 0.8, 20, 0).
"""

from __future__ import annotations

import importlib
import os
import time
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ..text.thinking import split_thinking_ids
from ..trace import BackendInfo, Trace, Usage
from .base import Backend, BackendError, RawResponse, Request

__all__ = [
    "INSTALL_LOCAL",
    "INSTALL_UNSLOTH",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_SEED",
    "THINKING_SAMPLING",
    "NON_THINKING_SAMPLING",
    "LocalModel",
    "LocalBackend",
    "require",
    "is_local_path",
    "check_model_source",
    "load_causal_config",
    "load_tokenizer",
    "prepare_tokenizer",
    "resolve_device",
    "resolve_dtype",
    "apply_adapter",
    "check_adapter_dir",
    "adapter_identity",
    "is_out_of_memory",
    "out_of_memory_error",
    "format_prompt",
    "effective_sampling",
    "trim_completion",
    "generate_responses",
]

#: pip command for the ``local`` extra (torch, transformers, peft, safetensors, tokenizers).
INSTALL_LOCAL = "pip install 'pytest-reasoning[local]'"
#: pip command for the ``unsloth`` extra (unsloth, bitsandbytes, torch, transformers, peft).
INSTALL_UNSLOTH = "pip install 'pytest-reasoning[unsloth]'"

#: ``max_tokens`` (new tokens, reasoning included) when a request does not set it.
DEFAULT_MAX_TOKENS = 512
#: ``seed`` when a request does not set it: sampled runs are reproducible by default.
DEFAULT_SEED = 0
#: Qwen3 model card, "Best Practices", thinking mode (``enable_thinking=True``).
THINKING_SAMPLING: dict[str, float | int] = {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0}
#: Qwen3 model card, "Best Practices", non-thinking mode (``enable_thinking=False``).
NON_THINKING_SAMPLING: dict[str, float | int] = {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "min_p": 0.0}

#: File names of adapter weights that :func:`check_adapter_dir` looks for (PEFT's
#: ``save_pretrained`` writes ``adapter_model.safetensors``; older ones ``.bin``).
_ADAPTER_WEIGHT_GLOBS = ("adapter_model*.safetensors", "adapter_model*.bin")


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


def _first_line(exc: BaseException, limit: int = 200) -> str:
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


def load_causal_config(model: str) -> Any:
    """Load the model's ``transformers`` config and check it is a causal LM.

    Returns:
        the ``PretrainedConfig``.

    Raises:
        BackendError: transformers missing, config unreadable or not found, or the
            model type has no causal-LM class (e.g. T5, ViT).
    """
    transformers = require("transformers")
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    try:
        config = transformers.AutoConfig.from_pretrained(model)
    except (OSError, ValueError, KeyError) as exc:
        if is_local_path(model):
            raise BackendError(
                f"cannot read the config of {model!r} ({_first_line(exc)}); it must be a causal "
                "language model saved with save_pretrained (config.json with a model_type)"
            ) from None
        raise BackendError(
            f"model {model!r} not found locally or on the Hugging Face hub ({_first_line(exc)}); "
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


def load_tokenizer(model: str) -> Any:
    """Load the model's tokenizer (``AutoTokenizer``) and :func:`prepare_tokenizer` it.

    Raises:
        BackendError: transformers missing, no loadable tokenizer, or no chat template.
    """
    transformers = require("transformers")
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise BackendError(
            f"cannot load the tokenizer of {model!r} ({_first_line(exc)}); the model directory "
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


# -- adapters ------------------------------------------------------------------
def check_adapter_dir(adapter: str) -> None:
    """Fail with a clear message unless ``adapter`` is a directory holding a PEFT
    adapter (``adapter_config.json`` and ``adapter_model*.safetensors`` / ``.bin``).

    Raises:
        BackendError: the directory or its files are missing.
    """
    path = Path(adapter).expanduser()
    if not path.is_dir():
        raise BackendError(
            f"adapter directory {adapter!r} not found; pass the directory that PEFT's "
            "save_pretrained wrote (adapter_config.json, adapter_model.safetensors)"
        )
    has_weights = any(f.is_file() for g in _ADAPTER_WEIGHT_GLOBS for f in path.glob(g))
    if not has_weights or not (path / "adapter_config.json").is_file():
        raise BackendError(
            f"adapter directory {adapter!r} has no adapter_config.json and adapter_model.safetensors; "
            "pass the directory that PEFT's save_pretrained wrote"
        )


def adapter_identity(adapter: str) -> dict[str, str]:
    """Identity of a LoRA adapter: ``{"path": adapter as given, "sha256": hex digest}``,
    the digest being :func:`pytest_reasoning.backends.adapter_sha256` of the weight
    files' bytes (the same value the plugin puts in recording keys), so a new
    fine-tune gets a new recording key even when saved to the same directory.

    Raises:
        BackendError: the directory or its files are missing.
    """
    from . import adapter_sha256

    check_adapter_dir(adapter)
    return {"path": adapter, "sha256": adapter_sha256(str(Path(adapter).expanduser()))}


def apply_adapter(model: Any, adapter: str) -> Any:
    """Load the PEFT adapter in directory ``adapter`` over ``model`` (inference only).

    The base is always the model already loaded (the backend's ``model`` argument);
    ``base_model_name_or_path`` in ``adapter_config.json`` is not read.

    Returns:
        the ``peft.PeftModel``.

    Raises:
        BackendError: peft missing, or the adapter does not fit the model.
    """
    check_adapter_dir(adapter)
    peft = require("peft")
    try:
        return peft.PeftModel.from_pretrained(model, adapter, is_trainable=False)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise BackendError(
            f"cannot load adapter {adapter!r} over the model ({_first_line(exc)}); check that it "
            "was trained for this base model"
        ) from None


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


# -- loaded model --------------------------------------------------------------
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


# -- prompts, sampling, splitting -------------------------------------------------------
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
            f"the model's chat template failed on these messages ({_first_line(exc)}); "
            "pass [{'role': 'user', 'content': '...'}] style messages"
        ) from None


def effective_sampling(params: dict[str, Any]) -> dict[str, Any]:
    """The sampling a request gets, from its ``params``.

    Honoured params: ``temperature``, ``top_p``, ``top_k``, ``min_p``, ``max_tokens``
    (new tokens, default :data:`DEFAULT_MAX_TOKENS`), ``seed`` (default
    :data:`DEFAULT_SEED`), ``thinking`` (bool, default ``True``), ``do_sample``.
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
        seed = int(params.get("seed", DEFAULT_SEED))
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


# -- generation ----------------------------------------------------------------------
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
    with ``max_new_tokens`` capped at ``max_seq_length`` minus the prompt length);
    each group is cut into batches of at most ``batch_size`` and each batch is one
    left-padded ``model.generate`` call.  For sampling, ``torch.manual_seed(seed)``
    runs before each call, so a sampled output is reproducible for the same batch
    (same requests in the same order, same device); greedy output does not depend
    on the batch.

    Each trace holds: ``model`` = the request's ``model`` (as the test wrote it, not
    the folder it was found in, so traces and recordings are the same on every
    machine); ``params`` = the request's params as asked;
    ``extra["effective_params"]`` = the effective sampling; ``extra`` also gets
    ``extra`` (adapter identity, quantisation), overridden by the request's own
    ``identity`` (which names the adapter as the test wrote it); ``usage`` counted from token ids
    (``prompt_tokens`` = non-pad prompt tokens, ``completion_tokens`` = generated up
    to and including EOS, ``reasoning_tokens`` = up to and including the last
    ``</think>``); ``finish_reason`` ``"stop"`` (EOS or ``<|im_end|>``) or
    ``"length"``; ``latency_s`` = wall-clock seconds of the whole **batch** the
    request was in (not per request).

    Raises:
        BackendError: a prompt longer than ``max_seq_length``, a bad param, the chat
            template failing, or CUDA out of memory (naming what to lower).
    """
    torch = require("torch")
    tok = lm.tokenizer
    extra = dict(extra or {})
    prepared = []  # (prompt text, prompt length, effective params)
    for req in requests:
        eff = effective_sampling(req.params)
        prompt = format_prompt(tok, req.messages, eff["thinking"])
        n = len(tok(prompt, add_special_tokens=False)["input_ids"])
        if n >= max_seq_length:
            raise BackendError(
                f"the prompt has {n} tokens, not less than max_seq_length={max_seq_length}; "
                "raise max_seq_length or shorten the prompt"
            )
        eff["max_new_tokens"] = min(eff["max_new_tokens"], max_seq_length - n)
        prepared.append((prompt, eff))

    groups: dict[tuple, list[int]] = {}
    for i, (_, eff) in enumerate(prepared):
        key = tuple(sorted((k, v) for k, v in eff.items() if k != "thinking"))
        groups.setdefault(key, []).append(i)

    results: list[RawResponse | None] = [None] * len(requests)
    for idx in groups.values():
        for start in range(0, len(idx), batch_size):
            batch = idx[start : start + batch_size]
            eff = prepared[batch[0]][1]
            gen_kwargs: dict[str, Any] = {
                "max_new_tokens": eff["max_new_tokens"],
                "do_sample": eff["do_sample"],
                "eos_token_id": sorted(lm.eos_ids),
                "pad_token_id": lm.pad_id,
                "use_cache": use_cache,
            }
            if eff["do_sample"]:
                gen_kwargs.update(
                    temperature=eff["temperature"],
                    top_p=eff["top_p"],
                    top_k=eff["top_k"],
                    min_p=eff["min_p"] or None,
                )
            t0 = time.perf_counter()
            try:
                enc = tok(
                    [prepared[i][0] for i in batch],
                    return_tensors="pt", padding=True, add_special_tokens=False,
                ).to(lm.device)
                with torch.inference_mode():
                    if eff["do_sample"]:
                        torch.manual_seed(eff["seed"])
                    out = lm.model.generate(**enc, **gen_kwargs)
            except Exception as exc:
                if is_out_of_memory(exc):
                    if torch.cuda.is_available():
                        torch.cuda.empty_cache()
                    raise out_of_memory_error(
                        f"generating a batch of {len(batch)} prompts",
                        batch_size=batch_size, max_tokens=eff["max_new_tokens"],
                        max_seq_length=max_seq_length, load_in_4bit=load_in_4bit,
                    ) from None
                raise
            latency = time.perf_counter() - t0
            width = enc["input_ids"].shape[1]
            for row, i in enumerate(batch):
                results[i] = _response(
                    lm, requests[i], prepared[i][1], enc["input_ids"][row].tolist(),
                    int(enc["attention_mask"][row].sum()), out[row, width:].tolist(),
                    latency, model_name, extra,
                )
    return results  # type: ignore[return-value]


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
        extra={**extra, **req.identity, "effective_params": dict(eff)},
    )
    return RawResponse(
        format="trace", payload=trace.to_dict(), latency_s=latency, backend_version=lm.backend.version
    )


# -- the common backend -------------------------------------------------------------
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
            sequence at each step: slower, but it sidesteps a decode path that differs
            from the prefill one (seen with Unsloth 2026.10's cached 4-bit decode on the
            small test model; see example_tests/models/README.md).

    Raises:
        BackendError: see :meth:`_load` and :func:`adapter_identity`.
    """

    #: Keyword settings ``create_backend`` passes through.
    SETTINGS = ("adapter", "device", "load_in_4bit", "max_seq_length", "dtype", "batch_size", "use_cache")

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
    ) -> None:
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
        self._identity: dict[str, Any] = {}
        if self.adapter is not None:
            self._identity["adapter"] = adapter_identity(self.adapter)
        if self.load_in_4bit:
            self._identity["quantization"] = "4bit"
        self.lm: LocalModel | None = self._load()

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

        Raises:
            BackendError: closed backend, over-long prompt, bad params, CUDA OOM.
        """
        if self.lm is None:
            raise BackendError(f"the {self.name} backend for {self.model_name!r} was closed; create a new one")
        return generate_responses(
            self.lm, requests, model_name=self.model_name, batch_size=self.batch_size,
            max_seq_length=self.max_seq_length, extra=self.identity(), load_in_4bit=self.load_in_4bit,
            use_cache=self.use_cache,
        )

    def close(self) -> None:
        """Drop the model and free GPU memory (the backend cannot run afterwards)."""
        if self.lm is None:
            return
        self.lm = None
        import gc

        gc.collect()
        torch = importlib.import_module("torch")
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

