"""Provider wire-format bodies: chat completions, stream chunks, SSE text."""

from __future__ import annotations

import json
from typing import Any

#: Japanese reasoning shaped like the seed experiment's DeepSeek trace (precise prompt).
PLAIN = "アメリカ合衆国において、ダラスを含む州の州都の名前をおしえてください。"
SEED_REASONING = (
    "ダラスはテキサス州の都市です。ダラス・カウボーイズはNFLのチームですね。"
    "ちょっと待ってください、確認します。テキサス州の州都はオースティンです。"
)


def completion(
    message: dict[str, Any] | None = None,
    *,
    finish_reason: str | None = "stop",
    model: str = "deepseek-reasoner",
    usage: dict[str, Any] | None = None,
    **top: Any,
) -> dict[str, Any]:
    """A non-streamed chat completion body as a provider sends it."""
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", **(message or {})},
                "finish_reason": finish_reason,
            }
        ],
    }
    if usage is not None:
        body["usage"] = usage
    body.update(top)
    return body


def chunk(
    delta: dict[str, Any] | None = None,
    *,
    finish_reason: str | None = None,
    model: str = "qwen3-max",
    choices: bool = True,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` (``choices=False``: the usage-only final chunk)."""
    body: dict[str, Any] = {
        "id": "chatcmpl-stream",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish_reason}] if choices else [],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def stream_chunks(
    reasoning: list[str],
    content: list[str],
    *,
    field: str = "reasoning_content",
    finish_reason: str | None = "stop",
    usage: dict[str, Any] | None = None,
    model: str = "qwen3-max",
) -> list[dict[str, Any]]:
    """Chunks as DashScope/vLLM stream them: a role chunk, reasoning deltas (content
    None), content deltas (reasoning None), a finish chunk and a usage-only chunk."""
    out = [chunk({"role": "assistant", "content": None, field: ""}, model=model)]
    out += [chunk({"content": None, field: r}, model=model) for r in reasoning]
    out += [chunk({"content": c, field: None}, model=model) for c in content]
    if finish_reason is not None:
        out.append(chunk({}, finish_reason=finish_reason, model=model))
        if usage is not None:
            out.append(chunk(choices=False, usage=usage, model=model))
    return out


def sse(chunks: list[dict[str, Any]], done: bool = True) -> str:
    """The SSE body: ``data: {...}\\n\\n`` per chunk, then ``data: [DONE]``."""
    text = "".join(f"data: {json.dumps(c, ensure_ascii=False)}\n\n" for c in chunks)
    return text + ("data: [DONE]\n\n" if done else "")


USAGE = {
    "prompt_tokens": 21,
    "completion_tokens": 120,
    "total_tokens": 141,
    "completion_tokens_details": {"reasoning_tokens": 100},
}
