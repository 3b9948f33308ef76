"""The syrupy extensions that snapshot whole traces, and where their files live.

One file per snapshot under the project's top-level ``snapshots/`` folder, mirroring
the test path (``tests/api/test_x.py::test_y`` ->
``snapshots/tests/api/test_x/test_y.json``), in the format of
:mod:`pytest_reasoning.snapshots.schema`, so a pull request's diff shows which
sentences changed.  On a mismatch the report starts with a structured summary
(:func:`pytest_reasoning.diff.summary_lines`), then syrupy's line diff.  Writes are
atomic.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from ..diff import summary_lines
from ..files import atomic_write_text
from ..trace import Trace
from . import syrupy_compat
from .schema import read_snapshot, serialize_trace

__all__ = [
    "SNAPSHOT_DIR",
    "TraceSnapshotExtension",
    "StableTraceSnapshotExtension",
    "snapshot_path_for",
    "mirrored_snapshot_dir",
    "match_mirrored_paths",
]

#: The top-level folder (under the rootdir) that holds every trace snapshot.
SNAPSHOT_DIR = "snapshots"


def snapshot_path_for(rootpath: Path, test_file: Path, test_name: str) -> Path:
    """Where the snapshot of test ``test_name`` in ``test_file`` lives:
    ``<rootpath>/snapshots/<test file's path relative to rootpath, without .py>/<name>.json``
    (test files outside ``rootpath`` go under ``snapshots/_external/<folder>-<hash>/<file stem>``;
    ``<name>`` is syrupy's file stem for ``test_name``)."""
    test_file = Path(test_file).absolute()
    try:
        rel = test_file.relative_to(Path(rootpath).absolute())
    except ValueError:  # outside the rootdir: keep same-named files in different folders apart
        folder = hashlib.sha256(str(test_file.parent).encode()).hexdigest()[:8]
        rel = Path("_external", f"{test_file.parent.name}-{folder}", test_file.name)
    name = TraceSnapshotExtension.get_snapshot_name_for(test_name)
    return Path(rootpath, SNAPSHOT_DIR, rel.with_suffix(""), f"{name}.{TraceSnapshotExtension.file_extension}")


def mirrored_snapshot_dir(rootpath: Path, given: Path) -> Path:
    """The folder holding the snapshots of a test file or folder ``given`` on the
    command line (``tests/api`` -> ``<rootpath>/snapshots/tests/api``)."""
    if Path(given).is_dir():
        return snapshot_path_for(rootpath, Path(given) / "x.py", "x").parent.parent
    return snapshot_path_for(rootpath, Path(given), "x").parent


def match_mirrored_paths(config: pytest.Config) -> None:
    """Make ``pytest tests/test_x.py::test_y --snapshot-update`` select the mirrored
    snapshots of ``tests/test_x.py`` (so it deletes none of the file's others), for
    this run; undone by :func:`~pytest_reasoning.snapshots.syrupy_compat.undo_patches`.
    See :func:`~pytest_reasoning.snapshots.syrupy_compat.install_mirrored_paths`."""
    syrupy_compat.install_mirrored_paths(config, mirrored_snapshot_dir)


class TraceSnapshotExtension(SingleFileSnapshotExtension):
    """Exact comparison: the whole serialised trace must match."""

    file_extension = "json"
    _write_mode = WriteMode.TEXT

    def serialize(self, data: Any, **kwargs: Any) -> str:
        """Serialise a :class:`Trace` (see :func:`~pytest_reasoning.snapshots.schema.serialize_trace`).

        Fails the test (one line) when ``data`` is not a Trace.
        """
        if not isinstance(data, Trace):
            pytest.fail(
                f"trace_snapshot compares pytest_reasoning.Trace objects, not {type(data).__name__}; "
                "use syrupy's snapshot fixture for other data",
                pytrace=False,
            )
        return serialize_trace(data)

    @classmethod
    def get_snapshot_name_for(cls, test_name: str) -> str:
        """The file stem syrupy uses for ``test_name`` (sanitised, length-capped)."""
        return syrupy_compat.snapshot_stem(cls, test_name)

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        """``<rootdir>/snapshots/<test path without .py>``, mirroring the test tree."""
        root = test_location.item.config.rootpath
        return str(snapshot_path_for(root, Path(test_location.filepath), "x").parent)

    @classmethod
    def discovery_dirname(cls, *, test_location: Any) -> str:
        """Where syrupy looks for this test file's snapshots: :meth:`dirname`."""
        return cls.dirname(test_location=test_location)

    @classmethod
    def write_snapshot_collection(cls, *, snapshot_collection: Any, name_order: Any = None) -> None:
        """Write the snapshot atomically (temporary file, then rename).

        Raises:
            TypeError: the snapshot's data is not text.
        """
        data = next(iter(snapshot_collection)).data
        if not isinstance(data, str):
            raise TypeError(f"can't write a {type(data).__name__} trace snapshot")
        atomic_write_text(snapshot_collection.location, data)

    def diff_lines(self, serialized_data: Any, snapshot_data: Any):  # type: ignore[override]
        """The structured summary of what changed, then syrupy's line diff."""
        old, new = read_snapshot(snapshot_data), read_snapshot(serialized_data)
        if old is not None and new is not None:
            yield from summary_lines(old, new)
            yield ""
        yield from super().diff_lines(serialized_data, snapshot_data)


class StableTraceSnapshotExtension(TraceSnapshotExtension):
    """Stable-parts comparison, for sampled live models: a snapshot matches when the
    answer (or, where the test checked it, the answer's verdict), the detour, path
    and budget verdicts, the finish reason and truncation are unchanged; the stored
    file still holds the whole trace for review."""

    def matches(self, *, serialized_data: Any, snapshot_data: Any) -> bool:
        """True when the :meth:`~pytest_reasoning.snapshots.schema.TraceSnapshot.stable_view`
        of both is equal (exact comparison when either is not a trace snapshot)."""
        old, new = read_snapshot(snapshot_data), read_snapshot(serialized_data)
        if old is None or new is None:
            return bool(serialized_data == snapshot_data)
        return old.stable_view() == new.stable_view()
