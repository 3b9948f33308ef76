"""Real response shapes from public bug reports, docs and captures, run through the parsers.

Each fixture keeps the structure and field names exactly as the source shows them;
only the text inside fields is shortened ("..." marks a cut).  Where a fixture is a
variation of a real payload (a field added or changed), the comment says so.  Sources
without a repository and issue number are named by their title.
"""

from __future__ import annotations

import json

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from pytest_reasoning import Usage, split_thinking, trace_from_openai, trace_from_openai_stream


def as_object(body):
    """The body as openai-python returns it (unknown fields kept, not validated)."""
    return ChatCompletion.construct(**body)


FORMS = [pytest.param(lambda b: b, id="dict"), pytest.param(as_object, id="openai-object")]
STREAM_FORMS = [
    pytest.param(lambda cs: cs, id="dicts"),
    pytest.param(lambda cs: [c if c == "[DONE]" else ChatCompletionChunk.construct(**c) for c in cs], id="openai-chunks"),
]


# =====================================================================================
# Non-streamed chat completions
# =====================================================================================

# vLLM (>= ~0.16, Qwen3.5 with --reasoning-parser deepseek_r1): only the new `reasoning`
# field, content starts with "\n\n", OpenAI nulls alongside.
# Source: vllm-project/vllm#34684 (comment by FWao, 2026-02-17)
#   https://github.com/vllm-project/vllm/issues/34684   (excerpt ends before finish_reason)
VLLM_QWEN35_REASONING_FIELD = {
    "id": "chatcmpl-ae9903ca6496a049", "object": "chat.completion", "created": 1771323989,
    "model": "Qwen3.5-397B-A17B",
    "choices": [{"index": 0, "message": {
        "role": "assistant",
        "content": "\n\nHello! I'm doing well, thank you for asking. How about you? Is there anything I can help you with today?",
        "refusal": None, "annotations": None, "audio": None, "function_call": None, "tool_calls": [],
        "reasoning": "Thinking Process:\n\n1.  **Analyze the Request:**\n    *   Input: \"Hello! How are you?\"\n...",
    }}],
}


@pytest.mark.parametrize("form", FORMS)
def test_vllm_new_reasoning_field_only(form):
    t = trace_from_openai(form(VLLM_QWEN35_REASONING_FIELD))
    assert t.reasoning.startswith("Thinking Process:") and t.reasoning.endswith("...")
    assert t.answer.startswith("Hello! I'm doing well") and t.answer.endswith("today?")
    assert t.reasoning_source == "reasoning"
    assert t.model == "Qwen3.5-397B-A17B"


# vLLM gpt-oss (--reasoning-parser openai_gptoss): `reasoning` field, full OpenAI nulls.
# Source: vllm-project/vllm#41902 (comment by yzong-rh, 2026-05-07)
#   https://github.com/vllm-project/vllm/issues/41902   (printed Python dict; excerpt cut)
VLLM_GPT_OSS = {
    "id": "chatcmpl-bc44b4c71fee0757", "object": "chat.completion", "created": 1778178787, "model": "gpt-oss-120b",
    "choices": [{"index": 0, "message": {
        "role": "assistant",
        "content": "The Henry\u202fJackson Society is a London\u2011based foreign\u2011policy think\u2011tank ...",
        "refusal": None, "annotations": None, "audio": None, "function_call": None, "tool_calls": [],
        "reasoning": 'We need to answer: "What is the Henry Jackson Society?" Provide definition: ...',
    }}],
}


@pytest.mark.parametrize("form", FORMS)
def test_vllm_gpt_oss_reasoning_field(form):
    t = trace_from_openai(form(VLLM_GPT_OSS))
    assert t.reasoning.startswith("We need to answer") and t.reasoning_source == "reasoning"
    assert t.answer.startswith("The Henry\u202fJackson Society")


# vLLM 0.8.x, Qwen3 with chat_template_kwargs enable_thinking=false and the deepseek_r1
# parser: content null, the whole reply in reasoning_content (a server-side misparse;
# the parser can only report what the fields say), plus vLLM's `stop_reason`.
# Source: vllm-project/vllm#19839  https://github.com/vllm-project/vllm/issues/19839
VLLM_QWEN3_THINKING_OFF_MISPARSE = {
    "id": "chatcmpl-8fd7068f0e534d7e9bd7e0dab6686399", "object": "chat.completion", "created": 1750236511,
    "model": "matrix-local-llm-reason",
    "choices": [{"index": 0, "message": {
        "role": "assistant",
        "reasoning_content": "我是Qwen3，阿里巴巴最新推出的通义千问大语言模型。...如果你有任何问题或需要帮助，欢迎随时告诉我！",
        "content": None, "tool_calls": [],
    }, "logprobs": None, "finish_reason": "stop", "stop_reason": None}],
}


@pytest.mark.parametrize("form", FORMS)
def test_vllm_content_null_reasoning_content_only(form):
    t = trace_from_openai(form(VLLM_QWEN3_THINKING_OFF_MISPARSE))
    assert t.reasoning.startswith("我是Qwen3") and t.answer == ""
    assert (t.finish_reason, t.truncated, t.reasoning_source) == ("stop", False, "reasoning_content")


# vLLM without a working reasoning parser: both tags left inline in content.
# Source: vllm-project/vllm#21130 "Qwen3 fails parsing reasoning content"
#   https://github.com/vllm-project/vllm/issues/21130   (ChatCompletion repr, as a dict)
VLLM_QWEN3_TAGS_IN_CONTENT = {
    "id": "chatcmpl-36ebe15df8e047828a27d9fe22a4732b", "object": "chat.completion", "created": 1752700000,
    "model": "Qwen3",  # created/model not visible in the excerpt; irrelevant to the split
    "choices": [{"finish_reason": "stop", "index": 0, "logprobs": None, "message": {
        "content": "<think>\nOkay, the user is asking \"cos'è uno scrum master?\" ... Alright, that should cover it.\n</think>\n\n"
                   "Uno Scrum Master è un ruolo in metodologie Agile ...",
        "refusal": None, "role": "assistant",
    }}],
}


@pytest.mark.parametrize("form", FORMS)
def test_vllm_think_tags_inline_in_content(form):
    t = trace_from_openai(form(VLLM_QWEN3_TAGS_IN_CONTENT))
    assert t.reasoning.startswith("Okay, the user is asking") and t.reasoning.endswith("cover it.")
    assert t.answer == "Uno Scrum Master è un ruolo in metodologie Agile ..."
    assert t.reasoning_source == "<think> tags" and "<think>" not in t.answer + t.reasoning


# Opening <think> is in the prompt (DeepSeek-V4 / Qwen3-Thinking-2507 templates), parser
# off or broken: content = "reasoning</think>answer" with no opening tag.
# Content string verbatim from tonyd2wild/DeepSeek-v4-Flash-Vision-Exp-DSpark-1M-NVFP4-KV-2x-DGX-Spark#16
#   ("Your server is returning that raw string as `content`"); same shape reported in
#   vllm-project/vllm#31045 ("No <think> start tag using Qwen3-235B-A22B-Thinking-2507-FP8")
#   and vllm-project/vllm-ascend#7061 ("content 字段中仍包含 </think> 标签和思考内容; reasoning 为 null").
#   Envelope minimal (variation: only the fields the parser reads).
MISSING_OPEN_TAG = {
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {
        "role": "assistant",
        "content": "1.  The user asks for the product of 17 and 23\u2026\n3.  Provide the answer briefly.</think>391",
        "reasoning": None,
    }, "finish_reason": "stop"}],
}


@pytest.mark.parametrize("form", FORMS)
def test_missing_opening_think_tag_in_content(form):
    t = trace_from_openai(form(MISSING_OPEN_TAG))
    assert t.reasoning == "1.  The user asks for the product of 17 and 23\u2026\n3.  Provide the answer briefly."
    assert t.answer == "391"
    assert t.reasoning_source == "<think> tags"


# llama-server serving gpt-oss without the harmony parser: the raw channel markup stays
# in content.  Verbatim logged response ("API response: ..." debug log comment in a
# public llm.sh script); the same content string is shown in
# johnbean393/Sidekick#75 "FR: Parsing gpt-oss reasoning output" (llama-server, unsloth GGUF).
LLAMACPP_HARMONY_LEFTOVERS = {
    "id": "chatcmpl-1759345446829761536", "object": "chat.completion", "created": 1759345446,
    "model": "gpt-oss-120b-Q4_K_M-00001-of-00002.gguf",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant",
        "content": "<|channel|>analysis<|message|>We just need to answer 5.<|end|><|start|>assistant<|channel|>final<|message|>2 + 3 = 5.",
    }, "tool_calls": []}],
    "usage": {"prompt_tokens": 128, "completion_tokens": 27, "total_tokens": 155},
}


@pytest.mark.parametrize("form", FORMS)
def test_llamacpp_gpt_oss_harmony_markup_in_content(form):
    t = trace_from_openai(form(LLAMACPP_HARMONY_LEFTOVERS))
    assert t.usage == Usage(128, 27, None, 155)
    assert t.answer == "2 + 3 = 5."
    assert t.reasoning == "We just need to answer 5."


# Mistral Magistral (magistral-medium-2509): content is a list of typed chunks and the
# `thinking` chunk holds a LIST of text chunks, not a string.
# Sources: spring-projects/spring-ai#5019 "MistralAiApi fails to parse thinking content from
#   Magistral reasoning models" (minimal reproducible example) and langchain4j/langchain4j#4474
#   (same shape: {"type": "thinking", "thinking": [{"type": "text", "text": ...}]}, then a text chunk).
MAGISTRAL_TYPED_CONTENT = {
    "choices": [{"message": {"role": "assistant", "content": [
        {"type": "thinking", "thinking": [{"type": "text", "text": "Let me reason..."}]},
        {"type": "text", "text": "The answer is 42."},
    ]}}],
}


