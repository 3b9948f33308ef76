"""Edges a new user runs into: mistyped call parameters, bad local-model options,
marker mistakes under pytest-xdist, an xfail that must not hide a missing recording,
and a snapshot diff that names a changed prompt."""

import json

import pytest

from pytest_reasoning import Trace
from pytest_reasoning.diff import summarize
from pytest_reasoning.snapshots import serialize_trace
from test_plugin import deepseek_body, write_cassette

PROMPT = "ダラスを含む州の州都は？"


@pytest.fixture
def project(pytester, monkeypatch):
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    write_cassette(pytester.path / "cassettes" / "test_edges.json", [(PROMPT, {}, deepseek_body())])
    return pytester


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("temprature=0.5", "unknown parameter 'temprature' for reasoning_model(); valid: temperature, top_p"),
        ("temperature='hot'", "parameter temperature='hot' for reasoning_model() must be int or float"),
        ("thinking=1", "parameter thinking=1 for reasoning_model() must be bool"),
        ("max_tokens=True", "parameter max_tokens=True for reasoning_model() must be int"),
    ],
)
def test_mistyped_call_parameter_is_one_line(project, call, message):
    project.makepyfile(test_edges=f"""
        import pytest
        @pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")
        def test_call(reasoning_model):
            reasoning_model({PROMPT!r}, {call})
    """)
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{message}*"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--reasoning-device=tpu", "invalid --reasoning-device 'tpu'; valid: cpu, cuda, cuda:N, mps"),
        ("--reasoning-timeout=nan", "invalid --reasoning-timeout 'nan': must be > 0"),
        ("--reasoning-timeout=inf", "invalid --reasoning-timeout 'inf': must be > 0"),
    ],
)
def test_bad_local_and_timeout_options_are_usage_errors(pytester, option, message):
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_marker_typo_under_xdist_is_an_error_of_that_test(project):
    pytest.importorskip("xdist")
    project.makepyfile(test_edges="""
        import pytest
        @pytest.mark.reasoning(backnd="deepseek")
        def test_typo(reasoning_model):
            pass
        def test_other():
            pass
    """)
    result = project.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    out = result.stdout.str()
    assert "INTERNALERROR" not in out
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*unknown @pytest.mark.reasoning argument 'backnd'; valid: backend*"])


