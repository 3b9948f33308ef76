"""Distribution snapshots: ``assert sample == trace_snapshot`` for a TraceSample.

Plugin runs through ``pytester``: the inner test builds a real TraceSample from
hand-written traces, records verdicts with the real assertions and compares it with
the real ``trace_snapshot`` fixture (syrupy).  Unit tests check the stored format and
the p-values against scipy.
"""

from __future__ import annotations

import json
import types

import pytest
import scipy.stats  # imported here, not first inside an in-process pytester run

from pytest_reasoning import Trace, TraceSample, assert_answer, assert_no_detour
from pytest_reasoning.diff import diff_samples
from pytest_reasoning.snapshots import (
    SampleSnapshot,
    TraceSnapshotExtension,
    compare_sample_snapshots,
    extension_for,
    read_sample_snapshot,
    serialize_sample,
    serialize_trace,
)
from pytest_reasoning.snapshots.sample_compare import compare_sample_texts
from pytest_reasoning.stats import newcombe, Rate

#: Builds n traces of the Dallas question from data: ``taken`` of them take the sports
#: detour (which ones, and the wording, follow ``seed``), ``wording`` picks one of two
#: phrasings of each sentence, of about the same length.
SAMPLE_DATA = '''
import random

from pytest_reasoning import Detour, Trace, Usage

SPORTS = Detour("sports", terms=["NFL", "Cowboys"])
WORDINGS = [
    {"city": ["Dallas is a large city in Texas.", "Dallas is a big city in Texas."],
     "sport": ["Dallas is home to the Cowboys.", "The Cowboys of the NFL play here."],
     "wait": ["Wait, let me check that.", "Wait, let me verify it."],
     "end": ["The capital of Texas is Austin.", "Austin is the capital of Texas."]},
    {"city": ["Dallas is a major city of Texas.", "Dallas is a main city of Texas."],
     "sport": ["Dallas is where Cowboys play.", "The NFL Cowboys are based there."],
     "wait": ["Wait, let me check this.", "Wait, let me verify that."],
     "end": ["Texas has Austin as its capital.", "Austin is the seat of Texas."]},
]


def traces(n, taken, seed, wording=0):
    rng = random.Random(seed)
    words, detoured = WORDINGS[wording], set(rng.sample(range(n), taken))
    out = []
    for i in range(n):
        sentences = [rng.choice(words["city"])]
        if i in detoured:
            sentences.append(rng.choice(words["sport"]))
        if rng.random() < 0.25:
            sentences.append(rng.choice(words["wait"]))
        sentences.append(rng.choice(words["end"]))
        reasoning = " ".join(sentences)
        out.append(Trace(
            messages=[{"role": "user", "content": "What is the capital of the state that contains Dallas?"}],
            reasoning=reasoning, answer="Austin", model="qwen3", params={"seed": 1000 * seed + i},
            usage=Usage(20, len(reasoning.split()) + 3, len(reasoning.split()), len(reasoning.split()) + 23),
            finish_reason="stop", reasoning_source="reasoning_content"))
    return out
'''
sample_data = types.ModuleType("sample_data")
exec(SAMPLE_DATA, sample_data.__dict__)

TEST_FILE = '''
import os

from pytest_reasoning import TraceSample, assert_answer, assert_no_detour, assert_reasoning_path
from sample_data import SPORTS, traces


def test_capital(trace_snapshot):
    taken, seed, wording = (int(x) for x in os.environ["SAMPLE"].split(","))
    sample = TraceSample(traces(64, taken, seed, wording))
    assert_answer(sample, contains="Austin", min_rate=0.9)
    assert_no_detour(sample, SPORTS, max_rate=0.7)
    if os.environ.get("CHECK_PATH"):
        assert_reasoning_path(sample, ["Dallas", "Austin"], min_rate=0.5)
    assert sample == trace_snapshot
'''