@pytest.mark.parametrize("form", FORMS)
def test_magistral_thinking_chunk_list(form):
    t = trace_from_openai(form(MAGISTRAL_TYPED_CONTENT))
    assert t.answer == "The answer is 42."
    assert t.reasoning == "Let me reason..."


# Mistral `finish_reason: "model_length"` (context window ran out) -- VARIATION: the plain
# string-content Magistral message from langchain4j/langchain4j#4474 with finish_reason set to
# "model_length", a value of Mistral's finish_reason enum (stop|length|model_length|error|
# tool_calls) as quoted in camel-ai/camel#4266 and laravel/ai#955 ("a caller checking for
# Length to spot a truncated answer never sees it").
MISTRAL_MODEL_LENGTH = {
    "model": "magistral-medium-2509",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "The answer is 42."}, "finish_reason": "model_length"}],
}


def test_mistral_model_length_is_truncation():
    t = trace_from_openai(MISTRAL_MODEL_LENGTH)
    assert t.finish_reason == "model_length"
    assert t.truncated is True


# Ollama native /api/chat (no "choices"): `message.thinking`.
# Source: ahyatt/llm#226 "gpt-oss doesn't show reasoning." (curl to /api/chat, stream:false;
#   the excerpt stops inside `thinking`, so done/done_reason are not part of this fixture)
OLLAMA_NATIVE_GPT_OSS = {
    "model": "gpt-oss", "created_at": "2025-12-24T22:55:02.704682Z",
    "message": {"role": "assistant", "content": "Hello! How can I help you today?",
                "thinking": "We need to respond to a greeting. S..."},
}


def test_ollama_native_api_chat_thinking():
    t = trace_from_openai(OLLAMA_NATIVE_GPT_OSS)
    assert t.reasoning == "We need to respond to a greeting. S..."
    assert t.answer == "Hello! How can I help you today?"
    assert (t.reasoning_source, t.model) == ("thinking", "gpt-oss")


# Ollama native /api/chat non-stream body with token counts (prompt_eval_count, eval_count).
# Source: verbatim "[OLLAMA] Body: ..." log in a public repo's docs (qwen2.5-coder, /api/chat).  Counts are documented in ollama/docs/api.md
#   ("prompt_eval_count: number of tokens in the prompt", "eval_count: number of tokens in the response").
OLLAMA_NATIVE_WITH_COUNTS = {
    "model": "qwen2.5-coder", "created_at": "2026-01-28T15:41:56.376718502Z",
    "message": {"role": "assistant", "content": "```python\ndef calc(a, b):\n    return a * b\n```"},
    "done": True, "done_reason": "stop", "total_duration": 1745098209, "load_duration": 106029792,
    "prompt_eval_count": 101, "prompt_eval_duration": 512736875, "eval_count": 17, "eval_duration": 1109351749,
}


def test_ollama_native_done_reason():
    t = trace_from_openai(OLLAMA_NATIVE_WITH_COUNTS)
    assert (t.finish_reason, t.truncated) == ("stop", False)
    assert t.answer.startswith("```python")


def test_ollama_native_token_counts_become_usage():
    t = trace_from_openai(OLLAMA_NATIVE_WITH_COUNTS)
    assert t.usage == Usage(prompt_tokens=101, completion_tokens=17, reasoning_tokens=None, total_tokens=None)


# LM Studio 0.4.x (qwen3.5): reasoning_content filled, content "", all-zero usage,
# empty `stats`, system_fingerprint holding the model key.
# Source: lmstudio-ai/lmstudio-bug-tracker#1602 "reasoning_content populated but content
#   empty -- server reports success on empty response"
LMSTUDIO_REASONING_ONLY = {
    "object": "chat.completion", "model": "qwen/qwen3.5-35b-a3b",  # top of body not in excerpt
    "choices": [{"index": 0, "message": {
        "role": "assistant", "content": "",
        "reasoning_content": "...\n    *   Okay, I'll finalize on `<thought>`, `<reasoning>`, `<plan>",
        "tool_calls": [],
    }, "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    "stats": {}, "system_fingerprint": "qwen/qwen3.5-35b-a3b",
}


@pytest.mark.parametrize("form", FORMS)
def test_lmstudio_reasoning_content_only_zero_usage(form):
    t = trace_from_openai(form(LMSTUDIO_REASONING_ONLY))
    assert t.answer == "" and t.reasoning.endswith("`<plan>")
    assert t.usage == Usage(0, 0, None, 0)  # reported zeros stay zeros, not None
    assert (t.finish_reason, t.truncated) == ("stop", False)
    assert t.extra["system_fingerprint"] == "qwen/qwen3.5-35b-a3b"


# LiteLLM proxy in front of Bedrock gpt-oss: reasoning_content plus litellm's own
# thinking_blocks and provider_specific_fields (all carrying the same text).
# Source: BerriAI/litellm#40775 (PR description, curl output)
LITELLM_BEDROCK_GPT_OSS = {
    "id": "chatcmpl-5068e948-e556-451b-bf47-e488442c4106", "model": "gpt-oss-20b", "object": "chat.completion",
    "choices": [{"finish_reason": "stop", "index": 0, "message": {
        "content": "{\"word\": \"pong\"}", "role": "assistant",
        "reasoning_content": "They want a JSON output with the word \"pong\". Likely somethi...(315 more chars)",
        "thinking_blocks": [{"type": "thinking", "thinking": "They want a JSON output with the word \"pong\". Likely somethi...(315 more chars)"}],
        "provider_specific_fields": {"reasoningContentBlocks": [{"reasoningText": {"text": "They want a JSON output with the word \"pong\". Likely somethi...(315 more chars)"}}]},
    }}],
    "usage": {"completion_tokens": 116, "prompt_tokens": 126, "total_tokens": 242},
}


@pytest.mark.parametrize("form", FORMS)
def test_litellm_reasoning_content_with_thinking_blocks(form):
    t = trace_from_openai(form(LITELLM_BEDROCK_GPT_OSS))
    assert t.reasoning == "They want a JSON output with the word \"pong\". Likely somethi...(315 more chars)"
    assert t.answer == '{"word": "pong"}' and t.reasoning_source == "reasoning_content"
    assert t.usage == Usage(126, 116, None, 242)


# OpenRouter (DeepInfra upstream), non-stream: reasoning null, native_finish_reason, cost
# fields, finish_reason "length".
# Source: verbatim body in a public repo's provider "bakeoff" decision record (2026-10-04)
OPENROUTER_LENGTH = {
    "id": "gen-...wgkROHXIojJJ2sMtIIm", "object": "chat.completion", "created": 1791084135,
    "model": "deepseek/deepseek-v4-pro-0813", "provider": "DeepInfra", "system_fingerprint": None, "service_tier": "default",
    "choices": [{"index": 0, "logprobs": None, "finish_reason": "length", "native_finish_reason": "length",
                 "message": {"role": "assistant", "content": "OK", "refusal": None, "reasoning": None}}],
    "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9, "cost": 0.000013, "is_byok": False,
              "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0, "audio_tokens": 0, "video_tokens": 0},
              "cost_details": {"upstream_inference_cost": 0.000013, "upstream_inference_prompt_cost": 0.0000104,
                               "upstream_inference_completions_cost": 0.0000026},
              "completion_tokens_details": {"reasoning_tokens": 0, "image_tokens": 0, "audio_tokens": 0}},
}


@pytest.mark.parametrize("form", FORMS)
def test_openrouter_length_reasoning_null(form):
    t = trace_from_openai(form(OPENROUTER_LENGTH))
    assert (t.reasoning, t.answer, t.reasoning_source) == ("", "OK", None)
    assert (t.finish_reason, t.truncated) == ("length", True)
    assert t.usage == Usage(8, 1, 0, 9)


# GLM-5.3 (Volcengine coding endpoint): truncated inside the thinking -- content "",
# reasoning_content cut mid-sentence, finish_reason "length", reasoning_tokens in details.
# Source: verbatim curl output in a public opencode conversation log
GLM_TRUNCATED_IN_THINKING = {
    "choices": [{"finish_reason": "length", "index": 0, "logprobs": None, "message": {
        "content": "", "reasoning_content": "The user wants me to reply with exactly \"ok\". This is a simple instruction",
        "role": "assistant"}}],
    "created": 1788756366, "id": "02178875636531791be90b70b1bfc3059428bd07e108b7ecabd7f", "model": "glm-5.3",
    "service_tier": "default", "object": "chat.completion",
    "usage": {"completion_tokens": 16, "prompt_tokens": 17, "total_tokens": 33,
              "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 15}},
}


@pytest.mark.parametrize("form", FORMS)
def test_truncated_inside_thinking_reasoning_content(form):
    t = trace_from_openai(form(GLM_TRUNCATED_IN_THINKING))
    assert t.reasoning == "The user wants me to reply with exactly \"ok\". This is a simple instruction"
    assert t.answer == ""
    assert (t.finish_reason, t.truncated) == ("length", True)
    assert t.usage == Usage(17, 16, 15, 33)


# vLLM Responses API (gpt-oss, --reasoning-parser openai_gptoss): reasoning item with
# empty `summary` and `content: [{"type": "reasoning_text"}]`, then the message item.
# Source: vllm-project/vllm#33709 "[Frontend] Enable generic structured_outputs for responses
#   API" (test result).  The excerpt shows the reasoning item and the message item's `id`
#   and `content`; `type: "message"`/`role`/`status` of the message item are the Responses
#   schema's (not visible in the excerpt).
VLLM_RESPONSES_GPT_OSS = {
    "id": "resp_be3abebb226eafdf", "created_at": 1770136083, "incomplete_details": None, "instructions": None,
    "metadata": None, "model": "openai/gpt-oss-20b", "object": "response",
    "output": [
        {"id": "rs_9664daf6b147c565", "summary": [], "type": "reasoning", "content": [
            {"text": "User says: \"Pick a color\". They want a color. Probably answer with a color name. ...", "type": "reasoning_text"}]},
        {"id": "msg_946aeff87d4ed2e2", "content": [{"annotations": [], "text": "green", "type": "output_text", "logprobs": None}],
         "role": "assistant", "status": "completed", "type": "message"},
    ],
}


def test_vllm_responses_api_reasoning_text_items():
    t = trace_from_openai(VLLM_RESPONSES_GPT_OSS)
    assert t.reasoning.startswith('User says: "Pick a color"') and t.answer == "green"
    assert t.reasoning_source == "responses reasoning items" and t.truncated is False


# =====================================================================================
# Streams
# =====================================================================================

# vLLM (late 2025, transitional): first chunk carries role + content "" + reasoning_content
# null + top-level prompt_token_ids; later deltas carry BOTH `reasoning` and
# `reasoning_content` with the same text.  Source: vllm-project/vllm#29408 (stream cut in excerpt)
VLLM_DUAL_FIELD_STREAM = [
    {"id": "chatcmpl-37ce6f9c0cab4b2aaf5f505728067ebc", "object": "chat.completion.chunk", "created": 1764074376, "model": "qwen3-thinking",
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "reasoning_content": None}, "logprobs": None, "finish_reason": None}],
     "prompt_token_ids": None},
    *[{"id": "chatcmpl-37ce6f9c0cab4b2aaf5f505728067ebc", "object": "chat.completion.chunk", "created": 1764074376, "model": "qwen3-thinking",
       "choices": [{"index": 0, "delta": {"reasoning": s, "reasoning_content": s}, "logprobs": None, "finish_reason": None, "token_ids": None}]}
      for s in ("好的", "，", "用户", "让我")],
]


