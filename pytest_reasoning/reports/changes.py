"""What changed in a test's snapshots, for reports.

The test's ``trace_snapshot`` fixture value is syrupy's ``SnapshotAssertion``; its
public ``executions`` hold, for each ``assert ... == trace_snapshot``, the stored text
(``recalled_data``), the new text (``asserted_data``) and whether it matched.  Each
one that did not match, or that ``--snapshot-update`` rewrote, becomes a change: the
same "What changed" summary the failure starts with (:func:`pytest_reasoning.diff.summary_lines`
for a trace; the sample comparison for a sample), and the sentences added and removed
(``difflib`` on the stored and new reasoning).  Plain JSON data, so it crosses
pytest-xdist with the report.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

__all__ = ["MAX_CHANGED_SENTENCES", "snapshot_changes", "mark_changed_sentences"]

#: Sentences added or removed that one change keeps (the rest are counted).
MAX_CHANGED_SENTENCES = 60


def _is_sample(text: Any) -> bool:
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return False
    return isinstance(data, dict) and "n" in data and isinstance(data.get("traces"), list)


def _sample_summary(old: str, new: str) -> list[str]:
    """The summary a sample snapshot mismatch starts with."""
    try:
        from ..snapshots.sample_compare import sample_summary_lines
    except ImportError:
        return ["What changed in the sample: the sample snapshot differs"]
    try:
        return list(sample_summary_lines(old, new))
    except ValueError as e:
        return [f"What changed in the sample: the stored sample cannot be read ({e})"]


def _trace_change(old: str, new: str) -> dict[str, Any]:
    """Summary and changed sentences of two trace snapshot texts."""
    from ..diff import summary_lines
    from ..snapshots.schema import read_snapshot

    before, after = read_snapshot(old), read_snapshot(new)
    if before is None or after is None:
        return {"kind": "trace", "summary": ["What changed: the stored snapshot is not a trace snapshot"],
                "added": [], "removed": [], "new_sentences": None}
    matcher = difflib.SequenceMatcher(a=before.reasoning, b=after.reasoning, autojunk=False)
    added, removed = [], []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op in ("replace", "delete"):
            removed += [[i, before.reasoning[i]] for i in range(a0, a1)]
        if op in ("replace", "insert"):
            added += [[j, after.reasoning[j]] for j in range(b0, b1)]
    return {
        "kind": "trace",
        "summary": list(summary_lines(before, after)),
        "added": added[:MAX_CHANGED_SENTENCES],
        "removed": removed[:MAX_CHANGED_SENTENCES],
        "more": max(0, len(added) + len(removed) - 2 * MAX_CHANGED_SENTENCES),
        "new_sentences": after.reasoning,
    }


def _shown(location: str, root: Path) -> str:
    try:
        return Path(location).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(location)


def snapshot_changes(item: Any) -> list[dict[str, Any]]:
    """Each snapshot of ``item`` that did not match (``"status": "mismatch"``) or that
    ``--snapshot-update`` rewrote (``"updated"``), and each written for the first time
    (``"new"``, without a diff): ``{"snapshot": path from the rootdir, "status",
    "kind": "trace" | "sample", "summary": [line, ...], "added": [[index, sentence],
    ...], "removed": [...], "more": count left out, "new_sentences": [...] | None}``.
    Empty when the test has no ``trace_snapshot``."""
    funcargs = getattr(item, "funcargs", None) or {}
    assertion = funcargs.get("trace_snapshot")
    executions = getattr(assertion, "executions", None)
    if not isinstance(executions, dict):
        return []
    changes = []
    for result in executions.values():
        old, new = getattr(result, "recalled_data", None), getattr(result, "asserted_data", None)
        where = _shown(str(getattr(result, "snapshot_location", "")), item.config.rootpath)
        if getattr(result, "created", False) or (old is None and new is not None):
            changes.append({"snapshot": where, "status": "new", "kind": "sample" if _is_sample(new) else "trace",
                            "summary": [], "added": [], "removed": [], "more": 0, "new_sentences": None})
            continue
        if old is None or new is None or (getattr(result, "success", False) and not getattr(result, "updated", False)):
            continue
        status = "updated" if getattr(result, "updated", False) else "mismatch"
        if _is_sample(old) or _is_sample(new):
            change = {"kind": "sample", "summary": _sample_summary(str(old), str(new)), "added": [], "removed": [],
                      "more": 0, "new_sentences": None}
        else:
            change = _trace_change(str(old), str(new))
        changes.append({"snapshot": where, "status": status, **change})
    return changes


def mark_changed_sentences(traces: list[dict[str, Any]], changes: list[dict[str, Any]]) -> None:
    """Mark, in the report data of ``traces``, the sentences each trace change added
    (``"changed": "added"``) and keep the removed ones beside them
    (``"removed": [[index in the stored reasoning, sentence], ...]``), matching a
    change to the first trace whose sentences are the new snapshot's.  Drops the
    changes' ``new_sentences`` (only needed for the matching)."""
    taken: set[int] = set()
    for change in changes:
        new = change.pop("new_sentences", None)
        if not new:
            continue
        for k, trace in enumerate(traces):
            sentences = trace.get("sentences")
            if k in taken or sentences is None or [s["text"] for s in sentences] != new[: len(sentences)]:
                continue
            taken.add(k)
            for index, _ in change["added"]:
                if index < len(sentences):
                    sentences[index]["changed"] = "added"
            trace["removed"] = change["removed"]
            trace["changed_snapshot"] = change["snapshot"]
            break