def recorded(taken: int, seed: int, wording: int = 0, n: int = 64) -> TraceSample:
    """A sample with the verdicts the inner test records."""
    sample = TraceSample(sample_data.traces(n, taken, seed, wording))
    assert_answer(sample, contains="Austin", min_rate=0.9)
    assert_no_detour(sample, sample_data.SPORTS, max_rate=0.7)
    return sample


@pytest.fixture
def project(pytester, monkeypatch):
    pytester.makepyfile(sample_data=SAMPLE_DATA, test_capital=TEST_FILE)
    pytester.syspathinsert()
    monkeypatch.delenv("CHECK_PATH", raising=False)
    return pytester


def run(project, monkeypatch, sample: str, *args: str, check_path: bool = False):
    monkeypatch.setenv("SAMPLE", sample)
    if check_path:
        monkeypatch.setenv("CHECK_PATH", "1")
    else:
        monkeypatch.delenv("CHECK_PATH", raising=False)
    return project.runpytest("-p", "no:randomly", "-p", "no:cacheprovider", *args)


def stored(project) -> bytes:
    return (project.path / "snapshots" / "test_capital" / "test_capital.json").read_bytes()


def after(lines: list[str], start: str) -> list[str]:
    """The lines following the first one that contains ``start``."""
    index = next(i for i, line in enumerate(lines) if start in line)
    return lines[index + 1:]


# -- plugin runs -------------------------------------------------------------------


def test_update_writes_the_sample_and_a_rerun_passes(project, monkeypatch):
    run(project, monkeypatch, "3,1,0", "--snapshot-update").assert_outcomes(passed=1)
    data = json.loads(stored(project))
    assert list(data) == ["n", "checks", "measures", "structure", "traces"] and data["n"] == 64
    assert list(data["checks"]) == ["answer", "detours"]
    sports = data["checks"]["detours"]["sports"]
    assert (sports["count"], sports["n"], sports["passed"], sports["max_rate"]) == (3, 64, True, 0.7)
    assert set(sports["interval"]) == {"low", "high", "confidence", "method"}
    assert list(data["measures"]) == ["reasoning tokens", "reasoning characters", "hesitations",
                                      "reasoning sentences"]
    assert set(data["measures"]["hesitations"]) == {"n", "mean", "median", "p90", "note"}
    assert data["structure"] == {"valid": 64, "empty reasoning": 0, "missing answer": 0, "truncated": 0}
    first = data["traces"][0]
    assert len(first["reasoning"]) >= 2 and first["checks"]["answer"] == {"contains 'Austin'": True}
    # the reasoning is one sentence per line, so a pull request's diff shows the text
    assert '\n        "Dallas is a' in stored(project).decode()
    before = stored(project)
    run(project, monkeypatch, "3,1,0").assert_outcomes(passed=1)
    assert stored(project) == before


def test_the_file_is_byte_identical_across_two_writes(project, monkeypatch):
    run(project, monkeypatch, "3,1,0", "--snapshot-update").assert_outcomes(passed=1)
    first = stored(project)
    (project.path / "snapshots" / "test_capital" / "test_capital.json").unlink()
    run(project, monkeypatch, "3,1,0", "--snapshot-update").assert_outcomes(passed=1)
    assert stored(project) == first
    assert first.decode() == serialize_sample(recorded(3, 1))


def test_noise_is_not_a_diff_and_is_kept_until_update(project, monkeypatch):
    run(project, monkeypatch, "3,1,0", "--snapshot-update").assert_outcomes(passed=1)
    before = stored(project)
    # another seed and another wording: other traces take the detour, in other words
    result = run(project, monkeypatch, "3,2,1")
    result.assert_outcomes(passed=1)
    assert stored(project) == before
    run(project, monkeypatch, "3,2,1", "--snapshot-update").assert_outcomes(passed=1)
    assert stored(project) != before and stored(project).decode() == serialize_sample(recorded(3, 2, 1))
    run(project, monkeypatch, "3,1,0").assert_outcomes(passed=1)