@pytest.mark.parametrize("form", STREAM_FORMS)
def test_vllm_stream_reasoning_and_reasoning_content_not_doubled(form):
    t = trace_from_openai_stream(form(VLLM_DUAL_FIELD_STREAM))
    assert t.reasoning == "好的，用户让我" and t.answer == ""
    assert t.model == "qwen3-thinking"


# vLLM 0.17 (vllm-ascend, Qwen3.5): `delta.reasoning` only, no reasoning_content.
# Source: vllm-project/vllm-ascend#10940
VLLM_REASONING_ONLY_STREAM = [
    {"id": "chatcmpl-740c22ad-c984-49a4-9a78-b7bbdc69b3d2", "object": "chat.completion.chunk", "created": 1773161262, "model": "local-qwen3.5-27b",
     "choices": [{"index": 0, "delta": {"reasoning": s}, "logprobs": None, "finish_reason": None, "token_ids": None}]}
    for s in ("Thinking", " Process")
]


def test_vllm_stream_delta_reasoning_only():
    t = trace_from_openai_stream(VLLM_REASONING_ONLY_STREAM)
    assert (t.reasoning, t.reasoning_source, t.model) == ("Thinking Process", "reasoning", "local-qwen3.5-27b")


# llama-server (--reasoning-format deepseek, gemma-4 GGUF): reasoning_content deltas, a
# `timings` object and system_fingerprint on EVERY chunk, finish_reason before index.
# Source: openai-php/client#780 "Reasoning Content in streamed responses isn't working with llama.cpp"
def _llamacpp_chunk(text, predicted_n, predicted_ms):
    return {"choices": [{"finish_reason": None, "index": 0, "delta": {"reasoning_content": text}}],
            "created": 1781492230, "id": "chatcmpl-qC6laQHbZ2CmxNvJ4NoB1L93LcVF7nfe", "model": "gemma-4-31B-it-UD-Q6_K_XL.gguf",
            "system_fingerprint": "b9554-d403f00ec", "object": "chat.completion.chunk",
            "timings": {"cache_n": 7, "prompt_n": 10, "prompt_ms": 251.51, "prompt_per_token_ms": 25.151,
                        "prompt_per_second": 39.75985050296211, "predicted_n": predicted_n, "predicted_ms": predicted_ms,
                        "draft_n": 30, "draft_n_accepted": 12}}


LLAMACPP_STREAM = [_llamacpp_chunk(" it", 28, 407.596), _llamacpp_chunk(" handles", 29, 434.557), _llamacpp_chunk(" a", 30, 460.0)]


@pytest.mark.parametrize("form", STREAM_FORMS)
def test_llamacpp_stream_reasoning_content_with_timings(form):
    t = trace_from_openai_stream(form(LLAMACPP_STREAM))
    assert t.reasoning == "it handles a" and t.reasoning_source == "reasoning_content"
    assert t.extra["timings"]["predicted_n"] == 30  # the latest timings win
    assert t.extra["system_fingerprint"] == "b9554-d403f00ec"
    assert t.usage == Usage()  # llama.cpp sent no usage here


# Older llama-server / vLLM MiniMax: reasoning streamed inside content with the <think> tag.
# Sources: ggml-org/llama.cpp#13867 (llama.cpp server chunk `"delta":{"content":"<think>Okay"}`)
#   and vllm-project/vllm#34625 (MiniMax-M2.5: role chunk, then content "<think>The" with
#   reasoning_content null).  Both excerpts stop here: the stream is inside the thinking.
MINIMAX_STREAM_HEAD = [
    {"id": "chatcmpl-19aaba621548eee71c08f032b4aef98f", "object": "chat.completion.chunk", "created": 1771253122, "model": "minimax-m2-5",
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "reasoning_content": None}, "logprobs": None, "finish_reason": None}],
     "prompt_token_ids": None},
    {"id": "chatcmpl-19aaba621548eee71c08f032b4aef98f", "object": "chat.completion.chunk", "created": 1771253122, "model": "minimax-m2-5",
     "choices": [{"index": 0, "delta": {"content": "<think>The", "reasoning_content": None}, "logprobs": None, "finish_reason": None, "token_ids": None}]},
]
LLAMACPP_OLD_STREAM_HEAD = [{"choices": [{"finish_reason": None, "index": 0, "delta": {"content": "<think>Okay"}}]}]


@pytest.mark.parametrize("chunks, text", [(MINIMAX_STREAM_HEAD, "The"), (LLAMACPP_OLD_STREAM_HEAD, "Okay")], ids=["vllm-minimax", "llamacpp-old"])
def test_stream_open_think_tag_in_content_deltas(chunks, text):
    t = trace_from_openai_stream(chunks)
    assert (t.reasoning, t.answer, t.reasoning_source) == (text, "", "<think> tags")


# DashScope / Model Studio compatible mode, enable_thinking + include_usage: first chunk
# role + reasoning_content "" + content null, final chunk content "" + reasoning_content
# null, then a usage-only chunk with `choices: []`, then [DONE].
# Source: Alibaba Cloud Model Studio "Deep thinking" docs (OpenAI compatible curl, "Return
#   result"; qwen-plus).  The docs elide the middle ("....."); the two reasoning/content
#   chunks below are VARIATIONS in the shape of the docs' qwen-plus chunk
#   {"finish_reason":null,"logprobs":null,"delta":{"content":null,"reasoning_content":"嗯"},"index":0}.
_DS = {"object": "chat.completion.chunk", "usage": None, "created": 1745485391, "system_fingerprint": None,
       "model": "qwen-plus", "id": "chatcmpl-e2edaf2c-8aaf-9e54-90e2-b21dd5045503"}
DASHSCOPE_STREAM = [
    {"choices": [{"delta": {"content": None, "role": "assistant", "reasoning_content": ""}, "index": 0, "logprobs": None, "finish_reason": None}], **_DS},
    {"choices": [{"finish_reason": None, "logprobs": None, "delta": {"content": None, "reasoning_content": "嗯"}, "index": 0}], **_DS},
    {"choices": [{"finish_reason": None, "logprobs": None, "delta": {"content": "I am Qwen", "reasoning_content": None}, "index": 0}], **_DS},
    {"choices": [{"finish_reason": "stop", "delta": {"content": "", "reasoning_content": None}, "index": 0, "logprobs": None}], **_DS},
    {"choices": [], **{**_DS, "usage": {"prompt_tokens": 10, "completion_tokens": 360, "total_tokens": 370}}},
    "[DONE]",
]


@pytest.mark.parametrize("form", STREAM_FORMS)
def test_dashscope_stream_with_usage_only_final_chunk(form):
    t = trace_from_openai_stream(form(DASHSCOPE_STREAM))
    assert (t.reasoning, t.answer) == ("嗯", "I am Qwen")
    assert (t.finish_reason, t.truncated, t.model) == ("stop", False, "qwen-plus")
    assert t.usage == Usage(10, 360, None, 370)


