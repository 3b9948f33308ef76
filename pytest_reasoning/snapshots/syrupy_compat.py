"""Every use of syrupy's internals, in one place, each gated on the syrupy release it
was written for and each with a fallback that uses public behaviour only.

syrupy has no public hook for three things this plugin needs:

* the file stem it gives a test's snapshot (sanitised, length-capped): read from
  ``SingleFileSnapshotExtension._sanitize_filename`` / ``_max_stem_length`` where the
  installed release has them (7.0.1 on), else the same rule, copied from syrupy's
  ``single_file.py`` of the installed release line;
* which snapshot files a path given on the command line selects
  (``SnapshotReport._is_matching_path``, wrapped by :func:`install_mirrored_paths`;
  the wrapper is removed again by :func:`undo_patches`);
* that a failed test never reached its snapshots (``config._syrupy.ran_item(nodeid,
  "skipped")``, :func:`treat_as_not_run`; syrupy 4.7 on).

Without a tested release (``RELEASES``), nothing internal is touched and syrupy
behaves as it does on its own: a path-filtered or failed run's ``--snapshot-update``
may then report or delete snapshots of tests that did not reach them.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unicodedata import category

import pytest

__all__ = ["RELEASES", "syrupy_version", "snapshot_stem", "install_mirrored_paths", "undo_patches", "treat_as_not_run"]

#: syrupy releases each internal use was written and tested for: ``[first, before)``.
RELEASES = {
    "stem helpers": ((7, 0, 1), (8,)),
    "_is_matching_path": ((4, 0, 0), (8,)),
    "ran_item outcome": ((4, 7, 0), (8,)),
}
#: Undo callables of what :func:`install_mirrored_paths` changed, per pytest run.
_UNDO = pytest.StashKey[list[Callable[[], None]]]()
#: Characters syrupy leaves out of snapshot file names (``single_file.py``).
_EXCLUDED_CHARS = '\\/?*:|"<>'


@functools.cache
def syrupy_version() -> tuple[int, ...]:
    """The installed syrupy's release as numbers (``"7.0.2"`` -> ``(7, 0, 2)``,
    ``"8.0.0rc1"`` -> ``(8, 0, 0)``; ``()`` when it is not installed or its version
    does not start with a number)."""
    try:
        text = importlib.metadata.version("syrupy")
    except importlib.metadata.PackageNotFoundError:
        return ()
    release = re.match(r"\d+(?:\.\d+)*", text)
    return tuple(int(n) for n in release.group().split(".")) if release else ()


def _tested(use: str) -> bool:
    first, before = RELEASES[use]
    return first <= syrupy_version() < before


def snapshot_stem(extension: Any, test_name: str) -> str:
    """The file stem syrupy gives the snapshot of ``test_name`` for the single-file
    ``extension`` class: control characters and ``\\/?*:|"<>`` left out, capped at
    the file-name length syrupy allows (255 bytes less the extension's suffix)."""
    if _tested("stem helpers") and hasattr(extension, "_sanitize_filename") and hasattr(extension, "_max_stem_length"):
        return extension._sanitize_filename(test_name)[: extension._max_stem_length()]
    suffix = str(getattr(extension, "file_extension", "") or "")
    # syrupy before 7.0.1 left room for the extension without its dot; 7.0.1 on, with it.
    limit = 255 - len(suffix) - (1 if suffix and syrupy_version() >= (7, 0, 1) else 0)
    kept = "".join(c for c in test_name if c not in _EXCLUDED_CHARS and not category(c).startswith("C"))
    return kept[:limit]


def install_mirrored_paths(config: pytest.Config, mirrored_dir: Callable[[Path, Path], Path]) -> None:
    """Make a path given on the command line select the snapshots under its mirrored
    folder too, for this pytest run; :func:`undo_patches` (at unconfigure) removes it.

    syrupy decides that ``pytest dir/test_x.py::test_y --snapshot-update`` selected a
    snapshot file by finding the test file's folder inside the snapshot's path: true
    for ``__snapshots__`` beside the test, never for a mirrored top-level tree, so every
    other snapshot of ``test_x.py`` was deleted as unused.  ``mirrored_dir(root,
    given_path)`` names the folder holding the snapshots of a given file or folder;
    a snapshot under it now matches as well.  Does nothing on an untested syrupy.
    """
    if not _tested("_is_matching_path"):
        return
    try:
        from syrupy.report import SnapshotReport
    except ImportError:  # pragma: no cover - syrupy is a dependency
        return
    original = SnapshotReport.__dict__.get("_is_matching_path")
    if original is None:
        return

    def _is_matching_path(self: Any, snapshot_location: str, provided_path: str) -> bool:
        if original(self, snapshot_location, provided_path):
            return True
        mirrored = mirrored_dir(Path(self.base_dir), Path(provided_path))
        return Path(snapshot_location).absolute().is_relative_to(mirrored)

    SnapshotReport._is_matching_path = _is_matching_path  # type: ignore[method-assign]

    def undo() -> None:
        if SnapshotReport.__dict__.get("_is_matching_path") is _is_matching_path:
            SnapshotReport._is_matching_path = original  # type: ignore[method-assign]

    config.stash.setdefault(_UNDO, []).append(undo)


def undo_patches(config: pytest.Config) -> None:
    """Undo what :func:`install_mirrored_paths` did for ``config`` (latest first)."""
    for undo in reversed(config.stash.get(_UNDO, [])):
        undo()
    config.stash[_UNDO] = []


def treat_as_not_run(config: pytest.Config, nodeid: str) -> bool:
    """Tell syrupy that test ``nodeid`` did not run, so that its snapshots are neither
    reported unused nor deleted by ``--snapshot-update`` (for a test that failed before
    or while reaching them).  Returns whether syrupy was told (``False`` on an untested
    release or without syrupy's session)."""
    ran_item = getattr(getattr(config, "_syrupy", None), "ran_item", None)
    if ran_item is None or not _tested("ran_item outcome"):
        return False
    ran_item(nodeid, "skipped")
    return True
