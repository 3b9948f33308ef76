"""Atomic file writes: a reader never sees a half-written cassette or snapshot."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

__all__ = ["atomic_write_text"]


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder,
    flushed to disk and renamed over ``path``; an interrupted write (KeyboardInterrupt,
    a killed process) leaves the old file or none, never a truncated one.  Creates
    missing parent folders.

    The file keeps the permission bits of the file it replaces; a new file gets what
    ``open()`` would give it (0666 less the process's umask, applied by the system at
    creation, so the umask is never read or changed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        old_mode = path.stat().st_mode & 0o777
    except OSError:
        old_mode = None
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if old_mode is None else old_mode)
    try:
        try:
            if old_mode is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, old_mode)  # exactly the old bits, whatever the umask
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
