"""The plugin end to end, through ``pytester``: options, ini keys, the marker, the
settings precedence, record modes (replay from a cassette, recording from a real local
HTTP server), corrupt cassettes and trace snapshots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from pytest_reasoning.backends import BACKENDS, RawResponse, Request
from pytest_reasoning.settings.table import RECORD_MODES, SETTINGS
from pytest_reasoning.recording import Cassette
from wire import completion

PROMPT = "ダラスを含む州の州都は？"
PLANTED_KEY = "sk-" + "planted0123456789abcdefSECRET"  # fake, split so scanners do not flag it


def deepseek_body(reasoning="ダラスはテキサス州。テキサス州の州都はオースティン。", answer="オースティン"):
    return completion({"content": answer, "reasoning_content": reasoning},
                      usage={"prompt_tokens": 9, "completion_tokens": 40, "total_tokens": 49})


def write_cassette(path: Path, entries, backend="deepseek", model="deepseek-reasoner"):
    """Record ``[(prompt, params, body), ...]`` with the real Cassette API."""
    cassette = Cassette(path)
    for prompt, params, body in entries:
        request = Request(backend, model, ({"role": "user", "content": prompt},), params, {})
        cassette.record(request, RawResponse("openai.chat.completion", body))
    cassette.save()


def outcome(result):
    return result.parseoutcomes()


# -- options, ini keys, marker ---------------------------------------------------
def test_help_lists_every_option_and_ini_key(pytester):
    result = pytester.runpytest("--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["reasoning model prompt tests (pytest-reasoning):"])
    text = result.stdout.str()
    for setting in SETTINGS.values():
        assert setting.option in text
        if setting.ini:
            assert f"{setting.dest} (" in text or f"  {setting.dest}" in text
    assert "reasoning_api_key" not in text  # credentials are never read from files
    assert "none, once, new_episodes, all, off" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reasoning-backend=gpt"], f"invalid --reasoning-backend 'gpt'; valid: {', '.join(BACKENDS)}"),
        (["--reasoning-record-mode=sometimes"], f"invalid --reasoning-record-mode 'sometimes'; valid: {', '.join(RECORD_MODES)}"),
        (["--reasoning-snapshot-mode=fuzzy"], "invalid --reasoning-snapshot-mode 'fuzzy'; valid: exact, stable"),
        (["--reasoning-timeout=-3"], "invalid --reasoning-timeout '-3': must be > 0"),
        (["--reasoning-concurrency=many"], "invalid --reasoning-concurrency 'many': expected a whole number > 0"),
    ],
)
def test_bad_option_is_a_usage_error(pytester, args, message):
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_bad_ini_value_is_a_usage_error(pytester):
    pytester.makeini("[pytest]\nreasoning_record_mode = sometimes\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"invalid ini reasoning_record_mode 'sometimes'; valid: {', '.join(RECORD_MODES)}" in result.stderr.str()


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('modle="m"', "test_m.py::test_x: unknown @pytest.mark.reasoning argument 'modle'; valid: backend, model,"),
        ('record_mode="sometimes"', "invalid @pytest.mark.reasoning(record_mode=...) in test_m.py::test_x 'sometimes'; "
                                    "valid: none, once"),
        ('backend="gpt"', "valid: openai, deepseek"),
        ('api_key="sk-x"', "@pytest.mark.reasoning() takes no api_key: keys come from --reasoning-api-key or the "
                           "environment"),
        ('"deepseek"', "test_m.py::test_x: @pytest.mark.reasoning takes keyword arguments only"),
    ],
)
def test_bad_marker_is_an_error(pytester, marker, message):
    pytester.makepyfile(test_m=f"import pytest\n@pytest.mark.reasoning({marker})\ndef test_x(): pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_report_header_default_and_ini_and_cli(pytester):
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["reasoning: backend=None model=None record_mode=none snapshot_mode=exact"])
    pytester.makeini("[pytest]\nreasoning_backend = vllm\nreasoning_model = ini-model\nreasoning_snapshot_mode = stable\n")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["reasoning: backend=vllm model=ini-model record_mode=none snapshot_mode=stable"])
    result = pytester.runpytest("--reasoning-model=cli-model", "--reasoning-record-mode=once")
    result.stdout.fnmatch_lines(["reasoning: backend=vllm model=cli-model record_mode=once snapshot_mode=stable"])


PRECEDENCE_TESTS = """
import pytest

