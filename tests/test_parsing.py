"""trace_from_openai / trace_from_openai_stream on every backend shape of the reference
table, as plain dicts and as real ``openai`` objects, and every parser pitfall."""

from __future__ import annotations

import json

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from pytest_reasoning import BackendInfo, Trace, Usage, trace_from_openai, trace_from_openai_stream
from wire import USAGE, chunk, completion, stream_chunks


def as_object(body):
    """The body as the openai client returns it: ``construct`` keeps unknown fields and
    does not reject unknown ``finish_reason`` values (like the client)."""
    return ChatCompletion.construct(**body)


def as_chunks(chunks):
    return [ChatCompletionChunk.construct(**c) for c in chunks]


FORMS = [pytest.param(lambda b: b, id="dict"), pytest.param(as_object, id="openai-object")]
STREAM_FORMS = [pytest.param(lambda cs: cs, id="dicts"), pytest.param(as_chunks, id="openai-chunks")]


# -- one shape per backend -------------------------------------------------------
@pytest.mark.parametrize("form", FORMS)
def test_deepseek_reasoning_content(form):
    body = completion({"content": "オースティンです。", "reasoning_content": "ダラスはテキサス州にある。"}, usage=USAGE)
    trace = trace_from_openai(form(body), messages=[{"role": "user", "content": "q"}], params={"thinking": True},
                              backend="deepseek", latency_s=1.5)
    assert trace.reasoning == "ダラスはテキサス州にある。"
    assert trace.answer == "オースティンです。"
    assert trace.reasoning_source == "reasoning_content"
    assert trace.model == "deepseek-reasoner"
    assert trace.backend == BackendInfo("deepseek")
    assert trace.usage == Usage(21, 120, 100, 141)
    assert (trace.finish_reason, trace.truncated, trace.latency_s) == ("stop", False, 1.5)
    assert trace.messages == [{"role": "user", "content": "q"}] and trace.params == {"thinking": True}


def test_real_validated_openai_object():
    body = completion({"content": "Austin", "reasoning_content": "Texas."}, usage=USAGE)
    trace = trace_from_openai(ChatCompletion.model_validate(body))
    assert (trace.reasoning, trace.answer, trace.usage.reasoning_tokens) == ("Texas.", "Austin", 100)


@pytest.mark.parametrize("form", FORMS)
def test_vllm_new_reasoning_field(form):
    trace = trace_from_openai(form(completion({"content": "Austin", "reasoning": "Dallas -> Texas."}, model="Qwen/Qwen3-8B")))
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == ("Dallas -> Texas.", "Austin", "reasoning")
    assert trace.model == "Qwen/Qwen3-8B"


def test_vllm_transitional_both_fields_not_duplicated():
    trace = trace_from_openai(completion({"content": "A", "reasoning": "same", "reasoning_content": "same"}))
    assert trace.reasoning == "same" and trace.reasoning_source == "reasoning_content"


@pytest.mark.parametrize("form", FORMS)
def test_sglang_top_level_reasoning_tokens_and_abort(form):
    usage = {"prompt_tokens": 5, "completion_tokens": 50, "total_tokens": 55, "reasoning_tokens": 40}
    body = completion({"content": "", "reasoning_content": "Dallas is"}, finish_reason="abort", usage=usage)
    trace = trace_from_openai(form(body))
    assert trace.usage == Usage(5, 50, 40, 55)
    assert trace.finish_reason == "abort"
    assert trace.truncated is False  # aborted, not cut by a token limit


@pytest.mark.parametrize("form", FORMS)
def test_llamacpp_deepseek_format_with_timings(form):
    timings = {"prompt_n": 12, "predicted_n": 80, "predicted_per_second": 41.2}
    body = completion({"content": "Austin", "reasoning_content": "Texas."}, timings=timings, model="qwen3-8b.gguf",
                      usage={"prompt_tokens": 12, "completion_tokens": 80, "total_tokens": 92})
    trace = trace_from_openai(form(body))
    assert trace.extra["timings"] == timings
    assert trace.usage == Usage(12, 80, None, 92)  # llama.cpp reports no reasoning tokens: None, not invented


