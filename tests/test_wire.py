"""The wire package's seams: a body and the same content streamed give the same trace,
in every dialect (a body is read as one delta holding the whole message), and the
accumulator's rules for joining deltas, merging usage and a final object that
replaces the deltas before it."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_reasoning import Usage, trace_from_openai, trace_from_openai_stream
from pytest_reasoning.wire.accumulate import Accumulator
from wire import chunk, completion, sse

# Pieces that exercise the reasoning decision too: tags, markup, non-ASCII, blanks.
PIECES = ["a", "b", " ", "\n", ".", "テキサス", "é", "<think>", "</think>", "[THINK]", "[/THINK]", "analysis",
          "assistantfinal", "<|channel|>", "<|message|>"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
FINISH = st.sampled_from(["stop", "length", "abort"])
USAGE = {"prompt_tokens": 7, "completion_tokens": 30, "total_tokens": 37, "completion_tokens_details": {"reasoning_tokens": 20}}


def split(data, text: str) -> list[str]:
    """``text`` cut at up to five drawn places (empty pieces included, as servers send)."""
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=5)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


# -- one body, the same content as a stream --------------------------------------------
@settings(max_examples=150, deadline=None)
@given(st.data(), st.sampled_from(["reasoning_content", "reasoning", "thinking"]), TEXT, TEXT, FINISH)
def test_chat_body_and_stream_give_the_same_trace(data, field, reasoning, answer, finish):
    body = completion({field: reasoning, "content": answer}, finish_reason=finish, usage=USAGE, model="m")
    chunks = [chunk({"role": "assistant", "content": None, field: None}, model="m")]
    chunks += [chunk({field: piece}, model="m") for piece in split(data, reasoning)]
    chunks += [chunk({"content": piece}, model="m") for piece in split(data, answer)]
    chunks += [chunk({}, finish_reason=finish, model="m"), chunk(choices=False, usage=USAGE, model="m")]
    expected = trace_from_openai(body)
    assert trace_from_openai_stream(chunks) == expected
    assert trace_from_openai_stream(sse(chunks)) == expected


PART = st.one_of(
    TEXT.map(lambda t: {"type": "text", "text": t}),
    TEXT.map(lambda t: {"type": "thinking", "thinking": [{"type": "text", "text": t}]}),
)
DETAIL = st.one_of(
    TEXT.map(lambda t: {"type": "reasoning.text", "text": t}),
    TEXT.map(lambda t: {"type": "reasoning.summary", "summary": t}),
    st.just({"type": "reasoning.encrypted", "data": "gAAAA"}),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(PART, max_size=4), st.lists(DETAIL, max_size=4), FINISH)
def test_chat_typed_parts_and_reasoning_details_body_and_stream(parts, details, finish):
    body = completion({"content": parts, "reasoning_details": details}, finish_reason=finish, model="m")
    chunks = [chunk({"content": [part]}, model="m") for part in parts]
    chunks += [chunk({"reasoning_details": [d]}, model="m") for d in details]
    chunks.append(chunk({}, finish_reason=finish, model="m"))
    assert trace_from_openai_stream(chunks) == trace_from_openai(body)


@settings(max_examples=100, deadline=None)
@given(st.data(), TEXT, TEXT, st.sampled_from(["stop", "length"]))
def test_ollama_chat_body_and_ndjson_stream(data, reasoning, answer, finish):
    body = {"model": "qwen3", "message": {"role": "assistant", "thinking": reasoning, "content": answer},
            "done": True, "done_reason": finish, "prompt_eval_count": 12, "eval_count": 40}
    lines = [{"model": "qwen3", "message": {"role": "assistant", "content": "", "thinking": p}, "done": False}
             for p in split(data, reasoning)]
    lines += [{"model": "qwen3", "message": {"role": "assistant", "content": p}, "done": False} for p in split(data, answer)]
    lines.append({"model": "qwen3", "message": {"role": "assistant", "content": ""}, "done": True,
                  "done_reason": finish, "prompt_eval_count": 12, "eval_count": 40})
    assert trace_from_openai_stream(lines) == trace_from_openai(body)


@settings(max_examples=100, deadline=None)
@given(st.data(), TEXT, TEXT)
def test_ollama_generate_body_and_stream(data, reasoning, answer):
    body = {"model": "qwen3", "thinking": reasoning, "response": answer, "done": True, "eval_count": 9}
    lines = [{"model": "qwen3", "thinking": p, "response": "", "done": False} for p in split(data, reasoning)]
    lines += [{"model": "qwen3", "response": p, "done": False} for p in split(data, answer)]
    lines.append({"model": "qwen3", "response": "", "done": True, "eval_count": 9})
    assert trace_from_openai_stream(lines) == trace_from_openai(body)


def _dashscope(reasoning: str, content: str, finish: str, out: int) -> dict:
    return {"request_id": "r", "usage": {"input_tokens": 5, "output_tokens": out, "total_tokens": 5 + out},
            "output": {"choices": [{"finish_reason": finish, "message": {
                "role": "assistant", "reasoning_content": reasoning, "content": content}}]}}


@settings(max_examples=100, deadline=None)
@given(st.data(), TEXT, TEXT, FINISH)
def test_dashscope_native_body_and_incremental_stream(data, reasoning, answer, finish):
    frames = [_dashscope(p, "", "null", 1) for p in split(data, reasoning)]
    frames += [_dashscope("", p, "null", 2) for p in split(data, answer)]
    frames.append(_dashscope("", "", finish, 3))
    assert trace_from_openai_stream(frames) == trace_from_openai(_dashscope(reasoning, answer, finish, 3))


@settings(max_examples=100, deadline=None)
@given(st.data(), TEXT, TEXT, st.sampled_from(["end_turn", "max_tokens"]))
def test_anthropic_body_and_events(data, reasoning, answer, stop):
    body = {"type": "message", "role": "assistant", "model": "deepseek-v4-pro", "stop_reason": stop,
            "content": [{"type": "thinking", "thinking": reasoning}, {"type": "text", "text": answer}],
            "usage": {"input_tokens": 10, "output_tokens": 20}}
    events = [{"type": "message_start", "message": {"model": "deepseek-v4-pro", "content": [],
                                                    "usage": {"input_tokens": 10, "output_tokens": 1}}},
              {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}]
    events += [{"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": p}}
               for p in split(data, reasoning)]
    events += [{"type": "content_block_stop", "index": 0},
               {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}]
    events += [{"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": p}}
               for p in split(data, answer)]
    events += [{"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 20}},
               {"type": "message_stop"}]
    whole, streamed = trace_from_openai(body), trace_from_openai_stream(events)
    assert streamed.usage == Usage(10, 20, None, None)  # message_start and message_delta add up
    # The body's thinking comes as content parts, the stream's as thinking deltas:
    # the same text, named after where it was found.
    assert dataclasses.replace(streamed, reasoning_source=whole.reasoning_source) == whole
    renamed = {"content thinking parts": "thinking"}
    assert streamed.reasoning_source == renamed.get(whole.reasoning_source, whole.reasoning_source)


@settings(max_examples=50, deadline=None)
@given(st.data(), TEXT, TEXT)
def test_responses_final_object_wins_over_its_deltas(data, reasoning, answer):
    body = {"id": "resp_1", "object": "response", "model": "gpt-oss", "status": "completed",
            "output": [{"type": "reasoning", "content": [{"type": "reasoning_text", "text": reasoning}]},
                       {"type": "message", "content": [{"type": "output_text", "text": answer}]}],
            "usage": {"input_tokens": 3, "output_tokens": 9, "output_tokens_details": {"reasoning_tokens": 4}}}
    events = [{"type": "response.created", "response": {"id": "resp_1", "model": "gpt-oss", "output": []}}]
    events += [{"type": "response.reasoning_text.delta", "delta": p} for p in split(data, reasoning)]
    events += [{"type": "response.output_text.delta", "delta": p} for p in split(data, answer)]
    events.append({"type": "response.completed", "response": body})
    assert trace_from_openai_stream(events) == trace_from_openai(body)


# -- the accumulator's rules -----------------------------------------------------------
def _acc_with(*deltas, stream=True):
    acc = Accumulator(stream=stream)
    for delta in deltas:
        acc.add(delta)
    return acc


def test_a_field_sent_once_is_kept_as_sent():
    message = {"reasoning_content": {"content": "kept"}, "content": [{"type": "text", "text": "A"}],
               "reasoning_details": [{"type": "reasoning.encrypted"}], "role": "assistant", "thinking": None}
    assert _acc_with(message).message() == {k: message[k] for k in ("reasoning_content", "content", "reasoning_details")}


def test_deltas_join_texts_and_splice_lists():
    acc = _acc_with({"content": "A", "reasoning_details": [{"text": "r1"}]}, {"content": "B"},
                    {"reasoning_details": [{"text": "r2"}], "content": [{"type": "text", "text": "C"}]})
    assert acc.message() == {"content": ["A", "B", {"type": "text", "text": "C"}],
                             "reasoning_details": [{"text": "r1"}, {"text": "r2"}]}
    assert _acc_with({"reasoning": "a"}, {"reasoning": ""}, {"reasoning": "b"}).message() == {"reasoning": "ab"}


def test_usage_replaces_or_adds_up():
    acc = Accumulator(stream=True)
    acc.envelope({"usage": {"prompt_tokens": 1, "completion_tokens": 2}})
    acc.envelope({"usage": {"completion_tokens": 5}})  # a later usage object replaces
    assert acc.trace(messages=None, params=None, backend=None, latency_s=None).usage == Usage(None, 5, None, None)
    acc.envelope({"usage": {"input_tokens": 4}}, adds=True)  # Anthropic: merged key by key
    assert acc.trace(messages=None, params=None, backend=None, latency_s=None).usage == Usage(4, 5, None, None)
    acc.restart(stream=True)
    acc.envelope({"usage": {"input_tokens": 4, "output_tokens": 1}}, adds=True)
    acc.envelope({"usage": {"output_tokens": 9}}, adds=True)
    assert acc.trace(messages=None, params=None, backend=None, latency_s=None).usage == Usage(4, 9, None, None)


@pytest.mark.parametrize(("where", "usage"), [
    ({"usage": {"prompt_tokens": 1, "completion_tokens": 2}}, Usage(1, 2, None, None)),
    ({"prompt_eval_count": 3, "eval_count": 4}, Usage(3, 4, None, None)),
    ({"x_groq": {"usage": {"prompt_tokens": 5, "completion_tokens": 6}}}, Usage(5, 6, None, None)),
    ({"choices": [{"index": 0, "usage": {"prompt_tokens": 7, "completion_tokens": 8}}]}, Usage(7, 8, None, None)),
    ({"usage": {"prompt_tokens": 1, "reasoning_tokens": 0}}, Usage(1, None, 0, None)),
], ids=["usage", "ollama-counts", "groq", "moonshot-choice", "sglang-top-level"])
def test_usage_is_found_wherever_the_dialect_puts_it(where, usage):
    acc = Accumulator(stream=True)
    acc.envelope(where)
    assert acc.trace(messages=None, params=None, backend=None, latency_s=None).usage == usage


def test_a_body_keeps_envelope_values_as_sent_a_stream_skips_empty_ones():
    body = trace_from_openai(completion({"content": "A"}, model="", system_fingerprint="", timings={}))
    assert (body.model, body.extra) == ("", {"timings": {}, "system_fingerprint": ""})
    streamed = trace_from_openai_stream([{**chunk({"content": "A"}, model=""), "system_fingerprint": ""},
                                         chunk({}, finish_reason="stop", model="m")])
    assert (streamed.model, streamed.extra) == ("m", {})


def test_nothing_after_a_final_responses_object_is_read():
    events = ['data: {"type":"response.output_text.delta","delta":"draft"}',
              'data: {"type":"response.completed","response":{"model":"m","status":"completed","output":'
              '[{"type":"message","content":[{"type":"output_text","text":"final"}]}]}}',
              "data: {not json"]
    trace = trace_from_openai_stream(events)
    assert (trace.answer, trace.finish_reason, trace.truncated) == ("final", "completed", False)
