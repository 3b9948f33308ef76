"""The syrupy extension that snapshots whole traces.

One file per snapshot under the project's top-level ``snapshots/`` folder, mirroring
the test path (``tests/api/test_x.py::test_y`` ->
``snapshots/tests/api/test_x/test_y.json``), UTF-8 JSON with non-ASCII unescaped and
the reasoning one sentence per line, so a pull request's diff shows which sentences
changed.  On a mismatch the report starts with a structured summary
(:func:`pytest_reasoning.diff.summarize`), then syrupy's line diff.  Writes are atomic.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from .diff import stable_view, summary_lines
from .files import atomic_write_text
from .redaction import redact
from .trace import Trace

__all__ = ["TraceSnapshotExtension", "StableTraceSnapshotExtension", "serialize_trace", "snapshot_path_for"]

#: The top-level folder (under the rootdir) that holds every trace snapshot.
SNAPSHOT_DIR = "snapshots"
#: ``trace.extra`` keys that change on every call and so stay out of snapshots.
VOLATILE_EXTRA = ("timings", "system_fingerprint")


def serialize_trace(trace: Trace) -> str:
    """The snapshot text of ``trace``: JSON, 2-space indent, non-ASCII unescaped,
    reasoning as a list of sentences, plus ``stats`` (characters, sentences,
    hesitations) and the assertions' ``checks``; without ``latency_s``, other per-call
    values (:data:`VOLATILE_EXTRA`) and the backend's version (which follows the
    installed packages, not the prompt or the model; the trace itself keeps it).
    Secret-shaped strings are redacted."""
    data = trace.to_dict()
    data.pop("latency_s")
    data["backend"] = {"name": trace.backend.name}
    data["extra"] = {k: v for k, v in data["extra"].items() if k not in VOLATILE_EXTRA}
    data["reasoning"] = trace.sentences()
    data["stats"] = {
        "reasoning_chars": len(trace.reasoning),
        "reasoning_sentences": len(data["reasoning"]),
        "hesitations": trace.hesitations(),
    }
    data["checks"] = trace.checks
    order = ["model", "backend", "params", "messages", "reasoning", "answer", "finish_reason", "truncated",
             "usage", "reasoning_source", "stats", "checks", "extra"]
    ordered = {k: data[k] for k in order}
    return json.dumps(redact(ordered), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def snapshot_path_for(rootpath: Path, test_file: Path, test_name: str) -> Path:
    """Where the snapshot of test ``test_name`` in ``test_file`` lives:
    ``<rootpath>/snapshots/<test file's path relative to rootpath, without .py>/<name>.json``
    (test files outside ``rootpath`` go under ``snapshots/_external/<folder>-<hash>/<file stem>``)."""
    test_file = Path(test_file).absolute()
    try:
        rel = test_file.relative_to(Path(rootpath).absolute())
    except ValueError:  # outside the rootdir: keep same-named files in different folders apart
        folder = hashlib.sha256(str(test_file.parent).encode()).hexdigest()[:8]
        rel = Path("_external", f"{test_file.parent.name}-{folder}", test_file.name)
    name = TraceSnapshotExtension.get_snapshot_name_for(test_name)
    return Path(rootpath, SNAPSHOT_DIR, rel.with_suffix(""), f"{name}.{TraceSnapshotExtension.file_extension}")


def _parse(serialized: Any) -> dict[str, Any] | None:
    try:
        data = json.loads(str(serialized))
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class TraceSnapshotExtension(SingleFileSnapshotExtension):
    """Exact comparison: the whole serialised trace must match."""

    file_extension = "json"
    _write_mode = WriteMode.TEXT

    def serialize(self, data: Any, **kwargs: Any) -> str:
        """Serialise a :class:`Trace` (see :func:`serialize_trace`).

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
        return cls._sanitize_filename(test_name)[: cls._max_stem_length()]

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
        """Write the snapshot atomically (temporary file, then rename)."""
        data = next(iter(snapshot_collection)).data
        if not isinstance(data, str):
            raise TypeError(f"can't write a {type(data).__name__} trace snapshot")
        atomic_write_text(snapshot_collection.location, data)

    def diff_lines(self, serialized_data: Any, snapshot_data: Any):  # type: ignore[override]
        """The structured summary of what changed, then syrupy's line diff."""
        old, new = _parse(snapshot_data), _parse(serialized_data)
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
        """True when :func:`~pytest_reasoning.diff.stable_view` of both is equal
        (exact comparison when either is not trace JSON)."""
        old, new = _parse(snapshot_data), _parse(serialized_data)
        if old is None or new is None:
            return bool(serialized_data == snapshot_data)
        return stable_view(old) == stable_view(new)


def match_mirrored_paths() -> None:
    """Teach syrupy where this extension's snapshots live when a path is given
    (called once by the plugin at configure time; idempotent).  syrupy has no public
    hook for this, so its ``SnapshotReport._is_matching_path`` is wrapped, and left
    alone if a syrupy release no longer has it.

    syrupy decides that ``pytest dir/test_x.py::test_y --snapshot-update`` selected a
    snapshot file by finding the test file's folder inside the snapshot's path: true for
    ``__snapshots__`` beside the test, never for the mirrored top-level ``snapshots/``
    tree, so every other snapshot of ``test_x.py`` was deleted as unused.  A snapshot
    under ``snapshots/<path of the file or folder given>`` now matches too."""
    try:
        from syrupy.report import SnapshotReport
    except ImportError:  # pragma: no cover
        return
    original = getattr(SnapshotReport, "_is_matching_path", None)
    if original is None or getattr(original, "_mirrored", False):
        return

    def _is_matching_path(self: Any, snapshot_location: str, provided_path: str) -> bool:
        if original(self, snapshot_location, provided_path):
            return True
        given, root = Path(provided_path), Path(self.base_dir)
        mirrored = snapshot_path_for(root, given, "x").parent if not given.is_dir() else (
            snapshot_path_for(root, given / "x.py", "x").parent.parent)
        return Path(snapshot_location).absolute().is_relative_to(mirrored)

    _is_matching_path._mirrored = True  # type: ignore[attr-defined]
    SnapshotReport._is_matching_path = _is_matching_path  # type: ignore[method-assign]