def test_plain(reasoning_model):
    reasoning_model("q")

@pytest.mark.reasoning(model="marker-model")
def test_marked(reasoning_model):
    reasoning_model("q")

@pytest.mark.reasoning(model="outer-model")
class TestClass:
    @pytest.mark.reasoning(model="inner-model")
    def test_closest_marker_wins(self, reasoning_model):
        reasoning_model("q")
"""


def test_precedence_cli_over_marker_over_ini(pytester):
    pytester.makeini("[pytest]\nreasoning_backend = vllm\nreasoning_model = ini-model\n")
    pytester.makepyfile(test_p=PRECEDENCE_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines_random([
        "no recording for this vllm/ini-model request*'test_p.py::test_plain'*",
        "no recording for this vllm/marker-model request*'test_p.py::test_marked'*",
        "no recording for this vllm/inner-model request*::test_closest_marker_wins'*",
    ])
    result = pytester.runpytest("--reasoning-model=cli-model", "--reasoning-backend=sglang")
    result.assert_outcomes(failed=3)
    # Counted at line starts: the short summary repeats the message after "FAILED", in full where CI is set.
    lines = result.stdout.lines
    assert sum(line.startswith("no recording for this sglang/cli-model request") for line in lines) == 3


def test_no_backend_is_a_clear_error(pytester):
    pytester.makepyfile(test_nb="def test_x(reasoning_model):\n    reasoning_model('q')\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_nb.py::test_x: no reasoning backend set; pass --reasoning-backend, set "
                                 "reasoning_backend in the ini file, or mark the test @pytest.mark.reasoning(backend=...)*"])
    result = pytester.runpytest("--reasoning-backend=vllm")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no model set for the vllm backend; pass --reasoning-model*"])


# -- replay (record mode none) ---------------------------------------------------
REPLAY_TESTS = f"""
import pytest
from pytest_reasoning import assert_answer, assert_reasoning_path

DEEPSEEK = pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")

@DEEPSEEK
def test_replayed(reasoning_model):
    trace = reasoning_model({PROMPT!r}, thinking=True)
    assert trace.answer == "オースティン"
    assert trace.reasoning_source == "reasoning_content"
    assert trace.backend.name == "deepseek"
    assert trace.usage.total_tokens == 49
    assert_reasoning_path(trace, ["ダラス", "テキサス", "オースティン"])

@DEEPSEEK
def test_wrong_answer_names_snapshot(reasoning_model, trace_snapshot):
    trace = reasoning_model({PROMPT!r}, thinking=True)
    assert_answer(trace, equals="Houston")
    assert trace == trace_snapshot
