"""The syrupy extensions that snapshot whole traces, and where their files live.

One file per snapshot under the project's top-level ``snapshots/`` folder, mirroring
the test path (``tests/api/test_x.py::test_y`` ->
``snapshots/tests/api/test_x/test_y.json``), in the format of
:mod:`pytest_reasoning.snapshots.schema`, so a pull request's diff shows which
sentences changed.  On a mismatch the report starts with a structured summary
(:func:`pytest_reasoning.diff.summary_lines`), then syrupy's line diff.  Writes are
atomic.

A :class:`~pytest_reasoning.TraceSample` is stored in the same place in the format of
:mod:`pytest_reasoning.snapshots.sample_schema` and compared statistically, by
:mod:`pytest_reasoning.snapshots.sample_compare`: identical text matches at once;
otherwise it is a mismatch only when a rate (two-sided Fisher's exact test) or a
measure (two-sided Mann-Whitney U) moved significantly after Holm's correction across
all comparisons at alpha 0.05, or when a check was added or removed.  The "stable"
mode compares samples the same way (the test already tolerates re-wording).  A
sample that matches is rewritten only under ``--snapshot-update``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from ..diff import summary_lines
from ..files import atomic_write_text
from ..sample import TraceSample
from ..trace import Trace
from . import syrupy_compat
from .sample_compare import compare_sample_texts, sample_summary_lines
from .sample_schema import is_sample_data, serialize_sample
from .schema import read_snapshot, serialize_trace

__all__ = [
    "SNAPSHOT_DIR",
    "TraceSnapshotExtension",
    "StableTraceSnapshotExtension",
    "extension_for",
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


def _holds_sample(text: Any) -> bool:
    """Whether ``text`` is a sample snapshot's JSON (``n`` and ``traces``)."""
    if not isinstance(text, (str, bytes)):
        return False
    try:
        return is_sample_data(json.loads(text))
    except ValueError:
        return False


class TraceSnapshotExtension(SingleFileSnapshotExtension):
    """Exact comparison: the whole serialised trace must match.  A
    :class:`~pytest_reasoning.TraceSample` is compared statistically instead (see the
    module docstring and :mod:`pytest_reasoning.snapshots.sample_compare`)."""

    file_extension = "json"
    _write_mode = WriteMode.TEXT
    #: Under ``--snapshot-update``, rewrite a sample whose text changed even when it
    #: matches statistically (so the file follows the re-recorded sample).
    rewrite_equivalent_samples = False

    def serialize(self, data: Any, **kwargs: Any) -> str:
        """Serialise a :class:`Trace` (see :func:`~pytest_reasoning.snapshots.schema.serialize_trace`)
        or a :class:`~pytest_reasoning.TraceSample` (see
        :func:`~pytest_reasoning.snapshots.sample_schema.serialize_sample`).

        Fails the test (one line) when ``data`` is neither.
        """
        if isinstance(data, TraceSample):
            return serialize_sample(data)
        if not isinstance(data, Trace):
            pytest.fail(
                f"trace_snapshot compares pytest_reasoning.Trace objects, not {type(data).__name__}; "
                "use syrupy's snapshot fixture for other data",
                pytrace=False,
            )
        return serialize_trace(data)

    def matches(self, *, serialized_data: Any, snapshot_data: Any) -> bool:
        """Equal text matches (no statistics run).  Otherwise a sample on either side
        matches only as :meth:`samples_match` says, and a trace as :meth:`traces_match`
        says (exact: never)."""
        if serialized_data == snapshot_data:
            return True
        if _holds_sample(serialized_data) or _holds_sample(snapshot_data):
            return self.samples_match(serialized_data, snapshot_data)
        return self.traces_match(serialized_data, snapshot_data)

    def samples_match(self, serialized_data: Any, snapshot_data: Any) -> bool:
        """Whether the new sample matches the stored one: nothing moved significantly
        (two-sided Fisher's exact test for rates, Mann-Whitney U for measures, Holm's
        correction at alpha 0.05) and the checks are the same.  ``False`` when either
        is not a readable sample snapshot, and under ``--snapshot-update``
        (:attr:`rewrite_equivalent_samples`), so that the new sample is written."""
        if self.rewrite_equivalent_samples:
            return False
        try:
            return compare_sample_texts(str(snapshot_data), str(serialized_data)).matches
        except ValueError:
            return False

    def traces_match(self, serialized_data: Any, snapshot_data: Any) -> bool:
        """Whether two different trace snapshot texts match: never, in exact mode."""
        return False

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
        """The structured summary of what changed (for a sample: each significant
        change, effect size and interval first), then syrupy's line diff."""
        if _holds_sample(serialized_data) or _holds_sample(snapshot_data):
            summary = _sample_summary(serialized_data, snapshot_data)
        else:
            old, new = read_snapshot(snapshot_data), read_snapshot(serialized_data)
            summary = summary_lines(old, new) if old is not None and new is not None else []
        if summary:
            yield from summary
            yield ""
        yield from super().diff_lines(serialized_data, snapshot_data)


