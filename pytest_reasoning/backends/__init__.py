"""Backends by name.  Nothing heavy is imported until :func:`create_backend` runs.

API backends (all through the ``openai`` client, see ``openai_api.py``):
``openai``, ``deepseek``, ``dashscope``, ``vllm``, ``sglang``, ``llamacpp``,
``ollama``, ``openrouter``.  Local backends: ``transformers`` (CPU or GPU) and
``unsloth`` (4-bit on a CUDA GPU).
"""

from __future__ import annotations

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
