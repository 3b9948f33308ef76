"""What each test report carries for the report formats, end to end through
``pytester``: a parametrized replay (plain vs precise prompt) whose precise trace
changed since its snapshot, and a test drawing two samples.  Also ``--junitxml``
properties, serial and under ``-n 2``.

``make_project`` builds the project; the Markdown and HTML report tests use it too.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from pytest_reasoning.backends import RawResponse, Request
from pytest_reasoning.recording import Cassette
from pytest_reasoning.report import REPORT_KEY
from wire import completion

# Imported once here: pytester's in-process runs drop the modules first imported inside
# them, and numpy (under scipy, for the rates) refuses a second import in one process.
import openai  # noqa: E402,F401
import scipy.stats  # noqa: E402,F401

PLAIN = "What is the capital of the state that contains Dallas?"
PRECISE = "What is the capital of the state that contains Dallas, a big city of about 1.3 million people?"
CALM = "Dallas is in Texas. The capital of Texas is Austin."
DETOUR = "Dallas is in Texas. The Dallas Cowboys play in the NFL. Wait, that does not matter. The capital of Texas is Austin."

TEST_FILE = f'''
import pytest
from pytest_reasoning import Detour, assert_answer, assert_no_detour, assert_reasoning_path, check_detours

SPORTS = Detour("sports", terms=["NFL", "Cowboys"])
PLAIN = {PLAIN!r}
PRECISE = {PRECISE!r}
DEEPSEEK = pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")


@DEEPSEEK
@pytest.mark.parametrize("prompt", [PLAIN, PRECISE], ids=["plain", "precise"])
def test_capital(reasoning_model, trace_snapshot, prompt):
    trace = reasoning_model(prompt, thinking=True)
    assert_answer(trace, contains="Austin")
    assert_reasoning_path(trace, ["Dallas", "Texas", "Austin"])
    check_detours(trace, SPORTS)
    assert trace == trace_snapshot


@DEEPSEEK
def test_rates(reasoning_model):
    plain = reasoning_model.sample(PLAIN, 6, thinking=True)
    precise = reasoning_model.sample(PRECISE, 6, thinking=True)
    assert_no_detour(plain, SPORTS, max_rate=0.5)
    assert_answer(precise, contains="Austin", min_rate=0.5)
'''


def _body(reasoning: str) -> dict:
    return completion({"content": "Austin", "reasoning_content": reasoning},
                      usage={"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42})


def record(root: Path, precise_reasoning: str) -> None:
    """(Re)write the cassette: each prompt once, and six samples of each."""
    path = root / "cassettes" / "test_capital.json"
    if path.exists():
        path.unlink()
    cassette = Cassette(path)
    for prompt, reasoning in ((PLAIN, CALM), (PRECISE, precise_reasoning)):
        messages = ({"role": "user", "content": prompt},)
        for sample in (None, *range(6)):
            request = Request("deepseek", "deepseek-reasoner", messages, {"thinking": True}, {}, sample)
            cassette.record(request, RawResponse("openai.chat.completion", _body(reasoning)))
    cassette.save()


def make_project(pytester) -> Path:
    """A project whose precise trace took the sports detour since its snapshot was
    taken: ``test_capital[precise]`` fails on its snapshot, everything else passes."""
    pytester.makepyfile(test_capital=TEST_FILE)
    record(pytester.path, CALM)
    assert pytester.runpytest("--snapshot-update", "-p", "no:randomly").ret == 0
    record(pytester.path, DETOUR)
    return pytester.path


def _data(reports, nodeid_part: str) -> dict:
    found = [r for r in reports if r.when == "call" and nodeid_part in r.nodeid]
    assert len(found) == 1, [r.nodeid for r in reports]
    return found[0].__dict__[REPORT_KEY]


def test_report_carries_marked_sentences_the_snapshot_change_and_the_calls(pytester):
    make_project(pytester)
    run = pytester.inline_run("-p", "no:randomly")
    run.assertoutcome(passed=2, failed=1)
    reports = run.getreports("pytest_runtest_logreport")
    data = _data(reports, "precise")
    json.dumps(data)  # plain JSON: it crosses pytest-xdist as it is

    assert data["params"] == {"prompt": "precise"} and data["function"] == "test_capital"
    assert data["calls"] == {"live": 0, "replayed": 1, "recorded": 0, "seconds": 0.0, "tokens": 42}
    (trace,) = data["traces"]
    assert trace["answer"] == "Austin" and trace["checks"]["detours"] == {"sports": 2}
    sentences = trace["sentences"]
    assert [s["text"] for s in sentences] == [
        "Dallas is in Texas.", "The Dallas Cowboys play in the NFL.", "Wait, that does not matter.",
        "The capital of Texas is Austin."]
    marks = {(s["text"][a:b], kind) for s in sentences for a, b, kind, _ in s["marks"]}
    assert marks == {("Dallas", "path"), ("Texas", "path"), ("Austin", "path"), ("Cowboys", "detour"),
                     ("NFL", "detour"), ("Wait", "hesitation")}
    assert [s.get("changed") for s in sentences] == [None, "added", "added", None]

    (change,) = data["snapshot_changes"]
    assert change["status"] == "mismatch" and change["kind"] == "trace"
    assert change["snapshot"] == "snapshots/test_capital/test_capital[precise].json"
    assert "  - detour 'sports' added (2 hits)" in change["summary"]
    assert [s for _, s in change["added"]] == ["The Dallas Cowboys play in the NFL.", "Wait, that does not matter."]
    assert change["removed"] == []

    plain = _data(reports, "plain")
    assert "snapshot_changes" not in plain and plain["traces"][0]["checks"]["detours"] == {"sports": 0}

    rates = _data(reports, "test_rates")
    assert rates["traces"] == [] and [s["n"] for s in rates["samples"]] == [6, 6]
    first, second = rates["samples"]
    assert first["detour_rates"]["sports"]["count"] == 0 and second["detour_rates"]["sports"]["count"] == 6
    assert first["verdicts"][0]["kind"] == "detour" and first["verdicts"][0]["interval"]["low"] == 0
    assert len(first["examples"]) == 1 and first["examples"][0]["sentences"]
    assert rates["calls"]["replayed"] == 12


def _properties(xml: Path) -> dict[str, dict[str, str]]:
    root = ET.parse(xml).getroot()
    return {case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
            for case in root.iter("testcase")}


def _check_junit(props: dict[str, dict[str, str]]) -> None:
    precise = props["test_capital[precise]"]
    assert precise["reasoning.answer"] == "Austin"
    assert precise["reasoning.detour.sports"] == "2"
    assert precise["reasoning.path"] == "Dallas -> Texas -> Austin: pass"
    assert precise["reasoning.reasoning_tokens"] == "unknown"  # the body reported none: not estimated
    assert precise["reasoning.snapshot"] == "snapshots/test_capital/test_capital[precise].json"
    assert precise["reasoning.snapshot_changed"] == "snapshots/test_capital/test_capital[precise].json (mismatch)"
    assert props["test_capital[plain]"]["reasoning.detour.sports"] == "0"
    rates = props["test_rates"]
    assert rates["reasoning.sample1.rate.detour sports"].startswith("0.0% [0.0%, ")
    assert rates["reasoning.sample1.rate.detour sports"].endswith("n=6 pass")
    assert rates["reasoning.sample2.rate.answer contains 'Austin'"].startswith("100.0% [")


def test_junit_properties(pytester):
    make_project(pytester)
    result = pytester.runpytest("-p", "no:randomly", "--junitxml=out.xml")
    result.assert_outcomes(passed=2, failed=1)
    _check_junit(_properties(pytester.path / "out.xml"))


def test_junit_properties_under_xdist(pytester, monkeypatch):
    make_project(pytester)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # only what the run needs: workers start fast
    plugins = ["-p", "xdist.plugin", "-p", "syrupy", "-p", "pytest_reasoning.plugin"]
    result = pytester.runpytest_subprocess(*plugins, "-n", "2", "--junitxml=out.xml")
    result.assert_outcomes(passed=2, failed=1)
    _check_junit(_properties(pytester.path / "out.xml"))
