"""No text of a response is lost: text split out of think tags in the content continues
the reasoning field's text, in bodies and in streams alike.

The shape: ``llama-server --reasoning-budget 3`` (reasoning format ``deepseek``) ends
the ``reasoning_content`` after the budget, mid-sentence, and sends the rest of the
thinking in ``content``, up to the ``</think>`` the model wrote.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_reasoning import trace_from_openai, trace_from_openai_stream
from pytest_reasoning.backends import Request, to_trace
from pytest_reasoning.backends.openai_api import OpenAIBackend
from wire import chunk, completion, sse

FIELD = "The user"
REST = "、 Texas, where Dallas is. The capital of Texas is Austin. So the answer is Austin.\n</think>\n\n"
ANSWER = "The capital of Texas, the state that contains Dallas, is Austin."
REASONING = "The user、 Texas, where Dallas is. The capital of Texas is Austin. So the answer is Austin."


def llamacpp_body():
    return completion({"reasoning_content": FIELD, "content": REST + ANSWER}, model="qwen3-8b",
                      timings={"predicted_n": 41})


def llamacpp_chunks():
    """As llama-server streams it: reasoning deltas while the budget lasts, then content
    deltas holding the rest of the thinking, the closing tag and the answer."""
    pieces = ["、", " Texas, where Dallas is.", " The capital of Texas is Austin.", " So the answer is Austin.",
              "\n", "</think>", "\n\n", "The capital of Texas,", " the state that contains Dallas,", " is Austin."]
    out = [chunk({"role": "assistant", "content": None}, model="qwen3-8b")]
    out += [chunk({"reasoning_content": p}, model="qwen3-8b") for p in ("The", " user")]
    out += [chunk({"content": p}, model="qwen3-8b") for p in pieces]
    return out + [chunk({}, finish_reason="stop", model="qwen3-8b")]


def test_llamacpp_reasoning_budget_body_keeps_the_text_before_the_closing_tag():
    trace = trace_from_openai(llamacpp_body())
    assert trace.reasoning == REASONING
    assert trace.answer == ANSWER
    assert trace.reasoning_source == "reasoning_content"


def test_llamacpp_reasoning_budget_stream_keeps_the_text_before_the_closing_tag():
    for given_as in (llamacpp_chunks(), sse(llamacpp_chunks())):
        trace = trace_from_openai_stream(given_as)
        assert (trace.reasoning, trace.answer, trace.reasoning_source) == (REASONING, ANSWER, "reasoning_content")


def test_llamacpp_reasoning_budget_through_the_backend(httpserver):
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_data(
        sse(llamacpp_chunks()), content_type="text/event-stream")
    request = Request("llamacpp", "qwen3-8b", ({"role": "user", "content": "capital of the state with Dallas?"},),
                      {"stream": True, "thinking": True})
    raw, = OpenAIBackend("llamacpp", "qwen3-8b", base_url=httpserver.url_for("/v1"), max_retries=0).run([request])
    trace = to_trace(request, raw)
    assert (trace.reasoning, trace.answer) == (REASONING, ANSWER)


def test_a_tagged_block_of_its_own_becomes_a_paragraph_and_a_repeat_is_kept_once():
    other = trace_from_openai(completion({"reasoning_content": "Dallas is in Texas.",
                                          "content": "<think>Its capital is Austin.</think>Austin"}))
    assert (other.reasoning, other.answer) == ("Dallas is in Texas.\n\nIts capital is Austin.", "Austin")
    # llama.cpp's deepseek-legacy format: the same reasoning in the field and in tags
    legacy = trace_from_openai(completion({"reasoning_content": "Dallas is in Texas.",
                                           "content": "<think>\nDallas is in Texas.\n</think>\n\nAustin"}))
    assert (legacy.reasoning, legacy.answer) == ("Dallas is in Texas.", "Austin")


def test_a_field_and_a_block_cut_before_its_closing_tag():
    trace = trace_from_openai(completion({"reasoning": "Dallas is in Texas.", "content": "Austin<think>or is it"},
                                         finish_reason="length"))
    assert (trace.reasoning, trace.answer, trace.truncated) == ("Dallas is in Texas.\n\nor is it", "Austin", True)


def test_thinking_parts_that_differ_from_the_field_are_kept():
    body = completion({"reasoning_content": "Dallas is in Texas.",
                       "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "Capital: Austin."}]},
                                   {"type": "text", "text": "Austin"}]})
    trace = trace_from_openai(body)
    assert (trace.reasoning, trace.answer) == ("Dallas is in Texas.\n\nCapital: Austin.", "Austin")


# -- the property: every character that is not a tag or whitespace is kept ----------------
# The field's and the content's letters differ, so no draw makes the content repeat the field.
FIELD_TEXT = st.lists(st.sampled_from(["a", "b", " ", "\n", "。", "テキサス", "<think>", "</think>"]),
                      max_size=8).map("".join)
CONTENT_TEXT = st.lists(st.sampled_from(["x", "y", " ", "\n\n", ".", "オースティン", "é", "<think>", "</think>"]),
                        max_size=10).map("".join)
TAGS = ("<think>", "</think>")


def letters(text: str) -> Counter:
    for tag in TAGS:
        text = text.replace(tag, " ")
    return Counter(c for c in text if not c.isspace())


def pieces(data, text: str) -> list[str]:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=4)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


@settings(max_examples=300, deadline=None)
@given(st.data(), st.sampled_from(["reasoning_content", "reasoning"]), FIELD_TEXT, CONTENT_TEXT,
       st.sampled_from(["stop", "length"]))
def test_every_character_of_field_and_content_ends_up_in_reasoning_or_answer(data, field, reasoning, content, finish):
    body = trace_from_openai(completion({field: reasoning, "content": content}, finish_reason=finish))
    chunks = [chunk({field: p}) for p in pieces(data, reasoning)]
    chunks += [chunk({"content": p}) for p in pieces(data, content)]
    streamed = trace_from_openai_stream([*chunks, chunk({}, finish_reason=finish)])
    for trace in (body, streamed):
        assert letters(trace.reasoning) + letters(trace.answer) == letters(reasoning) + letters(content)
        assert not any(tag in trace.reasoning + trace.answer for tag in TAGS)
    assert (streamed.reasoning, streamed.answer) == (body.reasoning, body.answer)