"""


@pytest.fixture
def replay_project(pytester, monkeypatch):
    for name in ("DEEPSEEK_API_KEY", "OPENAI_API_KEY", "DEEPSEEK_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(test_replay=REPLAY_TESTS)
    write_cassette(pytester.path / "cassettes" / "test_replay.json", [(PROMPT, {"thinking": True}, deepseek_body())])
    return pytester


def test_record_mode_none_replays_without_key_or_server(replay_project):
    result = replay_project.runpytest("-k", "replayed")
    result.assert_outcomes(passed=1, deselected=1)


def test_failed_assertion_names_the_snapshot_file(replay_project):
    result = replay_project.runpytest("-k", "wrong_answer")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines([
        "*answer does not equal 'Houston'",
        "*answer: オースティン",
        "*snapshot: snapshots/test_replay/test_wrong_answer_names_snapshot.json",
    ])
    # a test without a trace snapshot names none
    replay_project.makepyfile(test_replay=REPLAY_TESTS.replace(", trace_snapshot)", ")").replace(
        "    assert trace == trace_snapshot\n", ""))
    result = replay_project.runpytest("-k", "wrong_answer")
    result.assert_outcomes(failed=1, deselected=1)
    assert "answer does not equal 'Houston'" in result.stdout.str() and "snapshot:" not in result.stdout.str()


def test_changed_prompt_fails_with_how_to_record(replay_project):
    replay_project.makepyfile(test_replay=REPLAY_TESTS.replace("州都は？", "州都はどこ？"))
    result = replay_project.runpytest("-k", "replayed")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines([
        "no recording for this deepseek/deepseek-reasoner request in cassettes/test_replay.json "
        "(closest recording differs in: messages); record it with: "
        "pytest 'test_replay.py::test_replayed' --reasoning-record-mode=new_episodes",
    ])
    out = result.stdout.str()
    assert "Traceback" not in out and "During handling" not in out and "MissingRecording" not in out
    assert "recording.py" not in out and "fixtures.py" not in out


def test_changed_params_are_a_miss_too(replay_project):
    replay_project.makepyfile(test_replay=REPLAY_TESTS.replace("thinking=True)", "thinking=True, temperature=0.6)", 1))
    result = replay_project.runpytest("-k", "replayed")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*(closest recording differs in: params)*"])


def test_no_cassette_suggests_once(pytester):
    pytester.makepyfile(test_new=REPLAY_TESTS)
    result = pytester.runpytest("-k", "replayed")
    result.stdout.fnmatch_lines(["*in cassettes/test_new.json; record it with: "
                                 "pytest 'test_new.py::test_replayed' --reasoning-record-mode=once"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cassette cassettes/test_replay.json is corrupt (line 1: Expecting property name enclosed in "
                      "double quotes); delete it and re-record with --reasoning-record-mode=once, or restore it "
                      "from version control"),
        ('{"format": "vcr"}', "cassettes/test_replay.json is not a pytest-reasoning cassette"),
        ('{"format": "pytest-reasoning-cassette", "version": 99, "interactions": []}',
         "cassette cassettes/test_replay.json has format version 99, this pytest-reasoning reads 1; "
         "upgrade pytest-reasoning"),
    ],
)
def test_corrupt_cassette_is_one_clear_line_and_others_go_on(replay_project, content, message):
    (replay_project.path / "cassettes" / "test_replay.json").write_text(content, encoding="utf-8")
    replay_project.makepyfile(test_other="def test_unrelated():\n    assert 1 + 1 == 2\n")
    result = replay_project.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=2, passed=1)
    out = result.stdout.str()
    assert sum(line.startswith(message) for line in result.stdout.lines) == 2
    assert "Traceback" not in out and "JSONDecodeError" not in out


# -- recording against a real local HTTP server ----------------------------------
LIVE_TESTS = """
def test_a(reasoning_model):
    trace = reasoning_model("prompt A", temperature=0.6)
    assert trace.answer == "answer A"

def test_b(reasoning_model):
    trace = reasoning_model("prompt B", temperature=0.6)
    assert trace.answer.startswith("answer")
