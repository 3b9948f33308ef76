"""Trace snapshots: the format (:mod:`.schema`), the sample snapshot format
(:mod:`.sample_schema`) and its statistical comparison (:mod:`.sample_compare`), the
syrupy extensions and file layout (:mod:`.extension`), and every use of syrupy's
internals (:mod:`.syrupy_compat`).

The names below are loaded on first use, so that reading a snapshot file
(:mod:`.schema`, which :mod:`pytest_reasoning.diff` does) imports neither syrupy nor
the extension, which itself uses :mod:`pytest_reasoning.diff`.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the submodule that defines it.
_EXPORTS = {
    "short_repr": "extension",
    "SNAPSHOT_KEYS": "schema",
    "VOLATILE_EXTRA": "schema",
    "SnapshotStats": "schema",
    "TraceSnapshot": "schema",
    "serialize_trace": "schema",
    "read_snapshot": "schema",
    "SAMPLE_KEYS": "sample_schema",
    "SampleSnapshot": "sample_schema",
    "StoredSampleVerdict": "sample_schema",
    "serialize_sample": "sample_schema",
    "read_sample_snapshot": "sample_schema",
    "SampleSnapshotComparison": "sample_compare",
    "compare_sample_snapshots": "sample_compare",
    "SNAPSHOT_DIR": "extension",
    "TraceSnapshotExtension": "extension",
    "StableTraceSnapshotExtension": "extension",
    "extension_for": "extension",
    "snapshot_path_for": "extension",
    "mirrored_snapshot_dir": "extension",
    "match_mirrored_paths": "extension",
    "treat_as_not_run": "syrupy_compat",
    "undo_patches": "syrupy_compat",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load ``name`` from its submodule (PEP 562).  Raises ``AttributeError`` for
    names this package does not have."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