def _sample_summary(serialized_data: Any, snapshot_data: Any) -> list[str]:
    """The first lines of a mismatch where either side is a sample snapshot."""
    new_is_sample, old_is_sample = _holds_sample(serialized_data), _holds_sample(snapshot_data)
    if new_is_sample and old_is_sample:
        return sample_summary_lines(str(snapshot_data), str(serialized_data))
    if new_is_sample and read_snapshot(snapshot_data) is None:
        return []  # nothing stored yet: syrupy says so
    stored, new = ("a single trace", "a sample") if new_is_sample else ("a sample", "a single trace")
    return [f"What changed: the stored snapshot holds {stored}, the test now gives {new}; "
            "review it and rewrite the snapshot with --snapshot-update"]


class StableTraceSnapshotExtension(TraceSnapshotExtension):
    """Stable-parts comparison, for sampled live models: a snapshot matches when the
    answer (or, where the test checked it, the answer's verdict), the detour, path
    and budget verdicts, the finish reason and truncation are unchanged; the stored
    file still holds the whole trace for review.  A sample is compared as in exact
    mode: its statistical comparison already tolerates re-wording."""

    def traces_match(self, serialized_data: Any, snapshot_data: Any) -> bool:
        """True when the :meth:`~pytest_reasoning.snapshots.schema.TraceSnapshot.stable_view`
        of both is equal (exact comparison when either is not a trace snapshot)."""
        old, new = read_snapshot(snapshot_data), read_snapshot(serialized_data)
        if old is None or new is None:
            return bool(serialized_data == snapshot_data)
        return old.stable_view() == new.stable_view()


class _RewritingTraceSnapshotExtension(TraceSnapshotExtension):
    """:class:`TraceSnapshotExtension` under ``--snapshot-update``: a changed sample is rewritten."""

    rewrite_equivalent_samples = True


class _RewritingStableTraceSnapshotExtension(StableTraceSnapshotExtension):
    """:class:`StableTraceSnapshotExtension` under ``--snapshot-update``: a changed sample is rewritten."""

    rewrite_equivalent_samples = True


def extension_for(mode: str, update: bool = False) -> type[TraceSnapshotExtension]:
    """The extension class for snapshot mode ``mode`` (``"exact"`` or ``"stable"``);
    with ``update`` (``--snapshot-update``) one that rewrites a sample whose text
    changed even where it matches statistically.  Traces are compared alike either way."""
    if mode == "stable":
        return _RewritingStableTraceSnapshotExtension if update else StableTraceSnapshotExtension
    return _RewritingTraceSnapshotExtension if update else TraceSnapshotExtension


def short_repr(assertion: Any, name: str) -> Any:
    """``assertion`` (the ``trace_snapshot`` fixture's value, syrupy's
    ``SnapshotAssertion``) with a one-line ``repr`` naming the snapshot file ``name``:
    pytest shows a failing test's arguments, and syrupy's own ``repr`` is the whole
    stored snapshot.  The object is syrupy's, only its class is a subclass that changes
    ``repr``; ``with_defaults`` keeps it."""
    from syrupy.assertion import SnapshotAssertion

    class TraceSnapshotAssertion(SnapshotAssertion):
        def __repr__(self) -> str:
            return f"<trace snapshot {name}>"

    assertion.__class__ = TraceSnapshotAssertion
    return assertion
