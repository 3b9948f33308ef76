"""Reliability: bad input gives one line saying what to do, or the right verdict.

The table in ``docs/RELIABILITY.md`` lists each case and what the user sees; cases
already tested elsewhere are named there (unknown backend, wrong record mode, missing
recording, corrupt JSON, newer cassette version: ``tests/test_plugin.py``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pytest_reasoning import Detour, Trace, assert_answer, assert_no_detour, assert_reasoning_budget, assert_reasoning_path
from pytest_reasoning.backends import RawResponse, Request
from pytest_reasoning.recording import Cassette
from pytest_reasoning.snapshots import serialize_trace
from wire import completion

PROMPT = "ダラスを含む州の州都は？"
CALL = f"""
def test_call(reasoning_model):
    trace = reasoning_model({PROMPT!r})
    assert trace.answer == "Austin"

def test_other():
    assert True
"""
HOW = "delete it and re-record with --reasoning-record-mode=once, or restore it from version control"


def _record(path: Path, body, fmt="openai.chat.completion", backend="vllm", model="served", prompt=PROMPT):
    cassette = Cassette(path)
    cassette.record(Request(backend, model, ({"role": "user", "content": prompt},), {}), RawResponse(fmt, body))
    cassette.save()


@pytest.fixture
def project(pytester, monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VLLM_BASE_URL", "DEEPSEEK_API_KEY", "DEEPSEEK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\nreasoning_backend = vllm\nreasoning_model = served\n")
    pytester.makepyfile(test_in=CALL)
    return pytester


def _one_line(result, expected):
    result.assert_outcomes(failed=1, passed=1)  # the other test goes on
    out = result.stdout.str()
    assert "Traceback" not in out and "site-packages" not in out and "pytest_reasoning/" not in out, out
    assert any(expected in line for line in result.stdout.lines), out


_GOOD = completion({"content": "Austin", "reasoning_content": "Texas."}, model="served")


def _with_version(version):
    def edit(path):
        data = json.loads(path.read_text("utf-8"))
        if version is None:
            del data["version"]
        else:
            data["version"] = version
        path.write_text(json.dumps(data), encoding="utf-8")
    return edit


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _latin1(path):
    path.write_bytes(path.read_text("utf-8").replace("州都", "capital \xe9").encode("latin-1", "replace"))


def _edit_entry(change):
    def edit(path):
        data = json.loads(path.read_text("utf-8"))
        change(data["interactions"][0])
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return edit


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        pytest.param(_with_version(0), f"cassette cassettes/test_in.json has format version 0, this pytest-reasoning "
                                       f"reads 1; {HOW}", id="version-0"),
        pytest.param(_with_version(None), "cassette cassettes/test_in.json has format version None, this "
                                          f"pytest-reasoning reads 1; {HOW}", id="version-missing"),
        pytest.param(_truncate, "cassette cassettes/test_in.json is corrupt (line ", id="truncated"),
        pytest.param(_latin1, f"cassette cassettes/test_in.json is not UTF-8 text; {HOW}", id="not-utf8"),
        pytest.param(_edit_entry(lambda e: e.pop("response")),
                     f"cassette cassettes/test_in.json: interaction 0 lacks key, request (backend, model, messages, params) or response; {HOW}",
                     id="entry-without-response"),
        pytest.param(_edit_entry(lambda e: e["response"].update(format="anthropic.message")),
                     "a recording in cassettes/test_in.json cannot be read (unknown response format "
                     "'anthropic.message'; expected openai.chat.completion, openai.chat.completion.chunks or trace); "
                     "re-record it with: pytest 'test_in.py::test_call' --reasoning-record-mode=all",
                     id="unknown-response-format"),
        pytest.param(_edit_entry(lambda e: e["response"].update(payload={"error": {"message": "overloaded"}})),
                     "a recording in cassettes/test_in.json cannot be read (the response is an error, not a chat "
                     "completion: overloaded); re-record it with:", id="error-body-recorded"),
        pytest.param(_edit_entry(lambda e: e["response"].update(payload={"choices": [{"message": "Austin"}]})),
                     "a recording in cassettes/test_in.json cannot be read (AttributeError: 'str' object has no "
                     "attribute 'get'); re-record it with:", id="hand-edited-payload"),
    ],
)
def test_broken_cassette_is_one_line_naming_the_file_and_the_fix(project, damage, expected):
    path = project.path / "cassettes" / "test_in.json"
    _record(path, _GOOD)
    damage(path)
    _one_line(project.runpytest("-p", "no:randomly"), expected)


def test_missing_credentials_when_recording(project):
    project.makeini("[pytest]\nreasoning_backend = deepseek\nreasoning_model = deepseek-reasoner\n")
    result = project.runpytest("--reasoning-record-mode=once")
    _one_line(result, "no API key for the deepseek backend: set $DEEPSEEK_API_KEY or pass --reasoning-api-key")
    assert not (project.path / "cassettes").exists()


def test_unknown_model_on_the_server(project, httpserver):
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "The model `served` does not exist.", "code": 404}}, status=404)
    result = project.runpytest(f"--reasoning-base-url={httpserver.url_for('/v1')}", "--reasoning-record-mode=once",
                               "--reasoning-max-retries=0")
    _one_line(result, "answered 404 for model 'served': Error code: 404 - The model `served` does not exist.; "
                      "check --reasoning-model")


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("reasoning_backend = gpt-4", "invalid ini reasoning_backend 'gpt-4'; valid: openai, deepseek"),
        ("reasoning_max_retries = -1", "invalid ini reasoning_max_retries '-1': must be >= 0"),
        ("reasoning_timeout = soon", "invalid ini reasoning_timeout 'soon': expected a number > 0"),
    ],
)
def test_bad_ini_values_are_usage_errors(pytester, ini, message):
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_invalid_json_schema_in_a_test_is_one_error_line(pytester):
    pytester.makepyfile(test_schema="""
