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
    if name in API_BACKENDS:
        from .openai_api import OpenAIBackend

        return OpenAIBackend(name, model, **_pick(settings, OpenAIBackend.SETTINGS))
    if name == "transformers":
        from .transformers import TransformersBackend

        return TransformersBackend(model, **_pick(settings, TransformersBackend.SETTINGS))
    if name == "unsloth":
        from .unsloth import UnslothBackend

        return UnslothBackend(model, **_pick(settings, UnslothBackend.SETTINGS))
    raise ValueError(f"unknown backend {name!r}; valid: {', '.join(BACKENDS)}")


def _pick(settings: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k in names and v is not None}


def adapter_sha256(path: str) -> str:
    """SHA-256 hex digest of a LoRA adapter's weights: the bytes of its
    ``*.safetensors`` / ``*.bin`` / ``*.pt`` files, in name order.

    Raises:
        BackendError: the folder does not exist or holds no weight file.
    """
    from pathlib import Path

    folder = Path(path)
    files = sorted(p for p in folder.glob("*") if p.suffix in (".safetensors", ".bin", ".pt")) if folder.is_dir() else []
    if not files:
        raise BackendError(f"LoRA adapter {path!r} not found or holds no weights (*.safetensors); check --reasoning-adapter")
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