def test_strict_xfail_does_not_hide_a_missing_recording(project):
    project.makepyfile(test_edges="""
        import pytest
        @pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")
        @pytest.mark.xfail(reason="the detour is expected", strict=True)
        def test_goal(reasoning_model):
            trace = reasoning_model("a prompt nobody recorded")
            assert "NFL" not in trace.reasoning
        @pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")
        @pytest.mark.xfail(reason="a real expected failure", strict=True)
        def test_expected(reasoning_model):
            assert reasoning_model(%r).answer == "Houston"
    """ % PROMPT)
    result = project.runpytest("-rfx")
    result.assert_outcomes(failed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*no recording for this deepseek/deepseek-reasoner request*failed before the test*"])


def test_snapshot_summary_names_a_changed_prompt():
    old = Trace(messages=[{"role": "user", "content": "What is the capital?"}], reasoning="Texas.", answer="Austin")
    new = Trace(messages=[{"role": "user", "content": "What is the capital city?"}], reasoning="Texas.", answer="Austin")
    lines = summarize(json.loads(serialize_trace(old)), json.loads(serialize_trace(new)))
    assert lines[0].startswith("prompt changed: messages.0.content: 'What is the capital?' -> 'What is the capital city?'")


def test_openai_key_is_never_sent_to_another_provider(pytester, monkeypatch):
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-only-0123456789abcdef")
    pytester.makepyfile(test_edges="""
        import pytest
        @pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner", record_mode="all")
        def test_call(reasoning_model):
            reasoning_model("hi")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no API key for the deepseek backend: set $DEEPSEEK_API_KEY*"])


def test_batch_of_a_single_string_is_refused(project):
    project.makepyfile(test_edges=f"""
        import pytest
        @pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")
        @pytest.mark.xfail(strict=True)
        def test_call(reasoning_model):
            reasoning_model.batch({PROMPT!r})
    """)
    result = project.runpytest()
    result.assert_outcomes(failed=1)  # not swallowed by the xfail either
    result.stdout.fnmatch_lines(["*reasoning_model.batch() takes a list of prompts*"])


def test_gathering_runs_only_the_selected_tests_requests_and_loads_one_model(pytester, httpserver, monkeypatch):
    """Re-recording with -k: the session gathers the requests of the selected tests
    only (cassette entries name the tests that made them), and a test with another
    snapshot mode shares the same live backend."""
    from wire import completion

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    seen = []

    def answer(request):
        from werkzeug import Response
        body = request.get_json()
        seen.append(body["messages"][0]["content"])
        return Response(json.dumps(completion({"content": "Austin", "reasoning_content": "Texas."})),
                        content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(answer)
    pytester.makepyfile(test_edges="""
        import pytest
        from pytest_reasoning.session import STATE
        @pytest.mark.parametrize("i", range(4))
        def test_q(reasoning_model, i):
            assert reasoning_model(f"q{i}").answer == "Austin"
        @pytest.mark.reasoning(snapshot_mode="stable")
        def test_other_mode(reasoning_model, request):
            assert reasoning_model("q0").answer == "Austin"
            assert len(request.config.stash[STATE].backends) == 1
    """)
    args = ["--reasoning-backend=vllm", "--reasoning-model=m", f"--reasoning-base-url={httpserver.url_for('/v1')}",
            "-p", "no:randomly"]  # test_q[0] runs before test_other_mode, which replays its recording
    pytester.runpytest(*args, "--reasoning-record-mode=once").assert_outcomes(passed=5)
    entries = json.loads((pytester.path / "cassettes" / "test_edges.json").read_text())["interactions"]
    q0 = next(e for e in entries if e["request"]["messages"][0]["content"] == "q0")
    assert q0["tests"] == ["test_edges.py::test_q[0]"]  # the test that recorded it (the other replayed it)
    seen.clear()
    pytester.runpytest(*args, "--reasoning-record-mode=all", "-k", "test_q and (0 or 1)").assert_outcomes(passed=2)
    assert sorted(seen) == ["q0", "q1"]  # q2, q3 belong to deselected tests: not called


def test_blank_hesitation_markers_count_nothing():
    from pytest_reasoning.text.detours import count_hesitations

    assert count_hesitations("wait, wait.", [""]) == 0
    assert count_hesitations("wait, wait.", ["wait", " "]) == 2


def test_detour_pattern_is_checked_in_the_form_that_runs():
    from pytest_reasoning import Detour

    with pytest.raises(ValueError, match="does not compile"):
        Detour("x", patterns=["[b-ａ]"])  # valid as written, invalid once NFKC-normalised


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("reasoning_model(42)", "the prompt is a string or a list of chat messages like {'role': 'user', "
                                "'content': '...'}, not int"),
        ("reasoning_model.using(adaptor='x')", "test_edges.py::test_call: unknown reasoning_model.using argument "
                                               "'adaptor'; valid: backend, model"),
        ("reasoning_model.using(api_key='k')", "reasoning_model.using() takes no api_key"),
        ("assert {'a': 1} == trace_snapshot", "trace_snapshot compares pytest_reasoning.Trace objects, not dict; "
                                              "use syrupy's snapshot fixture for other data"),
    ],
)
def test_misuse_in_a_test_body_is_one_line(project, body, message):
    project.makepyfile(test_edges=f"""
        import pytest
        @pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")
        def test_call(reasoning_model, trace_snapshot):
            {body}
    """)
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{message}*"])
    assert "Traceback" not in result.stdout.str() and "fixtures.py" not in result.stdout.str()


def test_cassette_path_that_is_a_folder_fails_its_tests_not_the_run(project):
    (project.path / "cassettes" / "test_edges.json").unlink()
    (project.path / "cassettes" / "test_edges.json").mkdir()
    project.makepyfile(test_edges=f"""
        import pytest
        @pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")
        def test_call(reasoning_model):
            reasoning_model({PROMPT!r})
        def test_other():
            pass
    """)
    result = project.runpytest()
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*cassette cassettes/test_edges.json is a folder, not a file; move it away*"])
    assert "INTERNALERROR" not in result.stdout.str()


def test_cassette_dir_that_is_a_file_fails_before_any_call(project, httpserver):
    (project.path / "afile").write_text("x")
    project.makepyfile(test_edges=f"""
        def test_call(reasoning_model):
            reasoning_model({PROMPT!r})
    """)
    result = project.runpytest("--reasoning-backend=vllm", "--reasoning-model=m", "--reasoning-cassette-dir=afile",
                               f"--reasoning-base-url={httpserver.url_for('/v1')}", "--reasoning-record-mode=all")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the cassette folder afile is a file; give --reasoning-cassette-dir*"])
    assert httpserver.log == []  # nothing paid for that could not be kept


def test_parametrize_ids_that_share_a_snapshot_file_are_refused(project):
    project.makepyfile(test_edges=f"""
        import pytest
        @pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")
        @pytest.mark.parametrize("x", ["a/b", "ab"], ids=["a/b", "ab"])
        def test_ids(reasoning_model, trace_snapshot, x):
            assert reasoning_model({PROMPT!r}) == trace_snapshot
    """)
    result = project.runpytest("--snapshot-update", "-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*test_ids?ab? and test_edges.py::test_ids?a/b? would share the snapshot*"])


def test_rerun_hint_works_from_the_folder_pytest_was_started_in(project, monkeypatch):
    sub = project.mkpydir("sub")
    (sub / "test_deep.py").write_text(
        "import pytest\n"
        "@pytest.mark.reasoning(backend='deepseek', model='deepseek-reasoner')\n"
        "def test_q(reasoning_model):\n    reasoning_model('not recorded')\n", encoding="utf-8")
    monkeypatch.chdir(sub)
    result = project.runpytest("test_deep.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*record it with: pytest 'test_deep.py::test_q' --reasoning-record-mode=once*"])


def test_ids_with_double_colons_get_syrupys_snapshot_names_and_no_false_clash(project):
    project.makepyfile(test_edges=f"""
        import pytest
        @pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")
        @pytest.mark.parametrize("x", ["fe80::1", "fe80.1"], ids=["fe80::1", "fe80.1"])
        def test_ip(reasoning_model, trace_snapshot, x):
            assert reasoning_model({PROMPT!r}) == trace_snapshot
    """)
    project.runpytest("--snapshot-update", "-p", "no:randomly").assert_outcomes(passed=2)
    project.runpytest("-p", "no:randomly").assert_outcomes(passed=2)