# DeepSeek API (deepseek-reasoner) stream: reasoning_content '' with role first, content
# None during thinking, reasoning_content None once the answer starts.
# Source: langchain-ai/langchain#31065 (printed choice dicts, chunk-level keys not shown)
DEEPSEEK_R1_STREAM = [
    {"choices": [{"delta": {"content": None, "function_call": None, "refusal": None, "role": "assistant", "tool_calls": None, "reasoning_content": ""}, "finish_reason": None, "index": 0, "logprobs": None}]},
    {"choices": [{"delta": {"content": None, "function_call": None, "refusal": None, "role": None, "tool_calls": None, "reasoning_content": "好的"}, "finish_reason": None, "index": 0, "logprobs": None}]},
    {"choices": [{"delta": {"content": None, "function_call": None, "refusal": None, "role": None, "tool_calls": None, "reasoning_content": "，"}, "finish_reason": None, "index": 0, "logprobs": None}]},
    {"choices": [{"delta": {"content": " main", "function_call": None, "refusal": None, "role": None, "tool_calls": None, "reasoning_content": None}, "finish_reason": None, "index": 0, "logprobs": None}]},
]


@pytest.mark.parametrize("form", STREAM_FORMS)
def test_deepseek_stream_empty_then_none_reasoning_content(form):
    t = trace_from_openai_stream(form(DEEPSEEK_R1_STREAM))
    assert (t.reasoning, t.answer, t.reasoning_source) == ("好的，", "main", "reasoning_content")


# DeepSeek official API chunks: content null + reasoning_content, system_fingerprint per chunk.
# Source: dairoot/Grok-Mirror#16 (comment by ZefanHu, raw SSE from api.deepseek.com)
_DSK = {"id": "218b0112-5009-48ba-bcbe-43773f93447f", "object": "chat.completion.chunk", "created": 1743317234,
        "model": "deepseek-reasoner", "system_fingerprint": "fp_5417b77867_prod0225"}
DEEPSEEK_OFFICIAL_STREAM = [
    {**_DSK, "choices": [{"index": 0, "delta": {"content": None, "reasoning_content": s}, "logprobs": None, "finish_reason": None}]}
    for s in ("打招呼", "，", "可能", "只是")
]


def test_deepseek_official_stream_chunks():
    t = trace_from_openai_stream(DEEPSEEK_OFFICIAL_STREAM)
    assert t.reasoning == "打招呼，可能只是" and t.model == "deepseek-reasoner"
    assert t.extra["system_fingerprint"] == "fp_5417b77867_prod0225"


# Novita (DeepSeek V4 Pro): first chunk carries the role ONLY, non-standard `sla_metrics`,
# final chunk has finish_reason + usage with completion_tokens_details.reasoning_tokens.
# Source: "DeepSeek V4 Pro -- Wire-shape Research" (probe 2026-05-10, Novita probe B), a
#   public repository's research doc.  "..." elisions and "…" ids are the doc's.
NOVITA_STREAM = [
    {"id": "…", "choices": [{"index": 0, "delta": {"role": "assistant"}}], "sla_metrics": {"ttft_ms": 1570}},
    {"id": "…", "choices": [{"index": 0, "delta": {"reasoning_content": "We"}}], "sla_metrics": {"ttft_ms": 1570}},
    {"id": "…", "choices": [{"index": 0, "delta": {"reasoning_content": " need"}}]},
    {"id": "…", "choices": [{"index": 0, "delta": {"content": "."}}]},
    {"id": "…", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
     "usage": {"prompt_tokens": 19, "completion_tokens": 657, "total_tokens": 676,
               "completion_tokens_details": {"reasoning_tokens": 237, "text_tokens": 0}}},
    "[DONE]",
]


def test_novita_role_only_first_chunk_and_reasoning_tokens():
    t = trace_from_openai_stream(NOVITA_STREAM)
    assert (t.reasoning, t.answer) == ("We need", ".")
    assert (t.finish_reason, t.truncated) == ("stop", False)
    assert t.usage == Usage(19, 657, 237, 676)


# OpenRouter (DeepInfra upstream): first delta has `reasoning` AND `reasoning_details`
# (reasoning.text, format "unknown") with the same text, later deltas `reasoning` only;
# finish_reason "length" twice (second with usage + cost); `native_finish_reason`.
# Source: same research doc, OpenRouter probe B.
_OR = {"id": "gen-…", "provider": "DeepInfra"}
OPENROUTER_STREAM = [
    {**_OR, "choices": [{"index": 0, "delta": {"content": "", "role": "assistant", "reasoning": "We n",
                                                "reasoning_details": [{"type": "reasoning.text", "text": "We n", "format": "unknown", "index": 0}]}}]},
    {**_OR, "choices": [{"index": 0, "delta": {"content": "", "role": "assistant", "reasoning": "eed to give a "}}]},
    {**_OR, "choices": [{"index": 0, "delta": {"content": "", "role": "assistant", "reasoning": "step-by-step pr"}}]},
    {**_OR, "choices": [{"index": 0, "delta": {"content": "", "role": "assistant", "reasoning": None}, "finish_reason": "length", "native_finish_reason": "length"}]},
    {**_OR, "choices": [{"index": 0, "delta": {"content": "", "role": "assistant"}, "finish_reason": "length"}],
     "usage": {"prompt_tokens": 19, "completion_tokens": 800, "total_tokens": 819, "cost": 0.00281706,
               "completion_tokens_details": {"reasoning_tokens": 360, "image_tokens": 0, "audio_tokens": 0}}},
    "[DONE]",
]


@pytest.mark.parametrize("form", STREAM_FORMS)
def test_openrouter_stream_reasoning_plus_details_truncated(form):
    t = trace_from_openai_stream(form(OPENROUTER_STREAM))
    assert t.reasoning == "We need to give a step-by-step pr"  # not "We nWe need..."
    assert t.reasoning_source == "reasoning" and t.answer == ""
    assert (t.finish_reason, t.truncated) == ("length", True)
    assert t.usage == Usage(19, 800, 360, 819)


# OpenRouter, OpenAI model: reasoning only as `reasoning.encrypted` (format
# openai-responses-v1, id rs_..., index) in the first delta, `reasoning: null`.
# Source: OpenRouter probe report "openai/gpt-6-luna" (reasoning=on tools=off; first SSE
#   payload verbatim, data shortened), a public repository's doc.
#   VARIATION: the doc gives the streamed content and finish ("stop") in its summary only,
#   so the two later chunks are written in the doc's chunk shape.
_LUNA = {"id": "gen-1790156264-8sZc5JQai7xDOUXxKj4y", "object": "chat.completion.chunk", "created": 1790156264, "model": "openai/gpt-6-luna", "provider": "OpenAI"}
OPENROUTER_ENCRYPTED_STREAM = [
    {**_LUNA, "choices": [{"index": 0, "delta": {"content": "", "role": "assistant", "reasoning": None, "reasoning_details": [
        {"type": "reasoning.encrypted", "data": "gAAAAABqs53qZCG4G16PIVUyjAw4...", "format": "openai-responses-v1",
         "id": "rs_05a6389df207c51e016a99d959ecd887d1b672d700b322a752", "index": 0}]}, "finish_reason": None, "native_finish_reason": None}]},
    {**_LUNA, "choices": [{"index": 0, "delta": {"content": "\\(17 \\times 23 = 391\\).", "role": "assistant"}, "finish_reason": None, "native_finish_reason": None}]},
    {**_LUNA, "choices": [{"index": 0, "delta": {"content": "", "role": "assistant"}, "finish_reason": "stop", "native_finish_reason": "stop"}]},
]


def test_openrouter_stream_encrypted_reasoning_only():
    t = trace_from_openai_stream(OPENROUTER_ENCRYPTED_STREAM)
    assert (t.reasoning, t.reasoning_source) == ("", None)
    assert t.answer == "\\(17 \\times 23 = 391\\)."
    assert t.extra["encrypted_reasoning_items"] == 1
    assert (t.finish_reason, t.truncated) == ("stop", False)


# Ollama /v1 (OpenAI-compatible) stream: `delta.reasoning` with `content: ""`.
# Source: dirac-run/dirac#227 (raw SSE from Ollama 0.34.2, qwen3.8:27b-mlx-64k)
OLLAMA_V1_STREAM = [
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "reasoning": "We"}}]},
    {"choices": [{"index": 0, "delta": {"content": "", "reasoning": " need"}}]},
    {"choices": [{"index": 0, "delta": {"content": "", "reasoning": " answer"}}]},
]


def test_ollama_v1_stream_delta_reasoning():
    t = trace_from_openai_stream(OLLAMA_V1_STREAM)
    assert (t.reasoning, t.answer, t.reasoning_source) == ("We need answer", "", "reasoning")


# SGLang with continuous_usage_stats: `usage` on EVERY chunk (cumulative), top-level
# `reasoning_tokens` (0 here: the bug the PR fixes), prompt_tokens_details null,
# role/content/tool_calls null in the delta, `matched_stop`.
# Source: sgl-project/sglang#17156 "Add metrics to reasoning tokens" ("before" output).
#   The first chunk's usage is a VARIATION (earlier counts) to show the latest usage wins.
_SGL = {"id": "adedbdab43f44588b8578f75c6f7741e", "object": "chat.completion.chunk", "created": 1768483467, "model": "base-model"}
SGLANG_CONTINUOUS_USAGE = [
    {**_SGL, "choices": [{"index": 0, "delta": {"role": None, "content": None, "reasoning_content": "中立", "tool_calls": None}, "logprobs": None, "finish_reason": None, "matched_stop": None}],
     "usage": {"prompt_tokens": 29, "total_tokens": 133, "completion_tokens": 104, "prompt_tokens_details": None, "reasoning_tokens": 0}},
    {**_SGL, "choices": [{"index": 0, "delta": {"role": None, "content": None, "reasoning_content": "的", "tool_calls": None}, "logprobs": None, "finish_reason": None, "matched_stop": None}],
     "usage": {"prompt_tokens": 29, "total_tokens": 134, "completion_tokens": 105, "prompt_tokens_details": None, "reasoning_tokens": 0}},
]


