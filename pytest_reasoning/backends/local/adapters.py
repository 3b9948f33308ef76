"""LoRA adapters over a local model: checking the folder, its identity (path and
SHA-256 of the weights, part of every recording key) and loading it with PEFT."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from ..base import BackendError
from .loading import first_line, require

__all__ = ["check_adapter_dir", "adapter_sha256", "adapter_identity", "apply_adapter"]

#: File names of adapter weights that :func:`check_adapter_dir` looks for (PEFT's
#: ``save_pretrained`` writes ``adapter_model.safetensors``; older ones ``.bin``).
_ADAPTER_WEIGHT_GLOBS = ("adapter_model*.safetensors", "adapter_model*.bin")


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


def adapter_sha256(path: str) -> str:
    """SHA-256 hex digest of a LoRA adapter: the bytes of its ``adapter_config.json``
    (rank, alpha, target modules) and of its ``adapter_model*`` weight files
    (``.safetensors`` / ``.bin``), in name order; other files of a training checkpoint
    (optimizer state, training arguments) are left out.  Cached while no file's size
    or modification time changes.

    Raises:
        BackendError: the folder does not exist or holds no adapter weights (the
            caller names the setting that gave it).
    """
    folder = Path(path)
    weights = sorted(folder.glob("adapter_model*")) if folder.is_dir() else []
    weights = [p for p in weights if p.suffix in (".safetensors", ".bin")]
    config = folder / "adapter_config.json"
    files = sorted([*weights, *([config] if config.is_file() else [])])
    if not weights:
        raise BackendError(f"LoRA adapter {path!r} not found or holds no adapter_model.safetensors")
    return _hash_files(tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files))


@functools.lru_cache(maxsize=64)
def _hash_files(stamp: tuple[tuple[str, int, int], ...]) -> str:
    """SHA-256 over the files named in ``stamp`` (cached while none changes)."""
    digest = hashlib.sha256()
    for name, _, _ in stamp:
        digest.update(Path(name).name.encode())
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()


def adapter_identity(adapter: str) -> dict[str, str]:
    """Identity of a LoRA adapter: ``{"path": adapter as given, "sha256": hex digest}``,
    the digest being :func:`adapter_sha256` of the weight
    files' bytes (the same value the plugin puts in recording keys), so a new
    fine-tune gets a new recording key even when saved to the same directory.

    Raises:
        BackendError: the directory or its files are missing.
    """
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
            f"cannot load adapter {adapter!r} over the model ({first_line(exc)}); check that it "
            "was trained for this base model"
        ) from None
