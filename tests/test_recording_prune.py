"""Recordings no test used: reported at the end of a session, deleted with
``--reasoning-prune``, and only where the session proves them unused (whole files run,
every test passed), with and without pytest-xdist.  Recorded against a real local
HTTP server through the real openai client."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer

from wire import completion

TESTS = """
import pytest

def test_a(reasoning_model):
    assert reasoning_model("prompt A", temperature=0.6).answer == "answer A"

def test_b(reasoning_model):
    assert reasoning_model("prompt B", temperature=0.6).answer == "answer B"

@pytest.mark.slow
def test_c(reasoning_model):
    assert reasoning_model("prompt C", temperature=0.6).answer == "answer C"
"""
XDIST = pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])


def _serve(server: HTTPServer) -> None:
    from werkzeug import Response

    def handler(request):
        prompt = request.get_json()["messages"][-1]["content"]
        body = completion({"content": f"answer {prompt.split()[-1][0]}", "reasoning": f"about {prompt}"}, model="m")
        return Response(json.dumps(body), content_type="application/json")

    server.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)


@pytest.fixture
def project(pytester, httpserver, monkeypatch):
    """Three tests recorded into one cassette, then test_a's prompt edited and
    re-recorded with new_episodes: the old "prompt A" recording is stale."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VLLM_API_KEY", "VLLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow\n")
    pytester.makepyfile(test_live=TESTS)
    _serve(httpserver)
    args = ["--reasoning-backend=vllm", "--reasoning-model=m", f"--reasoning-base-url={httpserver.url_for('/v1')}",
            "--reasoning-max-retries=0", "-p", "no:randomly"]
    pytester.runpytest(*args, "--reasoning-record-mode=once").assert_outcomes(passed=3)
    pytester.makepyfile(test_live=TESTS.replace('"prompt A"', '"prompt A2"'))
    return pytester, args


def _entries(pytester):
    return json.loads((pytester.path / "cassettes" / "test_live.json").read_text("utf-8"))["interactions"]


def _prompts(pytester):
    return sorted(e["request"]["messages"][-1]["content"] for e in _entries(pytester))


@XDIST
def test_stale_recordings_are_reported_then_pruned(project, workers):
    pytester, args = project
    result = pytester.runpytest(*args, *workers, "--reasoning-record-mode=new_episodes")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "*- reasoning recordings -*",
        "cassettes/test_live.json: 1 recording(s) used by no test (delete them with --reasoning-prune):",
        "  vllm/m: 'prompt A' (recorded by test_live.py::test_a)",
    ])
    # The session recorded into the cassette and proved who uses what: the stale
    # recording no longer names test_a, the new one does.
    tests = {e["request"]["messages"][-1]["content"]: e.get("tests") for e in _entries(pytester)}
    assert tests == {"prompt A": None, "prompt A2": ["test_live.py::test_a"], "prompt B": ["test_live.py::test_b"],
                     "prompt C": ["test_live.py::test_c"]}

    result = pytester.runpytest(*args, *workers, "--reasoning-prune")  # replay only, then prune
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["cassettes/test_live.json: deleted 1 recording(s) that no test used:",
                                 "  vllm/m: 'prompt A'"])
    assert _prompts(pytester) == ["prompt A2", "prompt B", "prompt C"]
    pruned = (pytester.path / "cassettes" / "test_live.json").read_bytes()
    result = pytester.runpytest(*args, *workers, "--reasoning-prune")
    result.assert_outcomes(passed=3)
    assert "reasoning recordings" not in result.stdout.str()  # nothing unused: nothing said, nothing written
    assert (pytester.path / "cassettes" / "test_live.json").read_bytes() == pruned


def test_a_replay_only_run_reports_but_writes_nothing(project):
    pytester, args = project
    before = (pytester.path / "cassettes" / "test_live.json").read_bytes()
    pytester.makepyfile(test_live=TESTS)  # the prompt as recorded: replays; nothing is stale yet
    pytester.runpytest(*args).assert_outcomes(passed=3)
    pytester.makepyfile(test_live=TESTS.replace("def test_c", "def _no_longer_a_test"))
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*1 recording(s) used by no test*", "  vllm/m: 'prompt C' (recorded by "
                                 "test_live.py::test_c)"])
    assert (pytester.path / "cassettes" / "test_live.json").read_bytes() == before


@pytest.mark.parametrize(
    ("edit", "extra", "reason"),
    [
        (None, ["-k", "test_a or test_b"], "-k or -m selected only some tests"),
        (None, ["-m", "not slow"], "-k or -m selected only some tests"),
        (None, ["--deselect", "test_live.py::test_c"], "some of its tests were deselected"),
        (None, ["test_live.py::test_a", "test_live.py::test_b", "test_live.py::test_c"],
         "its tests were picked by node id"),
        (("answer C", "answer X"), [], "test_live.py::test_c failed, was skipped or did not run"),
        (("def test_b(reasoning_model):", "def test_b(reasoning_model):\n    pytest.skip('later')"), [],
         "test_live.py::test_b failed, was skipped or did not run"),
        (("def test_b(reasoning_model):\n    assert",
          "def test_b(reasoning_model):\n    assert reasoning_model.using(record_mode='off')('prompt B').answer\n"
          "    assert"), [], "a test ran it in record mode off"),
        (("answer B", "answer X"), ["-x"], "test_live.py::test_b failed, was skipped or did not run"),
    ],
    ids=["-k", "-m", "--deselect", "node-ids", "failed", "skipped", "record-mode-off", "stopped-early"],
)
def test_nothing_is_pruned_unless_the_session_proves_it(project, edit, extra, reason):
    pytester, args = project
    source = TESTS.replace('"prompt A"', '"prompt A2"')
    if edit:
        source = source.replace(*edit)
    pytester.makepyfile(test_live=source)
    pytester.runpytest(*args, "--reasoning-record-mode=new_episodes", "-k", "test_a")  # record prompt A2
    before = (pytester.path / "cassettes" / "test_live.json").read_bytes()
    result = pytester.runpytest(*args, *extra, "--reasoning-prune")
    result.stdout.fnmatch_lines([f"cassettes/test_live.json: not pruned, {reason}"])
    assert (pytester.path / "cassettes" / "test_live.json").read_bytes() == before
    assert "used by no test" not in result.stdout.str()


def test_prune_is_a_bare_switch_in_help(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--reasoning-prune*delete the recordings no test used*"])
    result = pytester.runpytest("--reasoning-prune=maybe")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