@pytest.mark.parametrize("form", FORMS)
def test_llamacpp_reasoning_format_none_tags_in_content(form):
    trace = trace_from_openai(form(completion({"content": "<think>\nDallas is in Texas.\n</think>\n\nAustin"})))
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == ("Dallas is in Texas.", "Austin", "<think> tags")


def test_llamacpp_deepseek_legacy_both_field_and_tags():
    body = completion({"content": "<think>Dallas is in Texas.</think>Austin", "reasoning_content": "Dallas is in Texas."})
    trace = trace_from_openai(body)
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == ("Dallas is in Texas.", "Austin", "reasoning_content")


@pytest.mark.parametrize("form", FORMS)
def test_ollama_v1_reasoning(form):
    trace = trace_from_openai(form(completion({"content": "Austin", "reasoning": "Texas."}, model="qwen3:8b")))
    assert (trace.reasoning_source, trace.model, trace.usage) == ("reasoning", "qwen3:8b", Usage())


def test_ollama_native_thinking():
    body = {"model": "qwen3:8b", "message": {"role": "assistant", "content": "Austin", "thinking": "Texas."},
            "done_reason": "stop", "done": True}
    trace = trace_from_openai(body)
    assert (trace.reasoning, trace.answer, trace.reasoning_source, trace.finish_reason) == (
        "Texas.", "Austin", "thinking", "stop")


@pytest.mark.parametrize("form", FORMS)
def test_openrouter_reasoning_details_text(form):
    details = [{"type": "reasoning.text", "text": "Dallas is in Texas. ", "format": "unknown", "index": 0},
               {"type": "reasoning.text", "text": "Capital: Austin.", "index": 1}]
    trace = trace_from_openai(form(completion({"content": "Austin", "reasoning_details": details})))
    assert (trace.reasoning, trace.reasoning_source) == ("Dallas is in Texas. Capital: Austin.", "reasoning_details")


def test_openrouter_reasoning_details_summary_and_encrypted():
    details = [{"type": "reasoning.summary", "summary": "Looked up the state."},
               {"type": "reasoning.encrypted", "data": "gAAAAB..."}]
    trace = trace_from_openai(completion({"content": "Austin", "reasoning_details": details}))
    assert trace.reasoning == "Looked up the state."
    assert trace.extra["encrypted_reasoning_items"] == 1


def test_openrouter_encrypted_only_has_no_reasoning_text():
    trace = trace_from_openai(completion({"content": "Austin", "reasoning_details": [
        {"type": "reasoning.encrypted", "data": "opaque"}]}))
    assert (trace.reasoning, trace.reasoning_source, trace.extra) == ("", None, {"encrypted_reasoning_items": 1})


@pytest.mark.parametrize("form", FORMS)
def test_openai_hidden_reasoning_only_token_count(form):
    usage = {"prompt_tokens": 30, "completion_tokens": 500, "total_tokens": 530,
             "completion_tokens_details": {"reasoning_tokens": 448}}
    trace = trace_from_openai(form(completion({"content": "Austin"}, model="o4-mini", usage=usage)))
    assert (trace.reasoning, trace.reasoning_source) == ("", None)
    assert trace.usage.reasoning_tokens == 448


RESPONSES_BODY = {
    "id": "resp_1", "object": "response", "created_at": 1, "model": "o4-mini", "status": "completed",
    "output": [
        {"id": "rs_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": "Dallas is in Texas."}]},
        {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "Austin", "annotations": []}]},
    ],
    "usage": {"input_tokens": 10, "output_tokens": 60, "total_tokens": 70,
              "output_tokens_details": {"reasoning_tokens": 50}, "input_tokens_details": {"cached_tokens": 0}},
    "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
}


@pytest.mark.parametrize("form", [pytest.param(lambda b: b, id="dict"),
                                  pytest.param(lambda b: Response.construct(**b), id="openai-object")])
def test_responses_api_output_items(form):
    trace = trace_from_openai(form(RESPONSES_BODY))
    assert (trace.reasoning, trace.answer) == ("Dallas is in Texas.", "Austin")
    assert trace.reasoning_source == "responses reasoning items"
    assert trace.usage == Usage(10, 60, 50, 70)


def test_responses_api_incomplete_is_truncated():
    body = {**RESPONSES_BODY, "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"},
            "output": RESPONSES_BODY["output"][:1]}
    trace = trace_from_openai(body)
    assert (trace.finish_reason, trace.truncated, trace.answer) == ("max_output_tokens", True, "")