"""


def _serve(httpserver: HTTPServer, answer_for=lambda prompt: f"answer {prompt[-1]}"):
    from werkzeug import Response

    def handler(request):
        body = request.get_json()
        prompt = body["messages"][-1]["content"]
        reply = completion({"content": answer_for(prompt), "reasoning": f"thinking about {prompt}"},
                           model="served-model")
        return Response(json.dumps(reply), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)


def _prompts_served(httpserver):
    return sorted(req.get_json()["messages"][-1]["content"] for req, _ in httpserver.log)


@pytest.fixture
def live_project(pytester, httpserver, monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VLLM_BASE_URL", "DEEPSEEK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DEEPSEEK_API_KEY", PLANTED_KEY)
    pytester.makepyfile(test_live=LIVE_TESTS)
    _serve(httpserver)
    args = ["--reasoning-base-url", httpserver.url_for("/v1"), "--reasoning-model", "served-model",
            "--reasoning-max-retries", "0", "--reasoning-timeout", "5"]
    return pytester, httpserver, args


def _cassette(pytester):
    return json.loads((pytester.path / "cassettes" / "test_live.json").read_text(encoding="utf-8"))


def _assert_key_nowhere(pytester):
    for path in pytester.path.rglob("*"):
        if path.is_file():
            assert PLANTED_KEY.encode() not in path.read_bytes(), path
            assert b"Bearer" not in path.read_bytes(), path


def test_once_records_then_replays(live_project):
    pytester, server, args = live_project
    result = pytester.runpytest(*args, "--reasoning-backend=deepseek", "--reasoning-record-mode=once")
    result.assert_outcomes(passed=2)
    assert _prompts_served(server) == ["prompt A", "prompt B"]
    auth = {req.headers.get("Authorization") for req, _ in server.log}
    assert auth == {f"Bearer {PLANTED_KEY}"}  # the key reached the server ...
    _assert_key_nowhere(pytester)  # ... but no file written holds it
    cassette = _cassette(pytester)
    assert [e["request"]["messages"][0]["content"] for e in cassette["interactions"]] == ["prompt A", "prompt B"]
    assert cassette["interactions"][0]["response"]["payload"]["choices"][0]["message"]["reasoning"] == (
        "thinking about prompt A")
    assert cassette["interactions"][0]["request"] == {
        "backend": "deepseek", "model": "served-model", "identity": {},
        "messages": [{"role": "user", "content": "prompt A"}], "params": {"temperature": 0.6}}

    server.clear_log()
    result = pytester.runpytest(*args, "--reasoning-backend=deepseek")  # default mode none: replay
    result.assert_outcomes(passed=2)
    result = pytester.runpytest(*args, "--reasoning-backend=deepseek", "--reasoning-record-mode=once")
    result.assert_outcomes(passed=2)
    assert _prompts_served(server) == []


def test_once_with_a_cassette_does_not_record_new_prompts(live_project):
    pytester, server, args = live_project
    write_cassette(pytester.path / "cassettes" / "test_live.json",
                   [("prompt A", {"temperature": 0.6}, completion({"content": "answer A"}))],
                   backend="vllm", model="served-model")
    result = pytester.runpytest(*args, "--reasoning-backend=vllm", "--reasoning-record-mode=once")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*--reasoning-record-mode=new_episodes"])
    assert _prompts_served(server) == []


def test_new_episodes_records_only_what_is_missing(live_project):
    pytester, server, args = live_project
    write_cassette(pytester.path / "cassettes" / "test_live.json",
                   [("prompt A", {"temperature": 0.6}, completion({"content": "answer A"}))],
                   backend="vllm", model="served-model")
    result = pytester.runpytest(*args, "--reasoning-backend=vllm", "--reasoning-record-mode=new_episodes")
    result.assert_outcomes(passed=2)
    assert _prompts_served(server) == ["prompt B"]
    interactions = _cassette(pytester)["interactions"]
    assert len(interactions) == 2
    assert {e["response"]["payload"]["choices"][0]["message"]["content"] for e in interactions} == {
        "answer A", "answer B"}


def test_all_calls_again_and_rewrites(live_project):
    pytester, server, args = live_project
    write_cassette(pytester.path / "cassettes" / "test_live.json",
                   [("prompt A", {"temperature": 0.6}, completion({"content": "stale A"})),
                    ("prompt B", {"temperature": 0.6}, completion({"content": "stale B"}))],
                   backend="deepseek", model="served-model")
    result = pytester.runpytest(*args, "--reasoning-backend=deepseek", "--reasoning-record-mode=all")
    result.assert_outcomes(passed=2)
    assert _prompts_served(server) == ["prompt A", "prompt B"]
    contents = [e["response"]["payload"]["choices"][0]["message"]["content"] for e in _cassette(pytester)["interactions"]]
    assert contents == ["answer A", "answer B"]
    _assert_key_nowhere(pytester)


def test_off_reads_and_writes_no_cassette(live_project):
    pytester, server, args = live_project
    result = pytester.runpytest(*args, "--reasoning-backend=vllm", "--reasoning-record-mode=off")
    result.assert_outcomes(passed=2)
    assert _prompts_served(server) == ["prompt A", "prompt B"]
    assert not (pytester.path / "cassettes").exists()


def test_live_failure_records_nothing(live_project):
    pytester, server, args = live_project
    server.clear()
    server.expect_request("/v1/chat/completions").respond_with_data("overloaded", status=500)
    result = pytester.runpytest(*args, "--reasoning-backend=vllm", "--reasoning-record-mode=once")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*answered HTTP 500 after 0 retries*"])
    assert "Traceback" not in result.stdout.str()
    assert not (pytester.path / "cassettes" / "test_live.json").exists()


# -- snapshots ---------------------------------------------------------------------
SNAPSHOT_TESTS = f"""
import pytest
from pytest_reasoning import Detour, assert_answer, check_detours

SPORTS = Detour("sports", terms=["NFL", "カウボーイズ"])

@pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")
def test_trace(reasoning_model, trace_snapshot):
    trace = reasoning_model({PROMPT!r})
    check_detours(trace, SPORTS)
    assert trace == trace_snapshot

@pytest.mark.reasoning(backend="deepseek", model="deepseek-reasoner")
def test_checked_answer(reasoning_model, trace_snapshot):
    trace = reasoning_model({PROMPT!r})
    assert_answer(trace, contains=["オースティン", "Austin"])
    assert trace == trace_snapshot
"""


@pytest.fixture
def snapshot_project(pytester, monkeypatch):
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    pytester.makepyfile(test_snap=SNAPSHOT_TESTS)
    set_recording(pytester)
    result = pytester.runpytest("--snapshot-update")
    result.assert_outcomes(passed=2)
    return pytester


def set_recording(pytester, **kw):
    path = pytester.path / "cassettes" / "test_snap.json"
    if path.exists():
        path.unlink()
    write_cassette(path, [(PROMPT, {}, deepseek_body(**kw))])


SNAP_DIR = Path("snapshots", "test_snap")


def test_snapshot_update_writes_mirrored_file_and_rerun_passes(snapshot_project):
    path = snapshot_project.path / SNAP_DIR / "test_trace.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["reasoning"] == ["ダラスはテキサス州。", "テキサス州の州都はオースティン。"]
    assert data["answer"] == "オースティン" and data["checks"] == {"detours": {"sports": 0}}
    assert "latency_s" not in data
    assert "オースティン" in path.read_text(encoding="utf-8")  # UTF-8, not \\u escapes
    assert (snapshot_project.path / SNAP_DIR / "test_checked_answer.json").exists()
    result = snapshot_project.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*2 snapshots passed*"])


def test_changed_reasoning_fails_with_summary_first(snapshot_project):
    set_recording(snapshot_project, reasoning="ダラスはテキサス州。カウボーイズはNFLのチーム。州都はオースティン。")
    result = snapshot_project.runpytest("-vv", "-k", "test_trace")
    result.assert_outcomes(failed=1, deselected=1)
    out = result.stdout.lines
    first = next(i for i, line in enumerate(out) if "What changed in the trace:" in line)
    assert "detour 'sports' added (2 hits)" in out[first + 1]
    assert any("sentences changed: 2 added, 1 removed (of 2 -> 3)" in line for line in out[first:first + 8])
    diff_start = next(i for i, line in enumerate(out) if '"answer"' in line or "カウボーイズはNFL" in line)
    assert first < diff_start


def test_deleted_test_makes_snapshot_unused_and_update_deletes_it(snapshot_project):
    without_second = SNAPSHOT_TESTS[:SNAPSHOT_TESTS.rindex("@pytest.mark.reasoning")]
    assert "def test_trace" in without_second and "test_checked_answer" not in without_second
    snapshot_project.makepyfile(test_snap=without_second)
    result = snapshot_project.runpytest()
    result.stdout.fnmatch_lines(["*1 snapshot passed. 1 snapshot unused.*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # syrupy fails a run with unused snapshots
    result = snapshot_project.runpytest("--snapshot-update")
    result.stdout.fnmatch_lines(["*1 unused snapshot deleted*"])
    assert not (snapshot_project.path / SNAP_DIR / "test_checked_answer.json").exists()
    assert (snapshot_project.path / SNAP_DIR / "test_trace.json").exists()


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_snapshot_update_after_failed_calls_deletes_nothing(snapshot_project, workers):
    (snapshot_project.path / "cassettes" / "test_snap.json").unlink()  # every call now fails
    before = sorted((snapshot_project.path / SNAP_DIR).iterdir())
    assert len(before) == 2
    result = snapshot_project.runpytest("--snapshot-update", *workers)
    result.assert_outcomes(failed=2)
    assert "deleted" not in result.stdout.str()
    assert sorted((snapshot_project.path / SNAP_DIR).iterdir()) == before
    result = snapshot_project.runpytest(*workers)  # nor are they reported unused
    assert "unused" not in result.stdout.str()


def test_exact_mode_fails_on_rewording(snapshot_project):
    set_recording(snapshot_project, reasoning="ダラスはテキサスにある。よって州都はオースティン。")
    result = snapshot_project.runpytest("-k", "test_trace")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*What changed in the trace:*"])


def test_stable_mode_tolerates_rewording(snapshot_project):
    set_recording(snapshot_project, reasoning="ダラスはテキサスにある。よって州都はオースティン。", answer="Austin")
    result = snapshot_project.runpytest("--reasoning-snapshot-mode=stable")
    # test_trace compares its raw answer (no answer check ran): it changed, so it fails;
    # test_checked_answer compares the answer check's verdict, which still holds.
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*answer changed: 'オースティン' -> 'Austin'*"])
    set_recording(snapshot_project, reasoning="ダラスはテキサスにある。よって州都はオースティン。")
    result = snapshot_project.runpytest("--reasoning-snapshot-mode=stable")
    result.assert_outcomes(passed=2)


def test_stable_mode_fails_when_a_detour_appears(snapshot_project):
    set_recording(snapshot_project, reasoning="ダラスといえばカウボーイズ。州都はオースティン。")
    result = snapshot_project.runpytest("--reasoning-snapshot-mode=stable", "-k", "test_trace")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*detour 'sports' added (1 hits)*"])


def test_stable_mode_from_marker_fails_when_answer_verdict_changes(snapshot_project):
    snapshot_project.makepyfile(test_snap=SNAPSHOT_TESTS.replace(
        "    assert_answer(trace, contains=", "    with pytest.raises(AssertionError):\n        assert_answer(trace, contains=")
        .replace('model="deepseek-reasoner")', 'model="deepseek-reasoner", snapshot_mode="stable")'))
    # recorded answer オースティン made the check pass (no raise -> this test fails), so
    # re-record the snapshot with a wrong answer first, then flip it back.
    set_recording(snapshot_project, answer="Houston")
    result = snapshot_project.runpytest("--snapshot-update", "-k", "checked")
    result.assert_outcomes(passed=1, deselected=1)
    set_recording(snapshot_project, answer="Dallas")  # still wrong: same verdict, stable passes
    snapshot_project.runpytest("-k", "checked").assert_outcomes(passed=1, deselected=1)
    snapshot_project.makepyfile(test_snap=SNAPSHOT_TESTS.replace(
        'model="deepseek-reasoner")', 'model="deepseek-reasoner", snapshot_mode="stable")'))
    set_recording(snapshot_project)  # right again: the verdict flips
    result = snapshot_project.runpytest("-k", "checked")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*checks.answer*False -> True*"])


def test_a_bad_marker_on_a_deselected_test_does_not_stop_the_run(pytester):
    pytester.makepyfile(test_m="""