def test_sglang_continuous_usage_top_level_reasoning_tokens():
    t = trace_from_openai_stream(SGLANG_CONTINUOUS_USAGE)
    assert t.reasoning == "中立的"
    assert t.usage == Usage(29, 105, 0, 134)  # reported 0 stays 0


# SGLang 0.4.4 bug: finish_reason null on every chunk (no stop ever sent), content deltas
# with reasoning_content null, usage null.  Source: sgl-project/sglang#4550
SGLANG_NO_FINISH = [
    {"id": "93b6717481cf45c284841fac5c3af2a3", "object": "chat.completion.chunk", "created": 1742289669, "model": "DeepSeek-R1",
     "choices": [{"index": 0, "delta": {"role": None, "content": s, "reasoning_content": None, "tool_calls": None}, "logprobs": None, "finish_reason": None, "matched_stop": None}],
     "usage": None}
    for s in ("提供", "帮助")
]


def test_sglang_stream_all_null_fields():
    t = trace_from_openai_stream(SGLANG_NO_FINISH)
    assert (t.reasoning, t.answer, t.finish_reason) == ("", "提供帮助", None)
    assert t.usage == Usage()


# vLLM serving Kimi, stop string hit inside the reasoning: chunks without a finish_reason
# key, extra `service_tier` / `first_token_return_time`, usage null.
# Source: vllm-project/vllm#38499 '"stop" parameter will stop the reasoning_content'
_KIMI = {"id": "1dfa1784e6b64e09ade35bedf15798ed", "object": "chat.completion.chunk", "created": 1774598361, "model": "Kimi"}
KIMI_VLLM_STREAM = [
    {**_KIMI, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}], "service_tier": "default", "first_token_return_time": 1774598361.9974504, "usage": None},
    {**_KIMI, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "reasoning_content": " 用户"}}], "service_tier": "default", "first_token_return_time": 1774598361.9976811, "usage": None},
    {**_KIMI, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "reasoning_content": "询问"}}], "service_tier": "default", "first_token_return_time": 1774598362.0438664, "usage": None},
]


def test_kimi_vllm_stream_no_finish_reason_key():
    t = trace_from_openai_stream(KIMI_VLLM_STREAM)
    assert (t.reasoning, t.answer, t.model) == ("用户询问", "", "Kimi")


# Moonshot API: the final chunk carries usage INSIDE choices[0] (not at the top level).
# Source: verbatim SSE pasted as a comment ("返回数据如下") in a public Java repo calling
#   moonshot-v1-8k; the same placement is handled explicitly in
#   other clients ("Kimi may return usage inside choices[0].usage instead of top-level usage").
_MS = {"id": "chatcmpl-67c96964971a7a505b6ff17a", "object": "chat.completion.chunk", "created": 1741252964, "model": "moonshot-v1-8k"}
MOONSHOT_STREAM = [
    {**_MS, "choices": [{"index": 0, "delta": {"content": "。"}, "finish_reason": None}], "system_fingerprint": "fpv0_ca1d2527"},
    {**_MS, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "usage": {"prompt_tokens": 39, "completion_tokens": 211, "total_tokens": 250}}],
     "system_fingerprint": "fpv0_ca1d2527"},
    "[DONE]",
]


def test_moonshot_stream_answer_and_finish():
    t = trace_from_openai_stream(MOONSHOT_STREAM)
    assert (t.answer, t.finish_reason, t.truncated) == ("。", "stop", False)


def test_moonshot_stream_choice_level_usage():
    t = trace_from_openai_stream(MOONSHOT_STREAM)
    assert t.usage == Usage(39, 211, None, 250)


