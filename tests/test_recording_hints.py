"""What the failure lines tell a user to do, and that doing it works: the hint to
record a test that takes a trace snapshot updates the snapshot too; a mistyped adapter
names the call or setting that gave it; a model written as an absolute path reads
apart from the backend's name.  Against a real local HTTP server."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from wire import completion

SNAPSHOT_TEST = """
import pytest

@pytest.mark.reasoning(backend="vllm", model="m")
def test_snap(reasoning_model, trace_snapshot):
    assert reasoning_model("{prompt}").answer == "Austin"
    assert reasoning_model("{prompt}") == trace_snapshot
"""


@pytest.fixture
def served(httpserver, monkeypatch):
    from werkzeug import Response

    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VLLM_API_KEY", "VLLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VLLM_BASE_URL", httpserver.url_for("/v1"))

    def handler(request):
        prompt = request.get_json()["messages"][-1]["content"]
        body = completion({"content": "Austin", "reasoning_content": f"Thinking about {prompt}."}, model="m")
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)
    return httpserver


def _hint(result) -> list[str]:
    """The command a failure line says to run, as arguments."""
    found = re.search(r"record it with: pytest (.+)$", result.stdout.str(), re.M)
    assert found, result.stdout.str()
    return shlex.split(found.group(1))


@pytest.mark.parametrize("first", ["once", "new_episodes"])
def test_following_the_hint_of_a_snapshot_test_passes(pytester, served, first):
    pytester.makepyfile(test_h=SNAPSHOT_TEST.format(prompt="Which state contains Dallas?"))
    if first == "new_episodes":  # recorded and snapshotted, then the prompt is edited
        pytester.runpytest("--reasoning-record-mode=once", "--snapshot-update").assert_outcomes(passed=1)
        pytester.makepyfile(test_h=SNAPSHOT_TEST.format(prompt="Which US state contains Dallas?"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    hint = _hint(result)
    assert hint == ["test_h.py::test_snap", f"--reasoning-record-mode={first}", "--snapshot-update"]
    pytester.runpytest(*hint).assert_outcomes(passed=1)  # what the line said: passes at once
    pytester.runpytest().assert_outcomes(passed=1)  # and replays


def test_a_test_without_snapshot_is_not_told_to_update_snapshots(pytester, served):
    pytester.makepyfile(test_h=SNAPSHOT_TEST.format(prompt="q").replace(", trace_snapshot", "").replace(
        '    assert reasoning_model("q") == trace_snapshot\n', ""))
    result = pytester.runpytest()
    assert _hint(result) == ["test_h.py::test_snap", "--reasoning-record-mode=once"]


ADAPTER_TESTS = """
import pytest

@pytest.mark.reasoning(backend="transformers", model="m", record_mode="off")
def test_using(reasoning_model):
    reasoning_model.using(adapter="models/no-such-adapter")

@pytest.mark.reasoning(backend="transformers", model="m", adapter="models/no-such-adapter")
def test_marker(reasoning_model):
    pass
"""


def test_a_mistyped_adapter_names_where_it_was_given(pytester):
    pytester.makepyfile(test_a=ADAPTER_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines_random([
        "*test_a.py::test_using: LoRA adapter 'models/no-such-adapter' not found or holds no "
        "adapter_model.safetensors; check reasoning_model.using(adapter=...)",
        "*test_a.py::test_marker: LoRA adapter 'models/no-such-adapter' not found or holds no "
        "adapter_model.safetensors; check @pytest.mark.reasoning(adapter=...)",
    ])
    assert "--reasoning-adapter" not in result.stdout.str()
    result = pytester.runpytest("-k", "marker", "--reasoning-adapter=models/other")
    result.stdout.fnmatch_lines(["*LoRA adapter 'models/other' not found*; check --reasoning-adapter"])
    pytester.makeini("[pytest]\nreasoning_adapter = models/from-ini\n")
    result = pytester.runpytest("-k", "marker")  # the marker still wins over the ini key
    result.stdout.fnmatch_lines(["*check @pytest.mark.reasoning(adapter=...)"])
    pytester.makepyfile(test_a=ADAPTER_TESTS.replace(', adapter="models/no-such-adapter")', ")"))
    result = pytester.runpytest("-k", "marker")
    result.stdout.fnmatch_lines(["*LoRA adapter 'models/from-ini' not found*; check reasoning_adapter in the ini file"])


def test_a_model_written_as_an_absolute_path_reads_apart_from_the_backend(pytester, tmp_path):
    model = tmp_path / "no-model-here"
    pytester.makepyfile(test_p=f"""
        import pytest

        @pytest.mark.reasoning(backend="transformers", model={str(model)!r})
        def test_x(reasoning_model):
            reasoning_model("q")
        """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"no recording for this transformers ({model}) request in cassettes/test_p.json;*"])
    assert "transformers//" not in result.stdout.str()
