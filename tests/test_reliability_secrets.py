"""Reliability: secrets never reach anything a run writes.

A distinctive key is planted (an ``sk-``-shaped one through the environment, a key of
no known shape through ``--reasoning-api-key``); a local server echoes it back in
completions (plain and streamed, split across chunks), in 400/401 error bodies and in a
cookie header.  The whole pytester folder (cassettes, snapshots, the junit XML, every
other file) and the captured terminal output are then searched for it.
"""

from __future__ import annotations

import json
import socket

import pytest
from werkzeug import Response

from pytest_reasoning.backends import RawResponse, Request, to_trace
from pytest_reasoning.redaction import REDACTED
from wire import chunk, completion, sse

SK_KEY = "sk-" + "PLANTEDq7Zr9Xw2Lm5Nv8Kd3Ts6Yb"  # fake, split so secret scanners do not flag it
#: No known key shape: only found because the plugin knows it is the key in use.
ODD_KEY = "PLANTED.odd~key~4c1f9e27d0b3a856"

INNER_TESTS = r'''
import pytest
from pytest_reasoning import assert_answer

def test_echo_answer_fails(reasoning_model):
    trace = reasoning_model("echo", temperature=0.1)
    assert_answer(trace, equals="Austin")

def test_echo_plain_assert_fails(reasoning_model):
    trace = reasoning_model("echo", temperature=0.1)
    print("answer was", trace.answer)
    assert trace.answer == "Austin"

def test_echo_snapshot(reasoning_model, trace_snapshot):
    trace = reasoning_model("echo", temperature=0.1)
    assert trace == trace_snapshot

def test_stream_echo_snapshot(reasoning_model, trace_snapshot):
    trace = reasoning_model("echo", stream=True)
    assert trace == trace_snapshot

def test_rejected_401(reasoning_model):
    reasoning_model("401")

def test_rejected_400(reasoning_model):
    reasoning_model("400")

def test_rejected_500(reasoning_model):
    reasoning_model("500")
'''


def _key_of(request) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ")


def _echo_server(httpserver):
    def handler(request):
        key = _key_of(request)
        body = request.get_json()
        prompt = body["messages"][-1]["content"]
        if prompt in ("401", "400", "500"):
            error = {"error": {"message": f"Incorrect API key provided: {key}", "type": "invalid_request_error",
                               "param": None, "code": "invalid_api_key", "key": key}}
            return Response(json.dumps(error), status=int(prompt), content_type="application/json",
                            headers={"Set-Cookie": f"session={key}", "Retry-After": "0"})
        if body.get("stream"):
            # the key arrives in pieces, as a model streams it token by token
            pieces = [key[i:i + 5] for i in range(0, len(key), 5)]
            chunks = [chunk({"role": "assistant", "content": None, "reasoning_content": "I repeat the key: "})]
            chunks += [chunk({"content": None, "reasoning_content": p}) for p in pieces]
            chunks += [chunk({"content": "key: "})] + [chunk({"content": p}) for p in pieces]
            chunks += [chunk({}, finish_reason="stop")]
            return Response(sse(chunks), content_type="text/event-stream", headers={"Set-Cookie": f"s={key}"})
        reply = completion({"content": f"The key is {key}.", "reasoning_content": f"They sent {key}. I echo it."},
                           model="served", api_key=key, headers={"Authorization": f"Bearer {key}", "Cookie": key})
        return Response(json.dumps(reply), content_type="application/json", headers={"Set-Cookie": f"s={key}"})

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)


def _leaks(root, output: str, key: str) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix != ".py":  # the inner test file itself holds no key
            data = path.read_bytes()
            if key.encode() in data or key.encode("unicode_escape") in data:
                found.append(str(path.relative_to(root)))
    if key in output:
        found.append("terminal output")
    return found


@pytest.mark.parametrize("how", ["env sk-shaped key", "--reasoning-api-key odd key"])
def test_planted_key_is_in_no_file_and_no_output(pytester, httpserver, monkeypatch, how):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "DEEPSEEK_BASE_URL", "DEEPSEEK_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    if how.startswith("env"):
        key, extra = SK_KEY, []
        monkeypatch.setenv("DEEPSEEK_API_KEY", key)
    else:
        key, extra = ODD_KEY, [f"--reasoning-api-key={ODD_KEY}"]
    _echo_server(httpserver)
    pytester.makepyfile(test_secret=INNER_TESTS)
    args = ["--reasoning-backend=deepseek", "--reasoning-model=served", f"--reasoning-base-url={httpserver.url_for('/v1')}",
            "--reasoning-max-retries=0", "--reasoning-timeout=5", "--reasoning-record-mode=once",
            "--junitxml=report.xml", "-rA", "-vv", "-l", *extra]
    result = pytester.runpytest(*args, "--snapshot-update")
    # the server received the real key ...
    assert {_key_of(r) for r, _ in httpserver.log} == {key}
    result.assert_outcomes(passed=2, failed=5)
    output = result.stdout.str() + result.stderr.str()
    # ... the failures say what happened ...
    assert "rejected the API key (401)" in output
    assert "answered HTTP 400: " in output and "answered HTTP 500 after 0 retries" in output
    assert REDACTED in output
    # ... and nothing written or shown holds it
    assert _leaks(pytester.path, output, key) == []
    cassette = (pytester.path / "cassettes" / "test_secret.json").read_text("utf-8")
    assert cassette.count(REDACTED) >= 4
    # nor can it be pieced together: the streamed echo, split over chunks, replays redacted
    for entry in json.loads(cassette)["interactions"]:
        trace = to_trace(Request("deepseek", "served", tuple(entry["request"]["messages"]), entry["request"]["params"]),
                         RawResponse.from_dict(entry["response"]))
        assert key not in trace.to_json() and REDACTED in trace.answer
    assert (pytester.path / "report.xml").exists()
    snapshot = (pytester.path / "snapshots" / "test_secret" / "test_stream_echo_snapshot.json").read_text("utf-8")
    assert REDACTED in snapshot

    # the replay (no key, no server) gives the same traces: snapshots still match
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    httpserver.clear_log()
    replay = pytester.runpytest("--reasoning-backend=deepseek", "--reasoning-model=served",
                                "--junitxml=report2.xml", "-rA", "-k", "snapshot or fails")
    replay.assert_outcomes(passed=2, failed=2, deselected=3)
    assert len(httpserver.log) == 0
    assert _leaks(pytester.path, replay.stdout.str() + replay.stderr.str(), key) == []


def test_password_in_base_url_is_not_in_output_or_junitxml(pytester, monkeypatch):
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    pytester.makepyfile(test_url="def test_call(reasoning_model):\n    reasoning_model('hi')\n")
    password = "Sup3rS3cretPassw0rd"
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = pytester.runpytest(
        "--reasoning-backend=vllm", "--reasoning-model=m", "--reasoning-record-mode=all", "--reasoning-max-retries=0",
        f"--reasoning-base-url=http://admin:{password}@127.0.0.1:{port}/v1", "--junitxml=report.xml",
    )
    result.assert_outcomes(failed=1)
    out = result.stdout.str() + result.stderr.str()
    assert "could not connect" in out or "cannot reach" in out or "refused" in out, out
    assert password not in out
    assert password not in (pytester.path / "report.xml").read_text(encoding="utf-8")