@pytest.mark.parametrize("mode", ["exact", "stable"])
def test_a_detour_rate_that_moves_fails_with_the_effect_first(project, monkeypatch, mode):
    mode_option = f"--reasoning-snapshot-mode={mode}"
    run(project, monkeypatch, "3,1,0", "--snapshot-update", mode_option).assert_outcomes(passed=1)
    before = stored(project)
    result = run(project, monkeypatch, "38,3,0", mode_option, "-vv")
    result.assert_outcomes(failed=1)
    lines = result.stdout.lines
    header = next(line for line in lines if "What changed in the sample" in line)
    assert header.endswith("What changed in the sample (64 -> 64 traces; Holm-corrected, alpha 0.05):")
    first = after(lines, "What changed in the sample")[0]
    comparison = compare_sample_texts(before.decode(), serialize_sample(recorded(38, 3)))
    sports = comparison.comparisons["sports rate"]
    assert first.strip().lstrip("E").strip() == f"- {comparison.line('sports rate')}"
    assert f"sports rate 3/64 -> 38/64: +55 pp (95% CI {round(100 * sports.interval.low):+d} to " in first
    assert "Fisher p = 9.5e-12 (Holm-adjusted p = 5.7e-11)" in first
    assert any(line.endswith("(two-sided Fisher's exact test for rates, Mann-Whitney U for measures; "
                             "Holm's correction across 6 comparisons at alpha 0.05)") for line in lines)
    # then the text diff of the files
    assert any('"count": 38' in line for line in after(lines, "not significant:"))
    assert stored(project) == before


def test_a_changed_set_of_checks_fails(project, monkeypatch):
    run(project, monkeypatch, "3,1,0", "--snapshot-update").assert_outcomes(passed=1)
    result = run(project, monkeypatch, "3,1,0", check_path=True)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*What changed in the sample*",
                                 "*  - check added: path 'Dallas -> Austin' (not in the stored sample)"])
    run(project, monkeypatch, "3,1,0", "--snapshot-update", check_path=True).assert_outcomes(passed=1)
    result = run(project, monkeypatch, "3,1,0")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*  - check removed: path 'Dallas -> Austin' (not in the new sample)"])


def test_other_data_is_still_a_one_line_error(pytester):
    pytester.makepyfile(test_other="def test_x(trace_snapshot):\n    assert {'a': 1} == trace_snapshot\n")
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*trace_snapshot compares pytest_reasoning.Trace objects, not dict; "
                                 "use syrupy's snapshot fixture for other data*"])
    assert "Traceback" not in result.stdout.str()


# -- the format and the statistics ---------------------------------------------------


def test_the_format_reads_back_byte_for_byte():
    text = serialize_sample(recorded(3, 1))
    snapshot = read_sample_snapshot(text)
    assert snapshot is not None and snapshot.to_json() == text and snapshot.n == 64
    assert [(v.kind, v.label, v.count, v.n) for v in snapshot.checks] == [
        ("answer", "contains 'Austin'", 64, 64), ("detour", "sports", 3, 64)]
    sample = recorded(3, 1)
    for measure in ("reasoning characters", "hesitations", "reasoning sentences", "reasoning tokens"):
        assert snapshot.values(measure) == sample.values(measure)
    assert read_sample_snapshot(serialize_trace(Trace(reasoning="Dallas."))) is None
    assert read_sample_snapshot("not json") is None


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(n=3), "sample snapshot 'n' is 3 but it holds 64 traces"),
    (lambda d: d["checks"]["detours"]["sports"].update(count=65), "checks.detours.sports has count 65 > n 64"),
    (lambda d: d["checks"].update(moods={}), "unknown checks group 'moods'"),
    (lambda d: d.update(traces="all"), "'traces' must be a list of trace snapshot objects"),
])
def test_a_broken_sample_snapshot_says_where(edit, message):
    data = json.loads(serialize_sample(recorded(3, 1)))
    edit(data)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_sample_snapshot(json.dumps(data))
    extension = TraceSnapshotExtension()
    assert not extension.matches(serialized_data=serialize_sample(recorded(3, 1)), snapshot_data=json.dumps(data))


