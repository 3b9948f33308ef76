"""The backend registry: one name, one lazy loader.

API backends are the provider names of :data:`.profiles.PROVIDERS` (all through the
``openai`` client, :mod:`.openai_api`); local backends are ``transformers`` (CPU or
GPU) and ``unsloth`` (4-bit on a CUDA GPU).  Adding a provider is one entry in
:mod:`.profiles`; adding a local backend is one module and one line in
:data:`_LOCAL`.  Loading a backend class imports its module, which imports nothing
heavy (torch, transformers, unsloth, openai load when a backend starts).
"""

from __future__ import annotations

import importlib
from typing import Any

from .base import Backend, BackendError, RawResponse, Request, to_trace
from .profiles import PROVIDERS

__all__ = [
    "API_BACKENDS",
    "LOCAL_BACKENDS",
    "BACKENDS",
    "Backend",
    "BackendError",
    "RawResponse",
    "Request",
    "backend_class",
    "create_backend",
    "backend_settings",
    "request_identity",
    "all_backend_classes",
    "to_trace",
]

#: Local backends: name -> (module under this package, class name).
_LOCAL = {"transformers": ("transformers", "TransformersBackend"), "unsloth": ("unsloth", "UnslothBackend")}
#: Every API backend goes through one class; a provider profile tells them apart.
_API = ("openai_api", "OpenAIBackend")

API_BACKENDS: tuple[str, ...] = tuple(PROVIDERS)
LOCAL_BACKENDS: tuple[str, ...] = tuple(_LOCAL)
BACKENDS: tuple[str, ...] = API_BACKENDS + LOCAL_BACKENDS


def backend_class(name: str) -> type[Backend]:
    """The class of backend ``name`` (imports its module, which imports nothing heavy).

    Raises:
        ValueError: ``name`` is not one of :data:`BACKENDS`.
    """
    where = _API if name in PROVIDERS else _LOCAL.get(name)
    if where is None:
        raise ValueError(f"unknown backend {name!r}; valid: {', '.join(BACKENDS)}")
    return getattr(importlib.import_module(f".{where[0]}", __name__), where[1])


def all_backend_classes() -> list[type[Backend]]:
    """Each backend class once (the API class once for all providers), in
    :data:`BACKENDS` order: what the settings table gathers declarations from."""
    classes: list[type[Backend]] = []
    for name in BACKENDS:
        cls = backend_class(name)
        if cls not in classes:
            classes.append(cls)
    return classes


def create_backend(name: str, model: str, settings: dict[str, Any]) -> Backend:
    """Start backend ``name`` for ``model`` with the resolved ``settings`` (keys it does
    not take are ignored).

    Raises:
        ValueError: ``name`` is not one of :data:`BACKENDS`.
        BackendError: the backend cannot start (missing key, package, GPU, model).
    """
    return backend_class(name).create(name, model, settings)


def backend_settings(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``settings`` backend ``name`` takes, ``None`` values dropped."""
    return backend_class(name).taken(settings)


def request_identity(name: str, settings: dict[str, Any], locate: Any = str) -> dict[str, Any]:
    """What besides the model name decides backend ``name``'s output, for recording
    keys (``{}`` for APIs; for local backends the LoRA adapter's path and weight hash
    and the quantisation): :meth:`Backend.identity_for`.

    Raises:
        BackendError: the adapter folder is missing or holds no weights.
    """
    return backend_class(name).identity_for(name, settings, locate)
