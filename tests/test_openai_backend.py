"""The real OpenAIBackend (the ``openai`` client) against a local HTTP server speaking
each provider's wire format: request bodies, parsing, retries and failures."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from werkzeug import Response

from pytest_reasoning.backends import BackendError, Request, create_backend, to_trace
from pytest_reasoning.backends.openai_api import OpenAIBackend, build_request
from pytest_reasoning.trace import Usage
from wire import USAGE, completion, sse, stream_chunks

KEY = "sk-" + "test0123456789abcdefKEY"  # fake, split so scanners do not flag it
MESSAGES = ({"role": "user", "content": "ダラスを含む州の州都は？"},)


def backend(name, server, **kw):
    kw = {"api_key": KEY, "timeout": 5, "max_retries": 0, **kw}
    return OpenAIBackend(name, kw.pop("model", "m"), base_url=server.url_for("/v1"), **kw)


def request(name, params=None, content=MESSAGES[0]["content"], model="m"):
    return Request(name, model, ({"role": "user", "content": content},), params or {})


def serve_json(server, body, **kw):
    server.expect_request("/v1/chat/completions", method="POST").respond_with_json(body, **kw)


def serve_sse(server, chunks, done=True):
    server.expect_request("/v1/chat/completions", method="POST").respond_with_data(
        sse(chunks, done), content_type="text/event-stream")


def sent(server, i=0):
    return server.log[i][0].get_json()


# -- each provider's wire format -------------------------------------------------
def test_deepseek_json(httpserver):
    body = completion({"content": "オースティン", "reasoning_content": "ダラスはテキサス州。"}, usage=USAGE)
    serve_json(httpserver, body)
    req = request("deepseek", {"thinking": True, "temperature": 0.6, "top_k": 20, "max_tokens": 2048})
    raw, = backend("deepseek", httpserver, model="deepseek-reasoner").run([req])
    assert raw.format == "openai.chat.completion"
    assert raw.latency_s is not None and raw.latency_s >= 0 and raw.backend_version.startswith("openai-python ")
    got = sent(httpserver)
    assert got["thinking"] == {"type": "enabled"}
    assert got["temperature"] == 0.6 and got["max_tokens"] == 2048 and got["model"] == "m"
    assert "top_k" not in got  # DeepSeek takes no non-standard sampling
    assert not got.get("stream")
    trace = to_trace(req, raw)
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == ("ダラスはテキサス州。", "オースティン", "reasoning_content")
    assert trace.usage == Usage(21, 120, 100, 141)
    assert trace.backend.name == "deepseek" and trace.params == req.params


def test_deepseek_thinking_disabled_switch(httpserver):
    serve_json(httpserver, completion({"content": "Austin"}))
    backend("deepseek", httpserver).run([request("deepseek", {"thinking": False})])
    assert sent(httpserver)["thinking"] == {"type": "disabled"}


def test_authorization_reaches_server_but_not_the_recording(httpserver):
    serve_json(httpserver, completion({"content": "Austin", "reasoning_content": "r"}))
    req = request("deepseek")
    raw, = backend("deepseek", httpserver).run([req])
    assert httpserver.log[0][0].headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in json.dumps(raw.to_dict())
    assert KEY not in to_trace(req, raw).to_json()


def test_dashscope_sse_streams_when_thinking(httpserver):
    chunks = stream_chunks(["ダラスは", "テキサス州。"], ["オースティン"], usage=USAGE)
    serve_sse(httpserver, chunks)
    req = request("dashscope", {"thinking": True, "thinking_budget": 500})
    raw, = backend("dashscope", httpserver, model="qwen3-max").run([req])
    got = sent(httpserver)
    assert got["enable_thinking"] is True and got["thinking_budget"] == 500
    assert got["stream"] is True and got["stream_options"] == {"include_usage": True}
    assert raw.format == "openai.chat.completion.chunks" and len(raw.payload) == len(chunks)
    trace = to_trace(req, raw)
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == ("ダラスはテキサス州。", "オースティン", "reasoning_content")
    assert trace.usage == Usage(21, 120, 100, 141) and trace.finish_reason == "stop"


def test_dashscope_thinking_off_is_not_streamed(httpserver):
    serve_json(httpserver, completion({"content": "Austin"}, model="qwen3-max"))
    backend("dashscope", httpserver).run([request("dashscope", {"thinking": False})])
    got = sent(httpserver)
    assert got["enable_thinking"] is False and not got.get("stream")


def test_vllm_sse_delta_reasoning(httpserver):
    serve_sse(httpserver, stream_chunks(["Dallas ", "is in Texas."], ["Austin"], field="reasoning", model="Qwen/Qwen3-8B"))
    req = request("vllm", {"thinking": True, "stream": True, "top_k": 20, "min_p": 0.0, "seed": 7})
    raw, = backend("vllm", httpserver).run([req])
    got = sent(httpserver)
    assert got["chat_template_kwargs"] == {"enable_thinking": True}
    assert (got["top_k"], got["min_p"], got["seed"]) == (20, 0.0, 7)
    trace = to_trace(req, raw)
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == ("Dallas is in Texas.", "Austin", "reasoning")
    assert trace.model == "Qwen/Qwen3-8B" and trace.usage == Usage()


def test_llamacpp_tags_in_content(httpserver):
    serve_json(httpserver, completion({"content": "<think>\nDallas is in Texas.\n</think>\n\nAustin"},
                                      timings={"predicted_n": 20}))
    req = request("llamacpp", {"thinking": False})
    trace = to_trace(req, backend("llamacpp", httpserver).run([req])[0])
    assert sent(httpserver)["chat_template_kwargs"] == {"enable_thinking": False}
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == ("Dallas is in Texas.", "Austin", "<think> tags")
    assert trace.extra["timings"] == {"predicted_n": 20}


def test_openrouter_reasoning_details(httpserver):
    details = [{"type": "reasoning.text", "text": "Dallas is in Texas."},
               {"type": "reasoning.encrypted", "data": "opaque"}]
    serve_json(httpserver, completion({"content": "Austin", "reasoning": "Dallas is in Texas.",
                                       "reasoning_details": details}))
    req = request("openrouter", {"thinking": True, "thinking_budget": 1000, "reasoning_effort": "high"})
    trace = to_trace(req, backend("openrouter", httpserver).run([req])[0])
    got = sent(httpserver)
    assert got["reasoning"] == {"enabled": True, "max_tokens": 1000, "effort": "high"}
    assert "reasoning_effort" not in got
    assert trace.reasoning == "Dallas is in Texas." and trace.extra["encrypted_reasoning_items"] == 1


@pytest.mark.parametrize(
    ("name", "params", "expected", "absent"),
    [
        ("sglang", {"thinking": True}, {"chat_template_kwargs": {"enable_thinking": True}, "separate_reasoning": True},
         ["thinking"]),
        ("ollama", {"thinking": False}, {"reasoning_effort": "none"}, ["thinking", "chat_template_kwargs"]),
        ("openai", {"max_tokens": 100, "reasoning_effort": "low", "top_k": 5},
         {"max_completion_tokens": 100, "reasoning_effort": "low"}, ["max_tokens", "top_k"]),
        ("vllm", {"thinking": True, "extra_body": {"chat_template_kwargs": {"enable_thinking": False}}, "custom": 1},
         {"chat_template_kwargs": {"enable_thinking": False}, "custom": 1}, ["extra_body", "thinking"]),
        # a budget and a penalty reach each server under its own names
        ("llamacpp", {"thinking": True, "thinking_budget": 5, "repetition_penalty": 1.3},
         {"chat_template_kwargs": {"enable_thinking": True}, "reasoning_budget_tokens": 5, "repeat_penalty": 1.3},
         ["thinking_budget", "repetition_penalty"]),
        ("vllm", {"thinking_budget": 64, "repetition_penalty": 1.1},
         {"thinking_token_budget": 64, "repetition_penalty": 1.1}, ["thinking_budget", "chat_template_kwargs"]),
        ("sglang", {"thinking": True, "thinking_budget": 64},
         {"chat_template_kwargs": {"enable_thinking": True, "thinking_budget": 64}, "separate_reasoning": True},
         ["thinking_budget"]),
        ("dashscope", {"thinking": True, "thinking_budget": 64, "stream": False},
         {"enable_thinking": True, "thinking_budget": 64}, []),
    ],
)
def test_thinking_switch_per_provider(httpserver, name, params, expected, absent):
    serve_json(httpserver, completion({"content": "Austin"}))
    backend(name, httpserver).run([request(name, params)])
    got = sent(httpserver)
    assert {k: got.get(k) for k in expected} == expected
    assert [k for k in absent if k in got] == []


def test_the_params_table_names_who_honours_a_budget():
    from pytest_reasoning.settings.table import request_params

    assert request_params()["thinking_budget"][1] == ("dashscope", "vllm", "sglang", "llamacpp", "openrouter")
    assert "deepseek" not in request_params()["repetition_penalty"][1]


def test_build_request_never_contains_none():
    kw = build_request("vllm", "m", list(MESSAGES), {"temperature": None, "thinking": None})
    assert kw == {"model": "m", "messages": list(MESSAGES), "stream": False}


# -- retries and failures ----------------------------------------------------------
def test_429_with_retry_after_then_success(httpserver):
    httpserver.expect_oneshot_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "rate limited"}}, status=429, headers={"Retry-After": "0.05"})
    serve_json(httpserver, completion({"content": "Austin"}))
    raw, = backend("vllm", httpserver, max_retries=2).run([request("vllm")])
    assert raw.payload["choices"][0]["message"]["content"] == "Austin"
    assert [resp.status_code for _, resp in httpserver.log] == [429, 200]


def test_persistent_500_is_a_backend_error_after_retries(httpserver):
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "engine crashed"}}, status=500, headers={"Retry-After": "0.01"})
    with pytest.raises(BackendError) as info:
        backend("vllm", httpserver, max_retries=2).run([request("vllm")])
    message = str(info.value)
    assert f"the vllm server at {httpserver.url_for('/v1')} answered HTTP 500 after 2 retries" in message
    assert "\n" not in message
    assert len(httpserver.log) == 3


def test_persistent_429_says_lower_concurrency(httpserver):
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "0.01"})
    with pytest.raises(BackendError, match=r"still rate-limits \(429\) after 1 retries; lower --reasoning-concurrency"):
        backend("vllm", httpserver, max_retries=1).run([request("vllm")])


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, "rejected the API key (401); check $DEEPSEEK_API_KEY or --reasoning-api-key"),
        (404, "answered 404 ("),
    ],
)
def test_client_errors_explained_and_key_redacted(httpserver, status, message):
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": f"bad request with key {KEY}"}}, status=status)
    with pytest.raises(BackendError) as info:
        backend("deepseek", httpserver).run([request("deepseek")])
    assert message in str(info.value)
    assert KEY not in str(info.value)


@pytest.mark.parametrize(("body", "says"), [
    # vLLM: the model is not served
    ({"error": {"message": "The model `m` does not exist.", "type": "NotFoundError", "code": 404}},
     "answered 404 for model 'm': Error code: 404 - The model `m` does not exist.; check --reasoning-model"),
    # llama.cpp's answer to a path it does not serve (a base URL without /v1's routes)
    ({"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}},
     "answered 404 (Error code: 404 - File Not Found): it has no {url}/chat/completions; check --reasoning-base-url "
     "(an OpenAI-compatible base URL usually ends in /v1)"),
])
def test_a_404_names_the_model_or_the_path(httpserver, body, says):
    httpserver.expect_request("/v1/chat/completions").respond_with_json(body, status=404)
    b = OpenAIBackend.create("llamacpp", "m", {"base_url": httpserver.url_for("/v1"), "max_retries": 0})
    with pytest.raises(BackendError) as info:
        b.run([request("llamacpp")])
    assert says.format(url=httpserver.url_for("/v1")) in str(info.value)


def test_an_unreachable_server_names_the_variable_its_url_came_from(monkeypatch):
    url = f"http://127.0.0.1:{_unused_port()}/v1"
    monkeypatch.setenv("LLAMACPP_BASE_URL", url)
    b = OpenAIBackend.create("llamacpp", "m", {"timeout": 2, "max_retries": 0})
    with pytest.raises(BackendError) as info:
        b.run([request("llamacpp")])
    assert str(info.value).endswith("is it running? check $LLAMACPP_BASE_URL or set --reasoning-base-url")


def _unused_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_cannot_reach():
    url = f"http://127.0.0.1:{_unused_port()}/v1"
    b = OpenAIBackend("vllm", "m", base_url=url, timeout=2, max_retries=0)
    with pytest.raises(BackendError) as info:
        b.run([request("vllm")])
    assert str(info.value).startswith(f"cannot reach the vllm server at {url}")
    assert "set --reasoning-base-url" in str(info.value)


def test_timeout_is_explained(httpserver):
    def slow(_request):
        time.sleep(1.0)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(slow)
    with pytest.raises(BackendError, match=r"did not answer within 0.2 s; raise --reasoning-timeout"):
        backend("vllm", httpserver, timeout=0.2).run([request("vllm")])
    # let the slow handler finish here: logged after this test, it would land in the next one's log
    deadline = time.monotonic() + 5
    while not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.05)


def test_malformed_json(httpserver):
    httpserver.expect_request("/v1/chat/completions").respond_with_data("{not json", content_type="application/json")
    with pytest.raises(BackendError, match="the vllm server at .* sent a malformed response"):
        backend("vllm", httpserver).run([request("vllm")])


def test_answer_without_choices(httpserver):
    serve_json(httpserver, {"id": "x", "object": "chat.completion", "model": "m", "choices": []})
    with pytest.raises(BackendError, match="answered without choices"):
        backend("vllm", httpserver).run([request("vllm")])


def test_sse_cut_before_finish_reason(httpserver):
    serve_sse(httpserver, stream_chunks(["Dallas is"], [], finish_reason=None), done=False)
    with pytest.raises(BackendError) as info:
        backend("dashscope", httpserver).run([request("dashscope", {"thinking": True})])
    assert "stream from" in str(info.value) and "ended before a finish_reason (2 chunks; connection cut?); " \
        "nothing was recorded" in str(info.value)


def test_sse_cut_records_nothing_through_the_plugin(pytester, httpserver, monkeypatch):
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    serve_sse(httpserver, stream_chunks(["Dallas is"], [], finish_reason=None), done=False)
    pytester.makepyfile(test_cut="def test_x(reasoning_model):\n    reasoning_model('q', thinking=True)\n")
    result = pytester.runpytest("--reasoning-backend=dashscope", "--reasoning-model=qwen3-max",
                                "--reasoning-record-mode=once", "--reasoning-max-retries=0",
                                f"--reasoning-base-url={httpserver.url_for('/v1')}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ended before a finish_reason*nothing was recorded*"])
    assert not (pytester.path / "cassettes").exists() or not any((pytester.path / "cassettes").iterdir())


@pytest.mark.parametrize(("name", "env"), [("deepseek", "DEEPSEEK_API_KEY"), ("dashscope", "DASHSCOPE_API_KEY"),
                                           ("openrouter", "OPENROUTER_API_KEY"), ("openai", "OPENAI_API_KEY")])
def test_missing_key_for_hosted_provider(name, env):
    with pytest.raises(BackendError, match=rf"no API key for the {name} backend: set \${env} or pass --reasoning-api-key"):
        OpenAIBackend(name, "m")
    with pytest.raises(BackendError, match=rf"\${env}"):
        create_backend(name, "m", {"api_key": None, "base_url": None})


def test_local_servers_need_no_key(httpserver):
    serve_json(httpserver, completion({"content": "Austin"}))
    b = OpenAIBackend("vllm", "m", base_url=httpserver.url_for("/v1"), timeout=5, max_retries=0)
    assert b.run([request("vllm")])[0].payload["choices"][0]["message"]["content"] == "Austin"


# -- concurrency -----------------------------------------------------------------

def test_concurrent_requests_come_back_in_order(quiet_server):
    delays = [0.3, 0.2, 0.1, 0.0]
    all_in_flight = threading.Barrier(4, timeout=10)  # passes only if the 4 calls are in flight together

    def handler(req):
        n = int(req.get_json()["messages"][0]["content"])
        all_in_flight.wait()
        time.sleep(delays[n])  # later requests answer first
        return Response(json.dumps(completion({"content": f"answer {n}"})), content_type="application/json")

    quiet_server.expect_request("/v1/chat/completions").respond_with_handler(handler)
    b = backend("vllm", quiet_server, concurrency=4)
    raws = b.run([request("vllm", content=str(n)) for n in range(4)])
    assert [r.payload["choices"][0]["message"]["content"] for r in raws] == [f"answer {n}" for n in range(4)]
    arrival = [req.get_json()["messages"][0]["content"] for req, _ in quiet_server.log]
    assert sorted(arrival) == ["0", "1", "2", "3"]
    assert not all_in_flight.broken


def test_first_failure_in_request_order(httpserver):
    def handler(req):
        n = int(req.get_json()["messages"][0]["content"])
        if n == 1:
            return Response(json.dumps({"error": {"message": "boom"}}), status=400, content_type="application/json")
        return Response(json.dumps(completion({"content": "ok"})), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    with pytest.raises(BackendError, match="answered HTTP 400"):
        backend("vllm", httpserver, concurrency=3).run([request("vllm", content=str(n)) for n in range(3)])