import pytest

@pytest.mark.reasoning(modle="x")
def test_typo(reasoning_model):
    pass

def test_ok():
    assert True
""")
    pytester.runpytest("-k", "test_ok").assert_outcomes(passed=1, deselected=1)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown @pytest.mark.reasoning argument 'modle'*"])


def test_batch_with_one_failed_call_keeps_the_paid_answers(pytester, httpserver, monkeypatch):
    from werkzeug import Response

    monkeypatch.delenv("VLLM_API_KEY", raising=False)

    def handler(request):
        prompt = request.get_json()["messages"][-1]["content"]
        if prompt == "q2":
            return Response(json.dumps({"error": {"message": "boom"}}), status=500, content_type="application/json")
        return Response(json.dumps(completion({"content": f"answer {prompt}"})), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)
    pytester.makepyfile(test_batch="def test_b(reasoning_model):\n    reasoning_model.batch(['q1', 'q2', 'q3'])\n")
    args = ["--reasoning-backend=vllm", "--reasoning-model=m", f"--reasoning-base-url={httpserver.url_for('/v1')}",
            "--reasoning-max-retries=0", "--reasoning-record-mode=new_episodes"]
    pytester.runpytest(*args).assert_outcomes(failed=1)
    recorded = json.loads((pytester.path / "cassettes" / "test_batch.json").read_text(encoding="utf-8"))
    assert sorted(e["request"]["messages"][0]["content"] for e in recorded["interactions"]) == ["q1", "q3"]
    httpserver.clear_log()
    pytester.runpytest(*args).assert_outcomes(failed=1)  # the re-run pays for q2 only
    assert [req.get_json()["messages"][0]["content"] for req, _ in httpserver.log] == ["q2"]