def test_typed_content_parts():
    content = [{"type": "thinking", "thinking": "Dallas is in Texas."}, {"type": "text", "text": "Austin"}]
    trace = trace_from_openai(completion({"content": content}))
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == (
        "Dallas is in Texas.", "Austin", "content thinking parts")


# -- pitfalls ----------------------------------------------------------------------
def test_missing_opening_tag_in_content():
    trace = trace_from_openai(completion({"content": "Dallas is in Texas.\n</think>\n\nAustin"}))
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == ("Dallas is in Texas.", "Austin", "<think> tags")


def test_stray_tags_removed_from_answer_and_field():
    trace = trace_from_openai(completion({"content": "</think>Austin", "reasoning_content": "<think>Texas.</think>"}))
    assert (trace.reasoning, trace.answer) == ("Texas.", "Austin")


def test_truncated_inside_thinking_text_in_reasoning_field():
    trace = trace_from_openai(completion({"content": None, "reasoning_content": "Dallas is in"}, finish_reason="length"))
    assert (trace.reasoning, trace.answer, trace.truncated, trace.finish_reason) == ("Dallas is in", "", True, "length")


def test_truncated_inside_thinking_text_in_content():
    trace = trace_from_openai(completion({"content": "<think>\nDallas is in"}, finish_reason="length"))
    assert (trace.reasoning, trace.answer, trace.truncated) == ("Dallas is in", "", True)
    assert trace.reasoning_source == "<think> tags"


@pytest.mark.parametrize(
    "message",
    [
        pytest.param({"content": "<think>\n\n</think>\n\nAustin"}, id="empty-tags"),
        pytest.param({"content": "Austin"}, id="missing-field"),
        pytest.param({"content": "Austin", "reasoning_content": None}, id="none-field"),
        pytest.param({"content": "Austin", "reasoning_content": ""}, id="empty-field"),
        pytest.param({"content": "Austin", "reasoning_content": "  \n"}, id="whitespace-field"),
    ],
)
def test_thinking_disabled(message):
    trace = trace_from_openai(completion(message))
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == ("", "Austin", None)


@pytest.mark.parametrize("reason", ["abort", "content_filter", "tool_calls", "some_new_reason"])
def test_unknown_finish_reasons_pass_through(reason):
    trace = trace_from_openai(as_object(completion({"content": "A"}, finish_reason=reason)))
    assert (trace.finish_reason, trace.truncated) == (reason, False)


def test_usage_none_when_not_reported():
    trace = trace_from_openai(completion({"content": "A"}))
    assert trace.usage == Usage(None, None, None, None)


def test_not_a_completion_is_a_value_error():
    with pytest.raises(ValueError, match="the response is an error, not a chat completion: bad key"):
        trace_from_openai({"error": {"message": "bad key"}})
    with pytest.raises(ValueError, match="no 'choices'"):
        trace_from_openai({"id": "x", "object": "list"})
    with pytest.raises(ValueError, match="response is not JSON"):
        trace_from_openai("oops")
    with pytest.raises(ValueError, match="expected a chat completion"):
        trace_from_openai(42)


# -- streams ---------------------------------------------------------------------
@pytest.mark.parametrize("form", STREAM_FORMS)
def test_dashscope_stream_reasoning_content(form):
    chunks = stream_chunks(["ダラスは", "テキサス州。"], ["オース", "ティン"], usage=USAGE)
    trace = trace_from_openai_stream(form(chunks), backend="dashscope")
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == ("ダラスはテキサス州。", "オースティン", "reasoning_content")
    assert trace.usage == Usage(21, 120, 100, 141)  # from the usage-only chunk with empty choices
    assert (trace.finish_reason, trace.truncated, trace.model) == ("stop", False, "qwen3-max")


@pytest.mark.parametrize("form", STREAM_FORMS)
def test_vllm_stream_delta_reasoning(form):
    trace = trace_from_openai_stream(form(stream_chunks(["Dallas ", "is in Texas."], ["Austin"], field="reasoning")))
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == ("Dallas is in Texas.", "Austin", "reasoning")
    assert trace.usage == Usage()


