"""A local model's content identity: what its folder holds, not where it is.

A model folder's identity is one SHA-256 over the files that decide its output, each
named and hashed on its own: the config (``config.json``, ``generation_config.json``),
the tokenizer files, the chat template and the weights.  Moving the folder or writing
its path another way keeps the identity; retraining the weights or editing the chat
template changes it.  A Git LFS pointer counts as the file it points to (its
``oid sha256``), so a checkout without the LFS objects has the same identity.

Hashing gigabytes of weights takes seconds, so each file's digest is cached by
(absolute path, size, modification time): in memory for the process, and for files
of 1 MiB and more in ``<user cache dir>/pytest-reasoning/file-sha256.json``
(``$XDG_CACHE_HOME``, else ``~/.cache``), so a later session does not hash them again.
The cache is only a shortcut: a missing, corrupt or unwritable cache file is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from ...files import atomic_write_text

__all__ = ["MODEL_FILES", "WEIGHT_GLOBS", "model_files", "model_identity", "file_sha256", "hash_cache_path"]

#: Files of a model folder, besides the weights, that decide its output.
MODEL_FILES = (
    "config.json", "generation_config.json",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "vocab.json", "vocab.txt", "merges.txt", "tokenizer.model",
    "chat_template.jinja", "chat_template.json",
    "model.safetensors.index.json", "pytorch_model.bin.index.json",
)
#: Weight files of a model folder (``save_pretrained`` names, sharded or not).
WEIGHT_GLOBS = ("model*.safetensors", "pytorch_model*.bin")
#: Files at least this large (bytes) have their digest kept in the cache file.
CACHED_SIZE = 1 << 20
#: Most entries the cache file keeps (the most recent).
CACHE_ENTRIES = 512
_LFS_POINTER = re.compile(rb"\Aversion https://git-lfs\.github\.com/spec/v1\n(?:[a-z0-9.-]+ .*\n)*?oid sha256:([0-9a-f]{64})\n")
_memo: dict[tuple[str, int, int], str] = {}


def hash_cache_path() -> Path:
    """The cache file of file digests: ``$XDG_CACHE_HOME/pytest-reasoning/file-sha256.json``,
    else ``~/.cache/pytest-reasoning/file-sha256.json``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pytest-reasoning" / "file-sha256.json"


def _read_cache() -> dict[str, Any]:
    try:
        data = json.loads(hash_cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(new: dict[str, list[Any]]) -> None:
    """Merge ``new`` entries into the cache file (atomically; errors ignored)."""
    data = {k: v for k, v in _read_cache().items() if k not in new}
    data.update(new)
    kept = dict(list(data.items())[-CACHE_ENTRIES:])
    try:
        atomic_write_text(hash_cache_path(), json.dumps(kept, indent=0, sort_keys=False) + "\n")
    except OSError:
        pass


def _content_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, or the ``oid`` of a Git LFS pointer."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        head = f.read(1024)
        found = _LFS_POINTER.match(head) if len(head) < 1024 else None
        if found:
            return found.group(1).decode()
        digest.update(head)
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of one file's content (see :func:`_content_sha256`), cached
    while its absolute path, size and modification time stay the same.

    Raises:
        OSError: the file cannot be read.
    """
    where = Path(path).resolve()
    st = where.stat()
    stamp = (str(where), st.st_size, st.st_mtime_ns)
    if stamp in _memo:
        return _memo[stamp]
    cached = _read_cache().get(str(where)) if st.st_size >= CACHED_SIZE else None
    if isinstance(cached, list) and len(cached) == 3 and cached[:2] == [st.st_size, st.st_mtime_ns]:
        digest = str(cached[2])
    else:
        digest = _content_sha256(where)
        if st.st_size >= CACHED_SIZE:
            _write_cache({str(where): [st.st_size, st.st_mtime_ns, digest]})
    _memo[stamp] = digest
    return digest


def model_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The files of a model folder that its identity covers (:data:`MODEL_FILES` and
    :data:`WEIGHT_GLOBS`), in name order; ``[]`` when ``folder`` is no folder."""
    root = Path(folder)
    if not root.is_dir():
        return []
    found = {root / name for name in MODEL_FILES if (root / name).is_file()}
    found.update(p for pattern in WEIGHT_GLOBS for p in root.glob(pattern) if p.is_file())
    return sorted(found, key=lambda p: p.name)


def model_identity(folder: str | os.PathLike[str]) -> dict[str, str] | None:
    """``{"sha256": hex}`` for a local model folder: SHA-256 over each identity file's
    name and :func:`file_sha256`; ``None`` when ``folder`` is not a model folder (no
    ``config.json``), such as a hub id, a missing path or a typo (those keep the name
    as written in the recording key).

    Raises:
        OSError: a file of the folder cannot be read.
    """
    files = model_files(folder)
    if not any(p.name == "config.json" for p in files):
        return None
    digest = hashlib.sha256()
    for p in files:
        digest.update(f"{p.name}\0{file_sha256(p)}\n".encode())
    return {"sha256": digest.hexdigest()}
