"""Backends by name.  Nothing heavy is imported until :func:`create_backend` runs.

API backends (all through the ``openai`` client, see ``openai_api.py``):
``openai``, ``deepseek``, ``dashscope``, ``vllm``, ``sglang``, ``llamacpp``,
``ollama``, ``openrouter``.  Local backends: ``transformers`` (CPU or GPU) and
``unsloth`` (4-bit on a CUDA GPU).
"""

from __future__ import annotations

import functools
from typing import Any

from .base import Backend, BackendError, RawResponse, Request, to_trace

__all__ = [
    "API_BACKENDS",
    "LOCAL_BACKENDS",
    "BACKENDS",
    "Backend",
    "BackendError",
    "RawResponse",
    "Request",
    "create_backend",
    "backend_class",
    "backend_settings",
    "request_identity",
    "adapter_sha256",
    "to_trace",
]

API_BACKENDS = (
    "openai",
    "deepseek",
    "dashscope",
    "vllm",
    "sglang",
    "llamacpp",
    "ollama",
    "openrouter",
)
LOCAL_BACKENDS = ("transformers", "unsloth")
BACKENDS = API_BACKENDS + LOCAL_BACKENDS


def create_backend(name: str, model: str, settings: dict[str, Any]) -> Backend:
    """Build the backend ``name`` for ``model``.

    ``settings`` holds the resolved options: for API backends ``base_url``,
    ``api_key``, ``timeout`` (s), ``max_retries``, ``concurrency``; for local
    backends ``adapter``, ``device``, ``load_in_4bit``, ``max_seq_length``.  Unknown
    keys are ignored.

    Raises:
        ValueError: ``name`` is not one of :data:`BACKENDS`.
        BackendError: the backend cannot start (missing key, package or GPU).
    """
    cls = backend_class(name)
    if name in API_BACKENDS:
        return cls(name, model, **backend_settings(name, settings))
    return cls(model, **backend_settings(name, settings))


def backend_class(name: str) -> type[Backend]:
    """The class of backend ``name`` (imports its module, which imports nothing heavy).

    Raises:
        ValueError: ``name`` is not one of :data:`BACKENDS`.
    """
    if name in API_BACKENDS:
        from .openai_api import OpenAIBackend

        return OpenAIBackend
    if name == "transformers":
        from .transformers import TransformersBackend

        return TransformersBackend
    if name == "unsloth":
        from .unsloth import UnslothBackend

        return UnslothBackend
    raise ValueError(f"unknown backend {name!r}; valid: {', '.join(BACKENDS)}")


def backend_settings(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The settings backend ``name`` takes (its class's ``SETTINGS``), ``None`` values
    dropped: what :func:`create_backend` passes, and what tells two live backends apart
    (a test's snapshot mode must not load a model twice)."""
    names = backend_class(name).SETTINGS  # type: ignore[attr-defined]
    return {k: v for k, v in settings.items() if k in names and v is not None}


def adapter_sha256(path: str) -> str:
    """SHA-256 hex digest of a LoRA adapter: the bytes of its ``adapter_config.json``
    (rank, alpha, target modules) and of its ``adapter_model*`` weight files
    (``.safetensors`` / ``.bin``), in name order; other files of a training checkpoint
    (optimizer state, training arguments) are left out.

    Raises:
        BackendError: the folder does not exist or holds no adapter weights.
    """
    from pathlib import Path

    folder = Path(path)
    weights = sorted(folder.glob("adapter_model*")) if folder.is_dir() else []
    weights = [p for p in weights if p.suffix in (".safetensors", ".bin")]
    files = sorted([*weights, *([folder / "adapter_config.json"] if (folder / "adapter_config.json").is_file() else [])])
    if not weights:
        raise BackendError(
            f"LoRA adapter {path!r} not found or holds no adapter_model.safetensors; check --reasoning-adapter"
        )
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    return _hash_files(stamp)


@functools.lru_cache(maxsize=64)
def _hash_files(stamp: tuple[tuple[str, int, int], ...]) -> str:
    """SHA-256 over the files named in ``stamp`` (cached while none changes)."""
    import hashlib
    from pathlib import Path

    digest = hashlib.sha256()
    for name, _, _ in stamp:
        digest.update(Path(name).name.encode())
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()


def request_identity(name: str, settings: dict[str, Any], locate: Any = str) -> dict[str, Any]:
    """What besides the model name decides a backend's output, for recording keys:
    for local backends the LoRA adapter (path as given, so keys are the same on every
    machine, and :func:`adapter_sha256` of the weights at ``locate(path)``) and the
    quantisation; ``{}`` for APIs.

    Raises:
        BackendError: the adapter folder is missing or holds no weights.
    """
    if name not in LOCAL_BACKENDS:
        return {}
    identity: dict[str, Any] = {}
    adapter = settings.get("adapter")
    if adapter:
        identity["adapter"] = {"path": adapter, "sha256": adapter_sha256(locate(adapter))}
    if name == "unsloth" or settings.get("load_in_4bit"):
        identity["quantization"] = "4bit"
    return identity