# Mistral Magistral stream: delta.content is "" first, then LISTS of typed chunks whose
# `thinking` is itself a list of text chunks.  Source: BerriAI/litellm#16272 (raw SSE from
#   api.mistral.ai, magistral-medium-2509; the excerpt stops inside the thinking)
_MG = {"id": "c3c77283055240cbbaf6f01d384cfccb", "object": "chat.completion.chunk", "created": 1762355135, "model": "magistral-medium-2509"}
MAGISTRAL_STREAM = [
    {**_MG, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
    {**_MG, "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": None}]},
    *[{**_MG, "choices": [{"index": 0, "delta": {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": s}]}]}, "finish_reason": None}]}
      for s in ("'s a greeting", ", I should", " return", " a", " greeting")],
]


def test_magistral_stream_thinking_chunks():
    t = trace_from_openai_stream(MAGISTRAL_STREAM)
    assert t.answer == ""
    assert t.reasoning == "'s a greeting, I should return a greeting"


# Ollama native /api/chat stream (NDJSON, no `choices`): message.thinking deltas, then
# message.content, then a done chunk with done_reason and counts.
# Sources: langgenius/dify-official-plugins#2112 (qwen3:8b NDJSON, `"message":{"role":
#   "assistant","content":"","thinking":"好的"},"done":false`) and the Ollama Cloud probe B/C in
#   the "DeepSeek V4 Pro -- Wire-shape Research" doc, whose lines
#   are used here (first thinking lines, the last content line, the done line).
OLLAMA_NATIVE_STREAM = [
    {"model": "deepseek-v4-pro", "message": {"role": "assistant", "content": "", "thinking": "We"}, "done": False},
    {"model": "deepseek-v4-pro", "message": {"role": "assistant", "content": "", "thinking": " need"}, "done": False},
    {"model": "deepseek-v4-pro", "message": {"role": "assistant", "content": "**."}, "done": False},
    {"model": "deepseek-v4-pro", "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
     "total_duration": 34180217721, "prompt_eval_count": 19, "eval_count": 789},
]


def test_ollama_native_stream_thinking():
    t = trace_from_openai_stream(OLLAMA_NATIVE_STREAM)
    assert t.model == "deepseek-v4-pro"
    assert (t.reasoning, t.answer) == ("We need", "**.")
    assert (t.finish_reason, t.truncated) == ("stop", False)


# =====================================================================================
# split_thinking on raw model text
# =====================================================================================

# SGLang native /generate `text` (Qwen3, thinking on): both tags, "\n\n" after </think>.
# Source: sgl-project/sglang#27062 (PR description, "After")
SGLANG_RAW_TEXT = ("<think>\nOkay, the user is asking, \"What is 1+3?\" ... That way, they know the answer and "
                   "comprehension is covered.\n</think>\n\n1 + 3 equals **4**.")


def test_split_thinking_sglang_raw_text():
    reasoning, answer = split_thinking(SGLANG_RAW_TEXT)
    assert reasoning.startswith("Okay, the user is asking") and reasoning.endswith("comprehension is covered.")
    assert answer == "1 + 3 equals **4**."


def test_split_thinking_prompt_injected_open_tag():
    # tonyd2wild/DeepSeek-v4-...#16: raw /v1/completions text, "no opening tag"
    assert split_thinking(MISSING_OPEN_TAG["choices"][0]["message"]["content"]) == (
        "1.  The user asks for the product of 17 and 23\u2026\n3.  Provide the answer briefly.", "391")


# =====================================================================================
# Native (not OpenAI-compatible) bodies and further content markups
# =====================================================================================

# DashScope native API (Generation.call, incremental_output=True), thinking on: each SSE
# frame is a whole body with output.choices[0].message deltas, finish_reason the STRING
# "null" until the last frame, usage input_tokens/output_tokens on every frame.
# Source: Alibaba Cloud Model Studio docs, "Returned result" of the DashScope streaming
#   example (requestId 4edb81cd-...); the last two frames are written in the docs' shape.
def _dashscope_frame(reasoning="", content="", finish="null", out=6):
    return {"requestId": "4edb81cd-4647-9d5d-88f9-a4f30bc6d8dd",
            "usage": {"input_tokens": 238, "output_tokens": out, "total_tokens": 238 + out},
            "output": {"choices": [{"finish_reason": finish, "message": {
                "role": "assistant", "content": content, "reasoning_content": reasoning}}]}}


DASHSCOPE_NATIVE_STREAM = [
    _dashscope_frame("Okay, the user wants", out=6),
    _dashscope_frame("to tell me the weather in Hangzhou.", out=12),
    _dashscope_frame("", "It is sunny.", out=16),
    _dashscope_frame("", "", "stop", out=17),
]


def test_dashscope_native_stream():
    t = trace_from_openai_stream(DASHSCOPE_NATIVE_STREAM)
    assert t.reasoning == "Okay, the user wantsto tell me the weather in Hangzhou."
    assert t.answer == "It is sunny."
    assert (t.finish_reason, t.truncated) == ("stop", False)
    assert t.usage == Usage(238, 17, None, 255)


def test_dashscope_native_stream_cut_is_truncated():
    t = trace_from_openai_stream(DASHSCOPE_NATIVE_STREAM[:2])  # "null" is not a finish reason
    assert (t.finish_reason, t.truncated) == (None, True)


# DashScope native multimodal interface (Qwen3.5): content is a list of {"text": ...}
# parts (no "type"), possibly empty.
# Source: a public TypeScript DashScope client's test ("round-trips frames decoded from the
#   mocked SSE body"), frames verbatim.
DASHSCOPE_MULTIMODAL_STREAM = [
    {"output": {"choices": [{"finish_reason": "null", "message": {"role": "assistant", "content": [],
                                                                  "reasoning_content": "Hi"}}]},
     "usage": {}, "request_id": "r1"},
    {"output": {"choices": [{"finish_reason": "stop", "message": {"role": "assistant",
                                                                  "content": [{"text": "OK"}]}}]},
     "usage": {}, "request_id": "r1"},
]


def test_dashscope_native_multimodal_content_parts():
    t = trace_from_openai_stream(DASHSCOPE_MULTIMODAL_STREAM)
    assert (t.reasoning, t.answer, t.finish_reason) == ("Hi", "OK", "stop")
    assert t.usage == Usage()


def test_dashscope_native_body():
    body = _dashscope_frame("The user greets me.", "Hello!", "stop", out=9)
    t = trace_from_openai(body)
    assert (t.reasoning, t.answer, t.finish_reason) == ("The user greets me.", "Hello!", "stop")
    assert t.reasoning_source == "reasoning_content"
    assert t.usage == Usage(238, 9, None, 247)


# Ollama native /api/generate: `thinking` and `response` at the top level.
# Source: docs.ollama.com/capabilities/thinking ("The message.thinking (chat endpoint) or
#   thinking (generate endpoint) field contains the reasoning trace while message.content /
#   response holds the final answer"); the body follows ollama/docs/api.md's generate response.
OLLAMA_GENERATE = {
    "model": "qwen3", "created_at": "2025-05-30T12:00:00Z",
    "response": "There are 3 r's in strawberry.", "thinking": "Count the letters: s-t-r-a-w-b-e-r-r-y...",
    "done": True, "done_reason": "stop", "prompt_eval_count": 18, "eval_count": 120,
}


def test_ollama_native_generate():
    t = trace_from_openai(OLLAMA_GENERATE)
    assert t.reasoning.startswith("Count the letters") and t.answer == "There are 3 r's in strawberry."
    assert (t.finish_reason, t.reasoning_source) == ("stop", "thinking")
    assert t.usage == Usage(18, 120, None, None)


def test_ollama_native_generate_stream():
    lines = [{"model": "qwen3", "response": "", "thinking": "Count", "done": False},
             {"model": "qwen3", "response": "", "thinking": " them.", "done": False},
             {"model": "qwen3", "response": "3", "done": False},
             {"model": "qwen3", "response": "", "done": True, "done_reason": "length", "eval_count": 3}]
    t = trace_from_openai_stream(lines)
    assert (t.reasoning, t.answer, t.finish_reason, t.truncated) == ("Count them.", "3", "length", True)


# gpt-oss with the special tokens dropped by the detokenizer: the channel names are glued
# to the text.  Source: the docstring of a public agent-output parser ("Parse messy agent
# output like: 'analysisWe have...assistantcommentary...assistantfinal...'"), and the
# test cases of a public `remove_thinking_tags` ('assistantfinal{"x":1}',
# 'assistant<|channel|>final<|message|>{"x":1}<|end|>').
@pytest.mark.parametrize(("content", "reasoning", "answer"), [
    ("analysisWe have to add.assistantcommentaryNo tool needed.assistantfinal5",
     "We have to add.", "No tool needed.\n\n5"),
    ('assistantfinal{"x":1}', "", '{"x":1}'),
    ('assistant<|channel|>final<|message|>{"x":1}<|end|>', "", '{"x":1}'),
    ("<|channel|>analysis<|message|>Cut off while thinking", "Cut off while thinking", ""),
    ("analysis of the figures: all fine.", "", "analysis of the figures: all fine."),  # plain prose stays
])
def test_harmony_leftovers(content, reasoning, answer):
    t = trace_from_openai({"choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                        "finish_reason": "stop"}]})
    assert (t.reasoning, t.answer) == (reasoning, answer)
    assert t.reasoning_source == ("harmony channels" if reasoning else None)


# Magistral raw output with its [THINK]...[/THINK] tokens left in content (a server without
# Mistral's reasoning parser).  Source: the test cases of a public `remove_thinking_tags`
# ("[THINK]" markup); the forms below are variations.
@pytest.mark.parametrize(("content", "reasoning", "answer"), [
    ("[THINK]The user asks for 6*7.[/THINK]42", "The user asks for 6*7.", "42"),
    ("[THINK]The user asks for 6*7, so", "The user asks for 6*7, so", ""),  # cut off while thinking
])
def test_magistral_think_tokens_in_content(content, reasoning, answer):
    t = trace_from_openai({"choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                        "finish_reason": "stop"}]})
    assert (t.reasoning, t.answer, t.reasoning_source) == (reasoning, answer, "[THINK] tags")


# Markup written about in an answer is prose, not markup to split: it does not start the
# content, or a reasoning field already holds the reasoning.
@pytest.mark.parametrize(("message", "answer"), [
    ({"content": "Type [THINK] to start, then [/THINK] to stop."}, "Type [THINK] to start, then [/THINK] to stop."),
    ({"reasoning_content": "I think", "content": "[THINK] and [/THINK] wrap Magistral's reasoning."},
     "[THINK] and [/THINK] wrap Magistral's reasoning."),
    ({"content": "In harmony a message is <|channel|>analysis<|message|>text<|end|>. Done."},
     "In harmony a message is <|channel|>analysis<|message|>text<|end|>. Done."),
    ({"reasoning_content": "Explain.", "content": "<|channel|>final<|message|> is how gpt-oss marks answers."},
     "<|channel|>final<|message|> is how gpt-oss marks answers."),
])
def test_markup_in_prose_is_left_alone(message, answer):
    t = trace_from_openai({"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
    assert t.answer == answer
    assert t.reasoning == message.get("reasoning_content", "")


@pytest.mark.parametrize("finish", ["length", "LENGTH", "MAX_TOKENS", "model_length"])
def test_token_limit_finish_reasons_in_any_case_are_truncation(finish):
    t = trace_from_openai({"choices": [{"index": 0, "message": {"content": "x"}, "finish_reason": finish}]})
    assert t.truncated and t.finish_reason == finish


# =====================================================================================
# Transcripts pasted as text, and errors
# =====================================================================================

# A DashScope native SSE transcript as printed by curl: `id:` / `event:` fields and the
# `:HTTP_STATUS/200` comment around each `data:` line (no space after the colon).
# Source: a public TypeScript DashScope client's SSE parser test (THREE_FRAME_SAMPLE).
DASHSCOPE_SSE_TEXT = "\n".join([
    "id:1", "event:result", ":HTTP_STATUS/200",
    'data:{"output":{"choices":[{"finish_reason":"null","message":{"role":"assistant","content":[],'
    '"reasoning_content":"The"}}]}}',
    "", "id:2", "event:result", ":HTTP_STATUS/200",
    'data:{"output":{"choices":[{"finish_reason":"null","message":{"role":"assistant","content":[{"text":"Hi"}]}}]}}',
    "", "id:3", "event:result", ":HTTP_STATUS/200",
    'data:{"output":{"choices":[{"finish_reason":"stop","message":{"role":"assistant","content":[]}}]}}', "",
])


@pytest.mark.parametrize("form", [
    pytest.param(lambda t: t, id="str"),
    pytest.param(lambda t: t.encode(), id="bytes"),
    pytest.param(lambda t: t.splitlines(), id="lines"),
])
def test_sse_transcript_as_text(form):
    t = trace_from_openai_stream(form(DASHSCOPE_SSE_TEXT))
    assert (t.reasoning, t.answer, t.finish_reason, t.truncated) == ("The", "Hi", "stop", False)


def test_ollama_ndjson_transcript_as_text():
    import json

    t = trace_from_openai_stream("\n".join(json.dumps(line) for line in OLLAMA_NATIVE_STREAM))
    assert (t.reasoning, t.answer, t.finish_reason) == ("We need", "**.", "stop")


def test_openai_sse_transcript_with_done():
    text = ('data: {"choices":[{"index":0,"delta":{"reasoning_content":"Think."},"finish_reason":null}]}\n\n'
            'data: {"choices":[{"index":0,"delta":{"content":"Done."},"finish_reason":"stop"}]}\n\n'
            "data: [DONE]\n\n")
    t = trace_from_openai_stream(text)
    assert (t.reasoning, t.answer, t.finish_reason) == ("Think.", "Done.", "stop")


def test_body_as_json_text():
    import json

    t = trace_from_openai(json.dumps(OLLAMA_GENERATE))
    assert t.answer == "There are 3 r's in strawberry."


# An error object sent in the middle of a stream (OpenRouter documents mid-stream errors
# as a chunk with a top-level `error` and, here, no choices); variation: no choices key.
def test_mid_stream_error_is_kept_and_the_trace_is_truncated():
    chunks = [{"choices": [{"index": 0, "delta": {"reasoning": "Let me"}, "finish_reason": None}]},
              {"error": {"code": 502, "message": "Provider disconnected"}}]
    t = trace_from_openai_stream(chunks)
    assert t.reasoning == "Let me" and t.truncated
    assert t.extra["error"] == "Provider disconnected"


@pytest.mark.parametrize(("body", "message"), [
    ({"error": {"message": "Model Not Exist", "type": "invalid_request_error"}}, "the response is an error"),
    ("<html>502 Bad Gateway</html>", "response is not JSON"),
])
def test_error_bodies_and_non_json_are_clear_value_errors(body, message):
    with pytest.raises(ValueError, match=message):
        trace_from_openai(body)


def test_a_stream_line_that_is_not_json_is_a_clear_value_error():
    with pytest.raises(ValueError, match="stream line is not JSON"):
        trace_from_openai_stream(["data: {not json"])



def test_sse_events_given_one_per_item():
    events = ['event: message\ndata: {"choices":[{"index":0,"delta":{"reasoning_content":"Hm."}}]}\n\n',
              'event: message\ndata: {"choices":[{"index":0,"delta":{"content":"7"},"finish_reason":"stop"}]}\n\n']
    t = trace_from_openai_stream(events)
    assert (t.reasoning, t.answer, t.finish_reason) == ("Hm.", "7", "stop")


@pytest.mark.parametrize("text", ["", "event: ping\n", ": keep-alive\n\n"])
def test_stream_text_without_any_chunk_is_a_clear_value_error(text):
    with pytest.raises(ValueError, match="holds no chunk"):
        trace_from_openai_stream(text)


# DashScope native API, result_format="text": `output.text` and `output.finish_reason`.
# Source: Alibaba Cloud Model Studio DashScope API reference (the "text" result format).
def test_dashscope_native_text_result_format():
    t = trace_from_openai({"output": {"text": "42", "finish_reason": "stop"},
                           "usage": {"input_tokens": 3, "output_tokens": 1}, "request_id": "r"})
    assert (t.answer, t.finish_reason, t.usage) == ("42", "stop", Usage(3, 1, None, None))


# DashScope native error body / stream line: top-level `code` and `message`.
def test_dashscope_native_error():
    body = {"code": "InvalidApiKey", "message": "Invalid API-key provided.", "request_id": "r"}
    with pytest.raises(ValueError, match="InvalidApiKey: Invalid API-key provided."):
        trace_from_openai(body)
    t = trace_from_openai_stream([DASHSCOPE_NATIVE_STREAM[0], body])
    assert t.truncated and t.extra["error"] == "InvalidApiKey: Invalid API-key provided."


@pytest.mark.parametrize("content", [42, [42], [{"type": "text", "text": "4"}, 2]])
def test_numeric_content_in_streams_and_lists(content):
    chunks = [{"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": "stop"}]}]
    assert trace_from_openai_stream(chunks).answer == "42"
    assert trace_from_openai({"choices": [{"message": {"content": content}, "finish_reason": "stop"}]}).answer == "42"


# OpenRouter documents mid-stream errors as a chunk with a top-level `error` AND a choice
# whose finish_reason is "error" (openrouter.ai/docs, "Error handling": streaming).
def test_openrouter_mid_stream_error_beside_a_choice():
    chunks = [{"choices": [{"index": 0, "delta": {"reasoning": "Let me"}, "finish_reason": None}]},
              {"id": "cmpl-abc", "object": "chat.completion.chunk", "provider": "openai",
               "error": {"code": "server_error", "message": "Provider disconnected unexpectedly"},
               "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]}]
    t = trace_from_openai_stream(chunks)
    assert (t.reasoning, t.finish_reason) == ("Let me", "error")
    assert t.extra["error"] == "Provider disconnected unexpectedly"


# =====================================================================================
# Further providers and event streams
# =====================================================================================

# Groq, older streams: usage only in `x_groq.usage` of the last chunk.
# Source: vercel/ai packages/groq/src/groq-chat-language-model.test.ts (gemma2-9b-it).
def test_groq_usage_in_x_groq():
    chunks = [{"id": "chatcmpl-e7f8e220", "object": "chat.completion.chunk", "created": 1729171479,
               "model": "gemma2-9b-it", "system_fingerprint": "fp_10c08bf97d",
               "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "tool_calls"}],
               "x_groq": {"id": "req_01jadadp0femyae9kav1gpkhe8",
                          "usage": {"queue_time": 0.061348671, "prompt_tokens": 18, "prompt_time": 0.000211569,
                                    "completion_tokens": 439, "completion_time": 0.798181818, "total_tokens": 457,
                                    "total_time": 0.798393387}}}]
    assert trace_from_openai_stream(chunks).usage == Usage(18, 439, None, 457)


# `finish_reason: ""` on every chunk until the last (Ollama /v1: ollama/ollama#4357;
# SenseNova deepseek-v4-flash: farion1231/cc-switch#5087): "" is "not finished yet".
OLLAMA_EMPTY_FINISH = [
    {"id": "chatcmpl-693", "object": "chat.completion.chunk", "created": 1715427619, "model": "mistral:latest",
     "system_fingerprint": "fp_ollama",
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": " Hello"}, "finish_reason": ""}]},
    {"id": "chatcmpl-693", "object": "chat.completion.chunk", "created": 1715427619, "model": "mistral:latest",
     "system_fingerprint": "fp_ollama",
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "!"}, "finish_reason": ""}]},
]


def test_empty_finish_reason_is_not_a_finish():
    cut = trace_from_openai_stream(OLLAMA_EMPTY_FINISH)
    assert (cut.answer, cut.finish_reason, cut.truncated) == ("Hello!", None, True)
    done = trace_from_openai_stream([*OLLAMA_EMPTY_FINISH, {"choices": [{"index": 0, "delta": {},
                                                                         "finish_reason": "stop"}]}])
    assert (done.finish_reason, done.truncated) == ("stop", False)


# OpenAI Responses API streaming events (served by vLLM and Ollama too); the events are
# written in the documented shape (platform.openai.com, "Streaming API responses").
RESPONSES_EVENTS = """\
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","model":"openai/gpt-oss-20b","status":"in_progress","output":[]}}
data: {"type":"response.reasoning_text.delta","sequence_number":3,"item_id":"rs_1","output_index":0,"content_index":0,"delta":"User asks 2+2."}
data: {"type":"response.output_text.delta","sequence_number":7,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"4"}
data: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_1","model":"openai/gpt-oss-20b","status":"completed","output":[{"type":"reasoning","content":[{"type":"reasoning_text","text":"User asks 2+2."}]},{"type":"message","content":[{"type":"output_text","text":"4"}]}],"usage":{"input_tokens":10,"output_tokens":8,"output_tokens_details":{"reasoning_tokens":5},"total_tokens":18}}}
"""


def test_responses_api_stream_events():
    t = trace_from_openai_stream(RESPONSES_EVENTS)
    assert (t.reasoning, t.answer, t.finish_reason, t.truncated) == ("User asks 2+2.", "4", "completed", False)
    assert t.usage == Usage(10, 8, 5, 18) and t.model == "openai/gpt-oss-20b"
    cut = trace_from_openai_stream(RESPONSES_EVENTS.splitlines()[:3])  # before response.completed
    assert (cut.reasoning, cut.answer, cut.truncated, cut.model) == ("User asks 2+2.", "4", True, "openai/gpt-oss-20b")


# Anthropic-compatible /v1/messages endpoints (DeepSeek api.deepseek.com/anthropic, MiniMax,
# Kimi): `content` parts thinking/text, `stop_reason`, input/output tokens.  Fields as
# quoted in NousResearch/hermes-agent#16149 and QuantumNous/new-api#4762; assembled here.
ANTHROPIC_BODY = {"id": "msg_1", "type": "message", "role": "assistant", "model": "deepseek-v4-pro",
                  "content": [{"type": "thinking", "thinking": "The user wants 2+2.", "signature": ""},
                              {"type": "text", "text": "4"}],
                  "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 20}}
ANTHROPIC_EVENTS = [
    {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                                          "model": "deepseek-v4-pro", "content": [],
                                          "usage": {"input_tokens": 10, "output_tokens": 1}}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "The user "}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "wants 2+2."}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQB"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "4"}},
    {"type": "content_block_stop", "index": 1},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
     "usage": {"output_tokens": 20}},
    {"type": "message_stop"},
]


def test_anthropic_compatible_body_and_stream():
    body = trace_from_openai(ANTHROPIC_BODY)
    stream = trace_from_openai_stream(ANTHROPIC_EVENTS)
    for t in (body, stream):
        assert (t.reasoning, t.answer, t.finish_reason, t.truncated) == ("The user wants 2+2.", "4", "end_turn", False)
        assert t.usage == Usage(10, 20, None, None) and t.model == "deepseek-v4-pro"
    cut = trace_from_openai_stream(ANTHROPIC_EVENTS[:4])
    assert (cut.reasoning, cut.answer, cut.truncated) == ("The user wants 2+2.", "", True)


# =====================================================================================
# Other thinking markup in content, LM Studio's native API, usage and finish variants
# =====================================================================================

# gpt-oss on Amazon Bedrock's OpenAI-compatible endpoint: the reasoning inside
# <reasoning>...</reasoning> in `content`, in a stream one block per chunk.
# Sources: llamastack/llama-stack tests/integration/inference/recordings/085098d4...f25.json
# (a recorded Bedrock /openai/v1/chat/completions stream, chunks trimmed to their fields);
# a public Bedrock endpoint test script's gpt-oss-120b body.
BEDROCK_CHUNKS = [
    {"id": "rec-085098d43435", "model": "openai.gpt-oss-20b-1:0", "object": "chat.completion.chunk",
     "choices": [{"delta": {"content": "", "role": "assistant"}, "finish_reason": None, "index": 0}]},
    {"id": "rec-085098d43435", "model": "openai.gpt-oss-20b-1:0", "object": "chat.completion.chunk",
     "choices": [{"delta": {"content": '<reasoning>We need to answer. The Latin word for Sun is "sol". '
                            'Also the Latin name "Sol"</reasoning>'}, "finish_reason": None, "index": 0}]},
    {"id": "rec-085098d43435", "model": "openai.gpt-oss-20b-1:0", "object": "chat.completion.chunk",
     "choices": [{"delta": {"content": '<reasoning> (genitive "Solis"). So answer. Use brief.</reasoning>'},
                  "finish_reason": None, "index": 0}]},
    {"id": "rec-085098d43435", "model": "openai.gpt-oss-20b-1:0", "object": "chat.completion.chunk",
     "choices": [{"delta": {"content": "In Latin the Sun"}, "finish_reason": None, "index": 0}]},
    {"id": "rec-085098d43435", "model": "openai.gpt-oss-20b-1:0", "object": "chat.completion.chunk",
     "choices": [{"delta": {"content": " is called **Sol** (genitive *Solis*)."}, "finish_reason": "stop",
                  "index": 0}]},
]


def test_bedrock_gpt_oss_reasoning_tags_in_content():
    t = trace_from_openai_stream(BEDROCK_CHUNKS)
    assert t.reasoning == ('We need to answer. The Latin word for Sun is "sol". Also the Latin name "Sol" '
                           '(genitive "Solis"). So answer. Use brief.')  # the chunks' blocks joined as sent
    assert (t.answer, t.reasoning_source, t.truncated) == ("In Latin the Sun is called **Sol** (genitive *Solis*).",
                                                           "<reasoning> tags", False)
    body = trace_from_openai({
        "id": "chatcmpl-95839a6c", "model": "openai.gpt-oss-120b-1:0", "object": "chat.completion",
        "choices": [{"finish_reason": "stop", "index": 0, "message": {"role": "assistant", "content":
                     "<reasoning>The user wants get weather for Miami. So we need to call function.</reasoning>"
                     "{\n  \"location\": \"Miami\"\n}"}}],
        "usage": {"completion_tokens": 44, "prompt_tokens": 16, "total_tokens": 60}})
    assert (body.reasoning, body.answer) == ("The user wants get weather for Miami. So we need to call function.",
                                             '{\n  "location": "Miami"\n}')


# Gemini's OpenAI-compatible endpoint with include_thoughts: thought summaries inside
# <thought>...</thought> in `content`, marked extra_content.google.thought.  Source: a
# public repository's test fixture of that endpoint's stream.  And <thinking> tags left in
# content (an AI gateway's "Using Reasoning Streams" page for AWS Bedrock).
GEMINI_SSE = (
    'data: {"choices":[{"delta":{"role":"assistant","content":"<thought>**Calculating**\\n\\nStep one.",'
    '"extra_content":{"google":{"thought":true}}},"index":0}],"object":"chat.completion.chunk"}\n\n'
    'data: {"choices":[{"delta":{"content":"More thinking.","extra_content":{"google":{"thought":true}}},'
    '"index":0}],"object":"chat.completion.chunk"}\n\n'
    'data: {"choices":[{"delta":{"content":"</thought>The answer is "},"index":0}],"object":"chat.completion.chunk"}\n\n'
    'data: {"choices":[{"delta":{"content":"391."},"index":0,"finish_reason":"stop"}],'
    '"object":"chat.completion.chunk"}\n\n'
)


def test_gemini_thought_tags_in_content():
    t = trace_from_openai_stream(GEMINI_SSE)
    assert (t.reasoning, t.answer, t.reasoning_source) == ("**Calculating**\n\nStep one.More thinking.",
                                                           "The answer is 391.", "<thought> tags")


@pytest.mark.parametrize(("content", "finish", "reasoning", "answer", "source"), [
    ("<thinking>\nI need 2^10 * 3^5.\n</thinking>To solve it: 248,832", "stop", "I need 2^10 * 3^5.",
     "To solve it: 248,832", "<thinking> tags"),
    ("<thought>Cut off while", "length", "Cut off while", "", "<thought> tags"),  # cut before its close
    ("<thought>Cut off while", None, "Cut off while", "", "<thought> tags"),
    # a tag in words, never closed, in a reply that ended: the reply is about the tag
    ("<thinking> is an XML-like tag. Use it so.", "stop", "", "<thinking> is an XML-like tag. Use it so.", None),
    ("The <thinking> tag is what some models write.", "stop", "", "The <thinking> tag is what some models write.",
     None),
])
def test_thought_and_thinking_tags_in_content(content, finish, reasoning, answer, source):
    t = trace_from_openai({"choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                        "finish_reason": finish}]})
    assert (t.reasoning, t.answer, t.reasoning_source) == (reasoning, answer, source)


# LM Studio's native REST API (/api/v1/chat, LM Studio 0.4+): `output` items with plain
# text `content`, `model_instance_id`, `stats`.  Source: lmstudio-ai/docs, "Streaming
# events" (the chat.end example's result, tool call trimmed), and an LM Studio
# "Generated prediction" log quoted in a public test fixture (reasoning only).
LMSTUDIO_BODY = {
    "model_instance_id": "openai/gpt-oss-20b",
    "output": [{"type": "reasoning", "content": "Need to call function."},
               {"type": "tool_call", "tool": "model_search", "arguments": {"limit": 1}, "output": "[]"},
               {"type": "message", "content": "The current top-trending model is..."}],
    "stats": {"input_tokens": 329, "total_output_tokens": 268, "reasoning_output_tokens": 5,
              "tokens_per_second": 43.73, "time_to_first_token_seconds": 0.781},
    "thread_id": "thread_02b2017dbc06c12bfc353a2ed6c2b802f8cc682884bb5716",
}
LMSTUDIO_EVENTS = [
    {"type": "chat.start", "model_instance_id": "openai/gpt-oss-20b"},
    {"type": "reasoning.start"},
    {"type": "reasoning.delta", "content": "Need to call "},
    {"type": "reasoning.delta", "content": "function."},
    {"type": "reasoning.end"},
    {"type": "message.start"},
    {"type": "message.delta", "content": "The current top-trending model is..."},
    {"type": "message.end"},
    {"type": "chat.end", "result": LMSTUDIO_BODY},
]


def test_lmstudio_native_body_and_stream():
    for t in (trace_from_openai(LMSTUDIO_BODY), trace_from_openai_stream(LMSTUDIO_EVENTS)):
        assert (t.reasoning, t.answer) == ("Need to call function.", "The current top-trending model is...")
        assert (t.model, t.usage) == ("openai/gpt-oss-20b", Usage(329, 268, 5, None))
    cut = trace_from_openai_stream(LMSTUDIO_EVENTS[:5])  # no chat.end: cut while thinking
    assert (cut.reasoning, cut.answer, cut.truncated, cut.model) == ("Need to call function.", "", True,
                                                                     "openai/gpt-oss-20b")
    only = trace_from_openai({"model_instance_id": "qwen3.8-27b",
                              "output": [{"type": "reasoning", "content": "We need to respond SECRET-V1 with pong"}],
                              "stats": {"input_tokens": 59, "total_output_tokens": 24, "reasoning_output_tokens": 24}})
    assert (only.reasoning, only.answer, only.truncated) == ("We need to respond SECRET-V1 with pong", "", True)


# Grok on Vertex AI counts reasoning tokens beside completion_tokens ("separated from the
# completion_tokens": 663 + 50 + 124 = 837).  Source: Google Cloud, Vertex AI, "Grok
# models: reasoning".  Reasoning tokens are kept inside completion_tokens here, as the
# other providers count them; a total that already adds up (302.ai's grok-4) is as sent.
@pytest.mark.parametrize(("usage", "expected"), [
    ({"completion_tokens": 50, "completion_tokens_details": {"reasoning_tokens": 124}, "prompt_tokens": 663,
      "total_tokens": 837}, Usage(663, 174, 124, 837)),
    ({"prompt_tokens": 686, "completion_tokens": 123, "total_tokens": 809, "input_tokens": 0, "output_tokens": 0,
      "completion_tokens_details": {"reasoning_tokens": 112}}, Usage(686, 123, 112, 809)),
    ({"completion_tokens": 10, "completion_tokens_details": {"reasoning_tokens": 30}}, Usage(None, 40, 30, None)),
    ({"prompt_tokens": 10, "completion_tokens": 5, "completion_tokens_details": {"reasoning_tokens": 7},
      "total_tokens": 15}, Usage(10, 5, 7, 15)),  # a total that adds up without them: as sent
    ({"prompt_tokens": 5, "completion_tokens": 30, "completion_tokens_details": {"reasoning_tokens": 30},
      "total_tokens": 35}, Usage(5, 30, 30, 35)),  # all of it reasoning: inside
])
def test_reasoning_tokens_counted_inside_completion_tokens(usage, expected):
    t = trace_from_openai({"choices": [{"index": 0, "message": {"content": "Hi"}, "finish_reason": "stop"}],
                           "usage": usage})
    assert t.usage == expected


# Chunks pasted into an issue as one pretty-printed JSON array (beijixiaohu/OJBetter#412,
# DeepSeek V4, two chunks).
def test_chunks_pasted_as_a_json_array():
    text = json.dumps([{"id": "x", "object": "chat.completion.chunk", "model": "deepseek-v4-flash",
                        "choices": [{"index": 0, "delta": {"content": c, "reasoning_content": None},
                                     "finish_reason": None}]} for c in "效劳"], indent=4, ensure_ascii=False)
    t = trace_from_openai_stream(text)
    assert (t.answer, t.model, t.truncated) == ("效劳", "deepseek-v4-flash", True)  # no finish reason came
    lines = json.dumps(['data: {"choices":[{"index":0,"delta":{"content":"A"},"finish_reason":"stop"}]}',
                        "data: [DONE]"])  # an array of the transcript's lines
    assert (trace_from_openai_stream(lines).answer, trace_from_openai_stream(lines).finish_reason) == ("A", "stop")
    body = {"choices": [{"index": 0, "message": {"content": "Austin", "reasoning_content": "Texas."},
                         "finish_reason": "stop"}]}  # a whole body among the chunks gives its message
    assert (trace_from_openai_stream(json.dumps([body])).reasoning, trace_from_openai_stream([body]).answer) == \
        ("Texas.", "Austin")