def test_stream_interleaved_deltas_and_none_content():
    chunks = [chunk({"reasoning_content": "a"}), chunk({"content": "X", "reasoning_content": None}),
              chunk({"reasoning_content": "b", "content": None}), chunk({"content": "Y"}),
              chunk({}, finish_reason="stop"), "[DONE]"]
    trace = trace_from_openai_stream(chunks)
    assert (trace.reasoning, trace.answer) == ("ab", "XY")


def test_stream_tags_in_content_deltas():
    chunks = [chunk({"content": "<thi"}), chunk({"content": "nk>Texas"}), chunk({"content": ".</think>\n\nAus"}),
              chunk({"content": "tin"}, finish_reason="stop")]
    trace = trace_from_openai_stream(chunks)
    assert (trace.reasoning, trace.answer, trace.reasoning_source) == ("Texas.", "Austin", "<think> tags")


def test_stream_openrouter_reasoning_details_deltas():
    chunks = [chunk({"reasoning_details": [{"type": "reasoning.text", "text": "Dallas "}]}),
              chunk({"reasoning_details": [{"type": "reasoning.text", "text": "Texas."}]}),
              chunk({"content": "Austin"}, finish_reason="stop")]
    trace = trace_from_openai_stream(chunks)
    assert (trace.reasoning, trace.reasoning_source) == ("Dallas Texas.", "reasoning_details")


def test_stream_truncated_inside_thinking():
    trace = trace_from_openai_stream(stream_chunks(["Dallas is"], [], finish_reason="length"))
    assert (trace.reasoning, trace.answer, trace.truncated, trace.finish_reason) == ("Dallas is", "", True, "length")


def test_stream_without_finish_reason_is_truncated():
    trace = trace_from_openai_stream(stream_chunks(["Dallas is"], [], finish_reason=None))
    assert (trace.finish_reason, trace.truncated) == (None, True)


def test_stream_unknown_finish_reason_and_llamacpp_timings():
    chunks = stream_chunks(["r"], ["a"], finish_reason="abort")
    chunks[-1]["timings"] = {"predicted_n": 3}
    trace = trace_from_openai_stream(as_chunks(chunks))
    assert (trace.finish_reason, trace.truncated, trace.extra["timings"]) == ("abort", False, {"predicted_n": 3})


def test_stream_of_non_chunks_is_a_value_error():
    with pytest.raises(ValueError, match="expected stream chunks"):
        trace_from_openai_stream([42])


def test_empty_stream_is_not_marked_truncated():
    trace = trace_from_openai_stream([])
    assert (trace.reasoning, trace.answer, trace.truncated) == ("", "", False)


# -- JSON round trip ---------------------------------------------------------------
def test_trace_json_round_trip_lossless():
    trace = trace_from_openai(
        completion({"content": "オースティン 🤠", "reasoning_content": "Café\u0301 ダラス—テキサス « ok » עברית"}, usage=USAGE,
                   timings={"predicted_n": 1}),
        messages=[{"role": "user", "content": "ダラス？"}], params={"temperature": 0.6, "thinking": True},
        backend=BackendInfo("deepseek", "openai-python 1.0"), latency_s=0.25,
    )
    text = trace.to_json()
    assert "オースティン" in text and "\\u" not in text  # UTF-8, not escaped
    again = Trace.from_json(text)
    assert again == trace
    assert again.to_dict() == trace.to_dict()
    assert Trace.from_json(text.encode("utf-8")) == trace


def test_trace_json_round_trip_none_usage():
    trace = Trace(reasoning="", answer="A", usage=Usage())
    again = Trace.from_json(trace.to_json())
    assert again == trace and again.usage == Usage(None, None, None, None)
    assert json.loads(trace.to_json())["usage"] == {"prompt_tokens": None, "completion_tokens": None,
                                                     "reasoning_tokens": None, "total_tokens": None}


def test_trace_from_json_rejects_unknown_fields():
    data = Trace(answer="A").to_dict()
    data["surprise"] = 1
    with pytest.raises(ValueError, match=r"unknown trace field\(s\) \['surprise'\]"):
        Trace.from_dict(data)
    with pytest.raises(ValueError, match="must be a JSON object"):
        Trace.from_json("[1, 2]")
    with pytest.raises(ValueError):
        Trace.from_json("{not json")
