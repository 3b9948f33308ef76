"""The ``llamacpp`` backend on responses a real llama-server sent (``tests/data/llamacpp``,
its README says how they were made): each served whole over local HTTP to the real
``openai`` client, body and stream.

Checked against the server's own fields: the plugin sends the fields that produced the
response; the reasoning is ``reasoning_content`` (or the text between ``<think>`` tags when
the server leaves them in), the answer is ``content``; no text the server sent is lost; the
stream gives the trace the body gives; finish reason, truncation and usage as reported.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pytest_reasoning import Detour, Usage, check_detours
from pytest_reasoning.backends import Request, to_trace
from pytest_reasoning.backends.openai_api import OpenAIBackend

DATA = Path(__file__).parent / "data" / "llamacpp"
REQUESTS = json.loads((DATA / "requests.json").read_text(encoding="utf-8"))
SPORTS = Detour("sports", terms=["NFL", "Cowboys"])
#: The plugin's params for each recorded request (what a test would pass).
PARAMS = {
    "deepseek-thinking": {"thinking": True},
    "deepseek-no-thinking": {"thinking": False},
    "deepseek-cut": {"thinking": True, "max_tokens": 30},
    "deepseek-budget5": {"thinking": True, "thinking_budget": 5},
    "none-thinking": {"thinking": True},
    "server-budget0": {"thinking": True},
}


def run(httpserver, name: str, stream: bool):
    """The trace of recording ``name`` served by a local HTTP server, and the request
    body the backend sent."""
    raw = (DATA / f"{name}.{'sse' if stream else 'json'}").read_bytes()
    httpserver.expect_request("/v1/chat/completions").respond_with_data(
        raw, content_type="text/event-stream" if stream else "application/json")
    recorded = REQUESTS[f"{name}.{'sse' if stream else 'json'}"]["request"]
    params = {"seed": 1, "max_tokens": 300, **PARAMS[name], "stream": stream}
    request = Request("llamacpp", "tiny-qwen3", tuple(recorded["messages"]), params)
    backend = OpenAIBackend("llamacpp", "tiny-qwen3", base_url=httpserver.url_for("/v1"), max_retries=0)
    (response,) = backend.run([request])
    sent = json.loads(httpserver.log[-1][0].get_data())
    httpserver.clear()
    return to_trace(request, response), sent, recorded


def server_text(name: str) -> tuple[str, str]:
    """``(reasoning_content, content)`` as the server's body gave them."""
    message = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))["choices"][0]["message"]
    return message.get("reasoning_content") or "", message.get("content") or ""


def words(text: str) -> list[str]:
    return re.sub(r"</?think>", " ", text).split()


@pytest.mark.parametrize("name", list(PARAMS))
def test_each_response_reads_as_the_server_split_it(httpserver, name):
    body, sent, recorded = run(httpserver, name, stream=False)
    stream, sent_stream, _ = run(httpserver, name, stream=True)
    # the plugin sends what the recorded request sent (the fields that made these bytes)
    assert {k: sent[k] for k in recorded} == recorded
    assert {k: v for k, v in sent_stream.items() if k != "stream_options"} == {**recorded, "stream": True}
    assert (stream.reasoning, stream.answer, stream.finish_reason, stream.usage) == \
        (body.reasoning, body.answer, body.finish_reason, body.usage)
    reasoning, content = server_text(name)
    assert words(body.reasoning) + words(body.answer) == words(reasoning) + words(content)  # no text lost
    if reasoning:
        assert (body.reasoning, body.answer) == (reasoning.strip(), content.strip())
        assert body.reasoning_source == "reasoning_content"


@pytest.mark.parametrize(("name", "finish", "truncated", "usage"), [
    ("deepseek-thinking", "stop", False, Usage(43, 58, None, 101)),
    ("deepseek-no-thinking", "stop", False, Usage(49, 15, None, 64)),
    ("deepseek-cut", "length", True, Usage(43, 30, None, 73)),
    ("server-budget0", "stop", False, Usage(43, 86, None, 129)),
])
def test_finish_truncation_and_usage(httpserver, name, finish, truncated, usage):
    trace, _, _ = run(httpserver, name, stream=True)
    assert (trace.finish_reason, trace.truncated, trace.usage) == (finish, truncated, usage)
    assert trace.model == "tiny-qwen3" and trace.extra["system_fingerprint"] == "b1-0c1e570"


def test_tags_in_content_give_the_reasoning_the_field_gives(httpserver):
    field, _, _ = run(httpserver, "deepseek-thinking", stream=True)
    tagged, _, _ = run(httpserver, "none-thinking", stream=True)  # --reasoning-format none, same seed
    assert (tagged.reasoning, tagged.answer) == (field.reasoning, field.answer)
    assert tagged.reasoning_source == "<think> tags"
    off, _, _ = run(httpserver, "deepseek-no-thinking", stream=False)
    assert (off.reasoning, off.reasoning_source) == ("", None)
    assert off.answer == "The capital of Texas, the state that contains Dallas, is Austin."


def test_a_budget_ends_the_reasoning(httpserver):
    budget, sent, _ = run(httpserver, "deepseek-budget5", stream=False)
    assert sent["reasoning_budget_tokens"] == 5
    assert (budget.reasoning, budget.answer) == ("The user asks about",
                                                 "The capital of Texas, the state that contains Dallas, is Austin.")
    # --reasoning-budget 0 closes the thinking at once; the model reasons on in the
    # content up to its own </think>, and that text, the NFL detour in it, is reasoning
    zero, _, _ = run(httpserver, "server-budget0", stream=True)
    assert zero.reasoning_source == "<think> tags" and zero.answer.startswith("The capital of Texas")
    assert [hit.text for hit in check_detours(zero, SPORTS)["sports"]] == ["Cowboys", "NFL"]
