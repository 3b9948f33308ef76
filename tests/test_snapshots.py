"""The snapshot serialisation and the "what changed" summary, without a pytest run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_reasoning import Detour, Trace, Usage, assert_answer, check_detours
from pytest_reasoning.diff import stable_view, summarize
from pytest_reasoning.snapshots import serialize_trace, snapshot_path_for


def test_snapshot_path_mirrors_the_test_tree(tmp_path):
    assert snapshot_path_for(tmp_path, tmp_path / "tests" / "api" / "test_x.py", "test_y[a-b]") == (
        tmp_path / "snapshots" / "tests" / "api" / "test_x" / "test_y[a-b].json")
    outside = snapshot_path_for(tmp_path / "root", tmp_path / "elsewhere" / "test_z.py", "test_q")
    assert outside.parent.parent.parent == tmp_path / "root" / "snapshots" / "_external"
    assert outside.parent.parent.name.startswith("elsewhere-") and outside.name == "test_q.json"
    # same-named files in two folders outside the rootdir do not share a snapshot
    other = snapshot_path_for(tmp_path / "root", tmp_path / "b" / "elsewhere" / "test_z.py", "test_q")
    assert other != outside


def test_written_files_get_the_usual_permissions(tmp_path):
    from pytest_reasoning.files import atomic_write_text

    import os

    umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "new.json", "{}")
        assert (tmp_path / "new.json").stat().st_mode & 0o777 == 0o644
        (tmp_path / "kept.json").write_text("{}")
        os.chmod(tmp_path / "kept.json", 0o600)
        atomic_write_text(tmp_path / "kept.json", "[]")
        assert (tmp_path / "kept.json").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(umask)


def test_serialize_trace():
    trace = Trace(reasoning="Dallas is in Texas. Wait, the NFL? Austin.", answer="Austin", latency_s=3.2,
                  usage=Usage(1, 2, 1, 3), extra={"timings": {"x": 1}, "system_fingerprint": "fp", "keep": "sk-" + "a" * 20})
    check_detours(trace, Detour("sports", terms=["NFL"]))
    data = json.loads(serialize_trace(trace))
    assert list(data)[:6] == ["model", "backend", "params", "messages", "reasoning", "answer"]
    assert data["reasoning"] == ["Dallas is in Texas.", "Wait, the NFL?", "Austin."]
    assert data["stats"] == {"reasoning_chars": len(trace.reasoning), "reasoning_sentences": 3, "hesitations": 1}
    assert data["checks"] == {"detours": {"sports": 1}}
    assert "latency_s" not in data and data["extra"] == {"keep": "<redacted>"}


def _snap(**kw):
    trace = Trace(**kw)
    return json.loads(serialize_trace(trace))


def test_summarize_orders_answer_and_detours_first():
    old = _snap(reasoning="Dallas. Texas.", answer="Austin")
    new_trace = Trace(reasoning="Dallas. Cowboys. Texas.", answer="Houston", finish_reason="length", truncated=True)
    check_detours(new_trace, Detour("sports", terms=["Cowboys"]))
    new = json.loads(serialize_trace(new_trace))
    lines = summarize(old, new)
    assert lines[0] == "answer changed: 'Austin' -> 'Houston'"
    assert lines[1] == "detour 'sports' added (1 hits)"
    assert lines[2:4] == ["sentences changed: 1 added, 0 removed (of 2 -> 3)", "  + Cowboys."]  # before the figures
    assert "finish_reason: None -> 'length'" in lines[4:]
    assert "reasoning characters: 14 -> 23 (+9)" in lines[4:]
    assert summarize(old, old) == []


def test_stable_view_ignores_wording_and_hit_counts():
    a = _snap(reasoning="Dallas. NFL.", answer=" Austin ")
    b = _snap(reasoning="Totally different words.", answer="Austin")
    assert stable_view(a) == stable_view(b)
    a["checks"] = {"detours": {"sports": 1}}
    b["checks"] = {"detours": {"sports": 3}}
    assert stable_view(a) == stable_view(b)
    b["checks"] = {"detours": {"sports": 0}}
    assert stable_view(a) != stable_view(b)


def test_example_snapshots_are_valid_serialisations():
    """The committed seed snapshots parse and carry the fields the summary reads: a
    trace's, or a sample's (n, its checks, and n traces of the same fields)."""
    from pytest_reasoning.snapshots.sample_schema import is_sample_data

    root = Path(__file__).resolve().parent.parent / "snapshots" / "example_tests"
    files = sorted(root.rglob("*.json"))
    assert files, root
    samples = 0
    for file in files:
        data = json.loads(file.read_text("utf-8"))
        if is_sample_data(data):
            samples += 1
            assert data["checks"] and len(data["traces"]) == data["n"], file
            continue
        assert {"answer", "reasoning", "stats", "checks"} <= set(data)
        assert data["stats"]["reasoning_sentences"] == len(data["reasoning"])
    assert 0 < samples < len(files)  # the local distributions' samples, and single traces


def test_summary_names_fields_outside_the_reviewed_parts():
    from pytest_reasoning.diff import summary_lines

    old = {"answer": "Austin", "usage": {"prompt_tokens": 10}, "params": {"seed": 1}}
    new = {"answer": "Austin", "usage": {"prompt_tokens": 12}, "params": {"seed": 1}}
    assert summary_lines(old, new) == ["What changed in the trace:", "  - nothing a reviewer reads changed; these fields did: usage"]


def test_committed_snapshots_read_back_to_the_same_bytes():
    """The typed readers lose nothing: every committed snapshot (trace or sample), read
    and written again, is byte for byte the file."""
    from pytest_reasoning.snapshots import TraceSnapshot
    from pytest_reasoning.snapshots.sample_schema import SampleSnapshot, is_sample_data

    root = Path(__file__).resolve().parent.parent / "snapshots"
    files = sorted(root.rglob("*.json"))
    assert files, root
    for file in files:
        text = file.read_text("utf-8")
        if is_sample_data(json.loads(text)):
            assert SampleSnapshot.from_json(text).to_json() == text, file
            continue
        snapshot = TraceSnapshot.from_json(text)
        assert snapshot.to_json() == text, file
        assert snapshot.stats.reasoning_sentences == len(snapshot.reasoning) and snapshot.checks


def test_snapshot_of_a_trace_reads_back_equal():
    from pytest_reasoning.snapshots import TraceSnapshot

    trace = Trace(reasoning="Dallas. NFL. Austin.", answer="Austin", model="m", params={"seed": 1})
    assert_answer(trace, contains="Austin")
    check_detours(trace, Detour("sports", terms=["NFL"]))
    written = TraceSnapshot.from_trace(trace)
    read = TraceSnapshot.from_json(serialize_trace(trace))
    assert read == written and read.checks.get("detour", "sports").hits == 1
    assert read.stable_view() == {"checks": {"answer": {"contains 'Austin'": True}, "detours": {"sports": True}},
                                  "finish_reason": None, "truncated": False}


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '"x"', '{"checks": {"detours": {"sports": true}}}',
                                  '{"reasoning": "one string"}', '{"stats": 3}', None])
def test_what_is_not_a_trace_snapshot_reads_as_none(text):
    from pytest_reasoning.snapshots import StableTraceSnapshotExtension, read_snapshot

    assert read_snapshot(text) is None
    extension = StableTraceSnapshotExtension()  # compares such data exactly
    assert extension.matches(serialized_data=text, snapshot_data=text)
    assert not extension.matches(serialized_data=text, snapshot_data=serialize_trace(Trace()))


def test_a_partial_snapshot_keeps_its_keys_and_unknown_ones():
    from pytest_reasoning.snapshots import TraceSnapshot

    data = {"answer": "Austin", "usage": {"prompt_tokens": 10}, "note": "hand-written"}
    snapshot = TraceSnapshot.from_dict(data)
    assert snapshot.to_dict() == data and snapshot.answer == "Austin" and snapshot.other == {"note": "hand-written"}
