"""Re-recording an unchanged answer leaves the cassette byte for byte as it was:
per-call values (``id``, ``created``, ``system_fingerprint``, llama.cpp ``timings``,
prompt-cache counts, ``latency_s``) are no change.  Against a real local HTTP server
through the real openai client, bodies and streams, and on the real tiny Qwen3."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from pytest_reasoning.recording.keys import same_response
from wire import chunk, completion, sse

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "example_tests" / "models" / "tiny-qwen3"

TESTS = """
def test_body(reasoning_model):
    assert reasoning_model("prompt A", temperature=0.6).answer == "{answer}"

def test_stream(reasoning_model):
    assert reasoning_model("prompt B", temperature=0.6, stream=True).answer == "{answer}"
"""


def _serve(server, answer: str) -> None:
    """Every call answers ``answer`` with a new id, timestamp, fingerprint, llama.cpp
    timings and prompt-cache counts."""
    from werkzeug import Response

    calls = itertools.count()

    def per_call() -> dict:
        n = next(calls)
        return {"id": f"chatcmpl-{n}", "created": 1_700_000_000 + n, "system_fingerprint": f"fp_{n}",
                "timings": {"prompt_ms": 10.5 + n, "predicted_ms": 99.0 + n}}

    def handler(request):
        body = request.get_json()
        usage = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13,
                 "prompt_cache_hit_tokens": next(calls) % 9, "prompt_tokens_details": {"cached_tokens": 3}}
        if body.get("stream"):
            stamp = per_call()
            chunks = [{**chunk({"role": "assistant", "content": "", "reasoning_content": "think"}), **stamp},
                      {**chunk({"content": answer}), **stamp},
                      {**chunk({}, finish_reason="stop"), **stamp},
                      {**chunk(choices=False, usage=usage), **stamp}]
            return Response(sse(chunks), content_type="text/event-stream")
        reply = {**completion({"content": answer, "reasoning_content": "think"}, usage=usage), **per_call()}
        return Response(json.dumps(reply), content_type="application/json")

    server.clear()
    server.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)


@pytest.fixture
def project(pytester, httpserver, monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLAMACPP_BASE_URL", "LLAMACPP_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(test_rerecord=TESTS.format(answer="Austin"))
    args = ["--reasoning-backend=llamacpp", "--reasoning-model=m", f"--reasoning-base-url={httpserver.url_for('/v1')}",
            "--reasoning-max-retries=0", "--reasoning-record-mode=all"]
    return pytester, httpserver, args


def test_an_unchanged_answer_rerecorded_keeps_the_cassette_bytes(project):
    pytester, server, args = project
    _serve(server, "Austin")
    pytester.runpytest(*args).assert_outcomes(passed=2)
    path = pytester.path / "cassettes" / "test_rerecord.json"
    first, mtime = path.read_bytes(), path.stat().st_mtime_ns
    served = len(server.log)
    pytester.runpytest(*args).assert_outcomes(passed=2)
    assert len(server.log) == served + 2  # both were called again ...
    assert path.read_bytes() == first  # ... and nothing in the file changed
    assert path.stat().st_mtime_ns == mtime  # not even rewritten

    _serve(server, "Houston")  # a changed answer is re-recorded
    pytester.makepyfile(test_rerecord=TESTS.format(answer="Houston"))
    pytester.runpytest(*args).assert_outcomes(passed=2)
    assert path.read_bytes() != first and b"Houston" in path.read_bytes() and b"Austin" not in path.read_bytes()


def test_same_response_compares_what_a_replay_reads():
    body = completion({"content": "Austin"}, usage={"prompt_tokens": 9, "prompt_cache_miss_tokens": 9})
    again = {**body, "id": "other", "created": 1, "system_fingerprint": "fp_x", "timings": {"predicted_ms": 5},
             "usage": {"prompt_tokens": 9, "prompt_cache_hit_tokens": 9}}
    raw = {"format": "openai.chat.completion", "latency_s": 1.0, "backend_version": "openai 2.0", "payload": body}
    assert same_response(raw, {**raw, "latency_s": 7.5, "backend_version": "openai 2.1", "payload": again})
    changed = {**again, "choices": [{**again["choices"][0], "finish_reason": "length"}]}
    assert not same_response(raw, {**raw, "payload": changed})
    assert not same_response(raw, {**raw, "format": "openai.chat.completion.chunks"})


def test_a_local_model_rerecorded_keeps_the_cassette_bytes(tmp_path):
    pytest.importorskip("torch", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
    pytest.importorskip("transformers", reason="needs the local extra: pip install 'pytest-reasoning[local]'")
    from pytest_reasoning.backends import Request, request_identity
    from pytest_reasoning.backends.transformers import TransformersBackend
    from pytest_reasoning.recording import Cassette, Recorder

    backend = TransformersBackend(str(TINY), device="cpu")
    identity = request_identity("transformers", {"model": str(TINY)})
    question = ({"role": "user", "content": "In the United States, what is the capital of the state that contains Dallas?"},)
    requests = [Request("transformers", "models/tiny-qwen3", question, {"max_tokens": 40}, identity, i) for i in range(2)]
    path = tmp_path / "cassettes" / "test_tiny.json"
    seen = []

    def live(batch):
        answered = backend.run(batch)
        seen.append([raw.latency_s for raw in answered])
        return answered

    for _ in range(2):  # two sessions re-recording in mode all
        cassette = Cassette(path)
        traces = Recorder(cassette, "all", live, "pytest 'test_tiny.py::test_capital'", test="t").run(requests)
        cassette.save()
        if len(seen) == 1:
            first = path.read_bytes()
            stored = json.loads(first)["interactions"]
            assert all(isinstance(e["response"]["latency_s"], float) for e in stored)  # timing recorded ...
            assert all(isinstance(e["response"]["payload"]["latency_s"], float) for e in stored)  # ... twice
    assert seen[0] != seen[1]  # the calls took other times ...
    assert path.read_bytes() == first  # ... and the cassette did not change
    assert [t.payload["answer"] for t in traces] == [e["response"]["payload"]["answer"] for e in stored]