from pytest_reasoning import Trace, assert_answer

def test_schema():
    assert_answer(Trace(answer='{"a": 1}'), schema={"type": "objekt"})
""")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E   *ValueError: invalid JSON Schema given to assert_answer: 'objekt' is not valid*"])
    assert "assertions.py" not in result.stdout.str()


# -- answers and traces at the edges -------------------------------------------------
def test_empty_answer_gets_the_right_verdicts():
    trace = Trace(reasoning="ダラスはテキサス州。", answer="", finish_reason="length", truncated=True)
    with pytest.raises(AssertionError, match=r"answer does not contain 'Austin'\n  answer: \(empty answer\)"):
        assert_answer(trace, contains="Austin")
    assert_answer(trace, equals="")  # an empty answer equals ""
    with pytest.raises(AssertionError, match=r"generation was truncated \(finish_reason='length'\) inside the thinking"):
        assert_reasoning_budget(trace)
    assert trace.checks.to_dict() == {"answer": {"contains 'Austin'": False, "equals ''": True},
                                      "budget": {"not truncated": False}}
    assert json.loads(serialize_trace(trace))["answer"] == ""


def test_empty_answer_and_no_reasoning_from_the_wire(project):
    _record(project.path / "cassettes" / "test_in.json",
            completion({"content": None}, finish_reason="length", model="served"))
    project.makepyfile(test_in=f"""
from pytest_reasoning import assert_answer, assert_reasoning_path

def test_call(reasoning_model):
    trace = reasoning_model({PROMPT!r})
    assert (trace.answer, trace.reasoning, trace.truncated, trace.reasoning_source) == ("", "", True, None)
    assert_reasoning_path(trace, ["Texas"])

def test_other():
    assert True
""")
    _one_line(project.runpytest(), "reasoning path broken at step 1/1: 'Texas' never appears")


def test_one_megabyte_reasoning_is_parsed_asserted_and_snapshotted_quickly(project):
    sentence = "ダラスはテキサス州の都市です。Dallas is in Texas, wait, let me check. "
    reasoning = sentence * (1_000_000 // len(sentence.encode()) + 1)
    assert len(reasoning.encode()) > 1_000_000
    _record(project.path / "cassettes" / "test_in.json",
            completion({"content": "Austin", "reasoning_content": reasoning + "The capital is Austin."}, model="served"))
    project.makepyfile(test_in=f"""
from pytest_reasoning import Detour, assert_answer, assert_no_detour, assert_reasoning_path, assert_reasoning_budget, check_detours

def test_call(reasoning_model, trace_snapshot):
    trace = reasoning_model({PROMPT!r})
    assert len(trace.reasoning) > 300_000
    assert_answer(trace, equals="Austin")
    assert_no_detour(trace, Detour("sports", terms=["NFL", "カウボーイズ"], patterns=[r"foot\\w+"]))
    assert check_detours(trace, Detour("texas", terms=["Texas", "テキサス"]))["texas"][-1].sentence_index > 10_000
    assert_reasoning_path(trace, [["Dallas", "ダラス"], ["Texas", "テキサス"], ["Austin", "オースティン"]])
    assert_reasoning_budget(trace, max_chars=2_000_000, max_hesitations=100_000)
    assert trace == trace_snapshot

