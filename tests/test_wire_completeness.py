"""Whether a response is complete: a stream that ends with a usage chunk (and
``[DONE]``) but never sends a finish reason is complete (Snowflake Cortex streams this
way); a stream cut before its end is not; a reply whose reasoning never closed, with an
empty or ``null`` content and no finish reason, is incomplete, and the assertions say
"no answer: the reasoning never closed"."""

from __future__ import annotations

import pytest

from pytest_reasoning import Trace, assert_answer, assert_reasoning_budget, trace_from_openai, trace_from_openai_stream
from pytest_reasoning.backends import BackendError, Request, to_trace
from pytest_reasoning.backends.openai_api import OpenAIBackend
from pytest_reasoning.wire import stream_ended
from wire import completion, sse

USAGE = {"prompt_tokens": 25, "completion_tokens": 18, "total_tokens": 43}


def cortex_chunks(final_choices: bool):
    """Content deltas with no ``finish_reason`` key at all, then the usage chunk
    (with ``choices: []``, or with one choice whose delta is empty)."""
    base = {"id": "c1c5b2f0", "model": "claude-sonnet-4-5", "created": 1761000000, "object": "chat.completion.chunk"}
    out = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece}}]}
           for piece in ("The capital of Texas", " is Austin.")]
    last = [{"index": 0, "delta": {}}] if final_choices else []
    return [*out, {**base, "choices": last, "usage": USAGE}]


@pytest.mark.parametrize("final_choices", [False, True])
def test_a_stream_ending_with_usage_and_done_is_complete(final_choices):
    chunks = cortex_chunks(final_choices)
    for given_as in (chunks, sse(chunks)):
        trace = trace_from_openai_stream(given_as)
        assert (trace.answer, trace.finish_reason, trace.truncated) == ("The capital of Texas is Austin.", None, False)
        assert trace.usage.total_tokens == 43
    assert stream_ended(chunks) and stream_ended(sse(chunks))


def test_a_stream_cut_before_its_usage_chunk_is_truncated():
    chunks = cortex_chunks(False)[:-1]
    assert not stream_ended(chunks)
    assert trace_from_openai_stream(chunks).truncated is True


def test_usage_in_every_chunk_does_not_make_a_cut_stream_complete():
    """vLLM's continuous usage stats: each chunk holds text and the usage so far."""
    chunks = [{**c, "usage": USAGE} for c in cortex_chunks(False)[:-1]]
    assert not stream_ended(chunks)
    assert trace_from_openai_stream(chunks).truncated is True


def test_the_backend_records_a_stream_that_ended_with_usage(httpserver):
    httpserver.expect_request("/v1/chat/completions").respond_with_data(
        sse(cortex_chunks(False)), content_type="text/event-stream")
    messages = ({"role": "user", "content": "capital of Texas?"},)
    request = Request("vllm", "claude-sonnet-4-5", messages, {"stream": True})
    raw, = OpenAIBackend("vllm", "m", base_url=httpserver.url_for("/v1"), max_retries=0).run([request])
    trace = to_trace(request, raw)
    assert (trace.answer, trace.truncated) == ("The capital of Texas is Austin.", False)


def test_the_backend_still_refuses_a_stream_cut_before_its_end(httpserver):
    httpserver.expect_request("/v1/chat/completions").respond_with_data(
        sse(cortex_chunks(False)[:-1], done=False), content_type="text/event-stream")
    request = Request("vllm", "m", ({"role": "user", "content": "capital of Texas?"},), {"stream": True})
    with pytest.raises(BackendError, match=r"ended before a finish_reason \(2 chunks; connection cut\?\)"):
        OpenAIBackend("vllm", "m", base_url=httpserver.url_for("/v1"), max_retries=0).run([request])


@pytest.mark.parametrize("message", [
    {"reasoning_content": "Dallas is in Texas. The capital of", "content": None},
    {"reasoning_content": "Dallas is in Texas. The capital of", "content": ""},
    {"content": "<think>Dallas is in Texas. The capital of"},
], ids=["field-null-content", "field-empty-content", "open-tag"])
def test_a_body_whose_reasoning_never_closed_is_incomplete(message):
    trace = trace_from_openai(completion(message, finish_reason=None))
    assert (trace.reasoning, trace.answer, trace.finish_reason, trace.truncated) == (
        "Dallas is in Texas. The capital of", "", None, True)
    with pytest.raises(AssertionError, match=r"answer does not contain 'Austin'\n  answer: \(no answer: the "
                                             r"reasoning never closed\)"):
        assert_answer(trace, contains="Austin")
    with pytest.raises(AssertionError, match=r"^no answer: the reasoning never closed \(no finish_reason came"):
        assert_reasoning_budget(trace)
    assert trace.checks.to_dict()["budget"] == {"not truncated": False}


def test_an_answer_without_a_finish_reason_is_complete():
    trace = trace_from_openai(completion({"reasoning_content": "Dallas is in Texas.", "content": "Austin"},
                                         finish_reason=None))
    assert (trace.answer, trace.truncated) == ("Austin", False)
    assert_reasoning_budget(trace)


def test_a_stream_cut_inside_the_reasoning_says_the_reasoning_never_closed():
    chunks = [{"choices": [{"index": 0, "delta": {"reasoning_content": piece}}]} for piece in ("Dallas is", " in")]
    trace = trace_from_openai_stream(chunks)
    with pytest.raises(AssertionError, match="no answer: the reasoning never closed"):
        assert_reasoning_budget(trace)


def test_a_token_limit_inside_the_thinking_keeps_its_own_message():
    trace = Trace(reasoning="Dallas is in", answer="", finish_reason="length", truncated=True)
    with pytest.raises(AssertionError, match=r"truncated \(finish_reason='length'\) inside the thinking"):
        assert_reasoning_budget(trace)
    with pytest.raises(AssertionError, match=r"answer: \(empty answer\)"):
        assert_answer(trace, contains="Austin")
