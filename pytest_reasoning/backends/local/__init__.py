"""The local backends' shared parts (``transformers`` and ``unsloth``):

* :mod:`.loading`: packages, model path, config, tokenizer, device, dtype, and CUDA
  out of memory, each failure a one-line error;
* :mod:`.identity`: a model folder's content identity (SHA-256 of config, tokenizer,
  chat template and weights, cached by path, size and modification time);
* :mod:`.adapters`: LoRA adapters (folder check, SHA-256 identity, PEFT loading);
* :mod:`.sampling`: the Qwen3 model card's sampling and the per-row seeded sampler;
* :mod:`.generation`: chat template, batched generation, the ``</think>`` split, usage;
* :mod:`.backend`: :class:`LocalBackend`, whose subclasses only say how to load.

Nothing heavy is imported at module import.
"""

from .adapters import adapter_identity, adapter_sha256, apply_adapter, check_adapter_dir
from .backend import LOCAL_PARAMS, LocalBackend
from .generation import LocalModel, format_prompt, generate_responses, trim_completion
from .identity import model_identity
from .loading import (
    INSTALL_LOCAL,
    INSTALL_UNSLOTH,
    check_model_source,
    default_cuda_device,
    first_line,
    hub_reachable,
    is_local_path,
    is_out_of_memory,
    load_causal_config,
    load_tokenizer,
    local_files_only,
    out_of_memory_error,
    out_of_memory_guard,
    prepare_tokenizer,
    quiet_loading,
    require,
    resolve_device,
    resolve_dtype,
)
from .sampling import DEFAULT_MAX_TOKENS, DEFAULT_SEED, NON_THINKING_SAMPLING, THINKING_SAMPLING, effective_sampling

__all__ = [
    "INSTALL_LOCAL", "INSTALL_UNSLOTH", "DEFAULT_MAX_TOKENS", "DEFAULT_SEED", "THINKING_SAMPLING",
    "NON_THINKING_SAMPLING", "LOCAL_PARAMS", "LocalModel", "LocalBackend", "require", "is_local_path",
    "check_model_source", "load_causal_config", "load_tokenizer", "prepare_tokenizer", "default_cuda_device",
    "resolve_device", "resolve_dtype", "apply_adapter", "check_adapter_dir", "adapter_identity", "adapter_sha256",
    "is_out_of_memory", "out_of_memory_error", "out_of_memory_guard", "first_line", "format_prompt", "effective_sampling",
    "trim_completion", "generate_responses", "model_identity", "hub_reachable", "local_files_only", "quiet_loading",
]