def test_other():
    assert True
""")
    start = time.perf_counter()
    project.runpytest("--snapshot-update").assert_outcomes(passed=2)
    project.runpytest().assert_outcomes(passed=2)
    # A guard against a quadratic scan (it took many minutes when every hit scanned every
    # sentence), not a speed target: about 10 s on 2 idle cores; speed is in benchmarks/.
    assert time.perf_counter() - start < 180
    snapshot = json.loads((project.path / "snapshots" / "test_in" / "test_call.json").read_text("utf-8"))
    assert snapshot["stats"]["reasoning_sentences"] > 20_000 and snapshot["checks"]["detours"]["texas"] > 20_000


# -- Unicode at the edges --------------------------------------------------------------
ZWJ_FAMILY = "👨\u200d👩\u200d👧"
UNICODE_REASONING = (
    "Cafe\u0301 talk first. "                 # combining acute accent (decomposed é)
    "人口は１３０万人です。"                      # full-width digits
    "🏈 The Cowboys play NFL football! "      # emoji
    f"{ZWJ_FAMILY} family outing. "          # zero-width joiner sequence
    "ダラス・カウボーイズ。ｶｳﾎﾞｰｲｽﾞ。"          # katakana, half-width with voicing marks
    "מדינת טקסס היא גדולה. "                 # right-to-left text
    "N\u200dF\u200dL is not NFL. "            # zero-width joiners inside a word: not the term
    "平成は㍻と書く。"                           # one character expanding to two under NFKC
)


@pytest.mark.parametrize(
    ("terms", "patterns", "found"),
    [
        (["Café"], [], ["Cafe\u0301"]),
        (["cafe\u0301"], [], ["Cafe\u0301"]),
        ([], [r"130万"], ["１３０万"]),
        ([], [r"１３０万人"], ["１３０万人"]),
        (["🏈"], [], ["🏈"]),
        ([ZWJ_FAMILY], [], [ZWJ_FAMILY]),
        (["👩"], [], ["👩"]),
        (["NFL"], [], ["NFL", "NFL"]),
        (["カウボーイズ"], [], ["カウボーイズ", "ｶｳﾎﾞｰｲｽﾞ"]),
        (["טקסס"], [], ["טקסס"]),
        (["成"], [], ["成", "㍻"]),
    ],
)
def test_unicode_detour_terms_hit_the_right_text(terms, patterns, found):
    trace = Trace(reasoning=UNICODE_REASONING)
    hits = trace.detours(Detour("d", terms=terms, patterns=patterns))["d"]
    assert [h.text for h in hits] == found
    for hit in hits:
        assert UNICODE_REASONING[hit.start:hit.end] == hit.text and hit.text
        assert hit.text in hit.sentence


def test_unicode_trace_round_trips_through_cassette_and_snapshot_unchanged(project):
    _record(project.path / "cassettes" / "test_in.json",
            completion({"content": "אוסטין ✓ Austin\u200d", "reasoning_content": UNICODE_REASONING}, model="served"))
    project.makepyfile(test_in=f"""
from pytest_reasoning import Detour, assert_answer, assert_no_detour, check_detours

def test_call(reasoning_model, trace_snapshot):
    trace = reasoning_model({PROMPT!r})
    assert trace.reasoning == {UNICODE_REASONING!r}
    assert_answer(trace, contains="Austin")
    check_detours(trace, Detour("sports", terms=["NFL", "カウボーイズ", "🏈"]))
    assert trace == trace_snapshot

def test_other():
    assert True
""")
    project.runpytest("--snapshot-update").assert_outcomes(passed=2)
    text = (project.path / "snapshots" / "test_in" / "test_call.json").read_text("utf-8")
    assert "ｶｳﾎﾞｰｲｽﾞ" in text and ZWJ_FAMILY in text and "מדינת" in text and "\\u" not in text
    assert json.loads(text)["checks"]["detours"] == {"sports": 5}  # NFL x2, カウボーイズ x2, 🏈
    project.runpytest().assert_outcomes(passed=2)


def test_unicode_path_and_no_detour_failure_points_at_the_original_text():
    trace = Trace(reasoning=UNICODE_REASONING)
    assert_reasoning_path(trace, ["Café", "130万", ZWJ_FAMILY, "カウボーイズ", "טקסס"])
    with pytest.raises(AssertionError) as info:
        assert_no_detour(trace, Detour("sports", terms=["🏈"]))
    assert f"'🏈' at char {UNICODE_REASONING.index('🏈')}, sentence 3" in str(info.value)