def test_p_values_and_intervals_agree_with_scipy():
    old, new = recorded(3, 1), recorded(38, 3)
    result = compare_sample_snapshots(SampleSnapshot.from_sample(old), SampleSnapshot.from_sample(new))
    assert result.alpha == 0.05 and not result.matches and result.significant[0] == "sports rate"
    sports = result.comparisons["sports rate"]
    assert sports.p_value == scipy.stats.fisher_exact([[38, 3], [26, 61]], alternative="two-sided").pvalue
    assert sports.difference == pytest.approx(35 / 64)
    assert sports.interval == newcombe(Rate(3, 64), Rate(38, 64), 0.95)
    for name in ("reasoning characters", "reasoning tokens", "hesitations", "reasoning sentences"):
        expected = scipy.stats.mannwhitneyu(new.values(name), old.values(name), alternative="two-sided").pvalue
        assert result.comparisons[name].p_value == pytest.approx(expected, rel=1e-12)
    raw = [c.p_value for c in result.comparisons.values()]
    m, order = len(raw), sorted(range(len(raw)), key=raw.__getitem__)
    holm, running = {}, 0.0
    for rank, i in enumerate(order):  # Holm 1979, step-down
        running = max(running, min(1.0, (m - rank) * raw[i]))
        holm[list(result.comparisons)[i]] = running
    assert result.adjusted == pytest.approx(holm)
    assert f"Fisher p = {sports.p_value:.2g} (Holm-adjusted p = {holm['sports rate']:.2g})" in result.line(
        "sports rate")


def test_equal_text_matches_without_running_a_test():
    text = serialize_sample(recorded(3, 1))
    compare_sample_texts.cache_clear()
    for extension in (extension_for("exact"), extension_for("stable"), extension_for("exact", update=True)):
        assert extension().matches(serialized_data=text, snapshot_data=text)
    assert compare_sample_texts.cache_info().misses == 0


def test_update_mode_rewrites_a_sample_that_matches():
    old, noise = serialize_sample(recorded(3, 1)), serialize_sample(recorded(3, 2, 1))
    assert extension_for("exact")().matches(serialized_data=noise, snapshot_data=old)
    assert extension_for("stable")().matches(serialized_data=noise, snapshot_data=old)
    assert not extension_for("exact", update=True)().matches(serialized_data=noise, snapshot_data=old)
    assert not extension_for("stable", update=True)().matches(serialized_data=noise, snapshot_data=old)


def test_a_trace_stored_where_a_sample_now_is():
    trace, sample = serialize_trace(Trace(reasoning="Dallas.", answer="Austin")), serialize_sample(recorded(3, 1))
    extension = TraceSnapshotExtension()
    assert not extension.matches(serialized_data=sample, snapshot_data=trace)
    first = next(iter(extension.diff_lines(sample, trace)))
    assert first.startswith("What changed: the stored snapshot holds a single trace, the test now gives a sample")
    assert not any("What changed" in line for line in extension.diff_lines(sample, ""))  # nothing stored yet


def test_diff_samples_shows_the_effect_then_the_text():
    text = diff_samples(recorded(3, 1), recorded(38, 3))
    lines = text.splitlines()
    assert lines[0].startswith("What changed in the sample (64 -> 64 traces;")
    assert lines[1].startswith("  - sports rate 3/64 -> 38/64: +55 pp")
    assert "--- old" in lines and any(line.startswith("+") and "Cowboys" in line for line in lines)
    with pytest.raises(TypeError, match="compares two TraceSamples"):
        diff_samples(Trace(), recorded(3, 1))
