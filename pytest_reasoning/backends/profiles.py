"""Provider profiles: what differs between OpenAI-compatible providers, as data.

One :class:`Provider` per backend name says where the provider lives, which
environment variables hold its key and base URL, and how it wants thinking switched
(one small function per switch style).  Adding a provider is one entry in
:data:`PROVIDERS`; the backend registry, the settings table and the README's backend
table all read it.

Sources: the providers' API docs as summarised in the project's backend reference
(DeepSeek thinking mode, DashScope compatible mode, vLLM/SGLang reasoning parsers,
llama.cpp server, Ollama OpenAI compatibility, OpenRouter reasoning tokens).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Provider", "PROVIDERS", "Switch", "EnvValue"]

#: ``(thinking, budget, effort) -> (top-level kwargs, extra_body fields)``: how one
#: provider family turns the ``thinking`` (bool or None), ``thinking_budget`` (tokens)
#: and ``reasoning_effort`` params into its request.
Switch = Callable[[Any, Any, Any], tuple[dict[str, Any], dict[str, Any]]]


def _effort(effort: Any) -> dict[str, Any]:
    return {} if effort is None else {"reasoning_effort": effort}


def deepseek_switch(thinking: Any, budget: Any, effort: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """DeepSeek: ``thinking: {"type": "enabled"/"disabled"}`` in the body."""
    extra = {} if thinking is None else {"thinking": {"type": "enabled" if thinking else "disabled"}}
    return _effort(effort), extra


def dashscope_switch(thinking: Any, budget: Any, effort: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """DashScope compatible mode: ``enable_thinking`` and ``thinking_budget``."""
    extra: dict[str, Any] = {}
    if thinking is not None:
        extra["enable_thinking"] = bool(thinking)
    if budget is not None:
        extra["thinking_budget"] = budget
    return _effort(effort), extra


def chat_template_switch(thinking: Any, budget: Any, effort: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Servers that render the model's chat template: ``chat_template_kwargs:
    {"enable_thinking": ...}`` (a budget is not sent)."""
    extra = {} if thinking is None else {"chat_template_kwargs": {"enable_thinking": bool(thinking)}}
    return _effort(effort), extra


def vllm_switch(thinking: Any, budget: Any, effort: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """vLLM: ``chat_template_kwargs: {"enable_thinking": ...}``, the budget as
    ``thinking_token_budget`` (vLLM's thinking-budget sampling; the server needs
    ``--reasoning-config``)."""
    kw, extra = chat_template_switch(thinking, budget, effort)
    return kw, {**extra, **({} if budget is None else {"thinking_token_budget": budget})}


def llamacpp_switch(thinking: Any, budget: Any, effort: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """llama.cpp: ``chat_template_kwargs: {"enable_thinking": ...}``, the budget as
    ``reasoning_budget_tokens`` (llama-server's per-request ``--reasoning-budget``)."""
    kw, extra = chat_template_switch(thinking, budget, effort)
    return kw, {**extra, **({} if budget is None else {"reasoning_budget_tokens": budget})}


def sglang_switch(thinking: Any, budget: Any, effort: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """SGLang: ``chat_template_kwargs: {"enable_thinking": ..., "thinking_budget": ...}``
    (the budget a hint to templates that read it, as Qwen3's does), plus
    ``separate_reasoning: true`` (reasoning in its own field)."""
    kw, extra = chat_template_switch(thinking, budget, effort)
    if budget is not None:
        extra = {"chat_template_kwargs": {**extra.get("chat_template_kwargs", {}), "thinking_budget": budget}}
    return kw, {**extra, "separate_reasoning": True}


def ollama_switch(thinking: Any, budget: Any, effort: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ollama ``/v1``: thinking is switched off with ``reasoning_effort: "none"``."""
    if thinking is False and effort is None:
        return {"reasoning_effort": "none"}, {}
    return _effort(effort), {}


def openrouter_switch(thinking: Any, budget: Any, effort: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """OpenRouter: ``reasoning: {"enabled", "max_tokens", "effort"}`` (effort moves in)."""
    if thinking is None and budget is None:
        return _effort(effort), {}
    reasoning: dict[str, Any] = {"enabled": thinking is not False}
    if budget is not None:
        reasoning["max_tokens"] = budget
    if effort is not None:
        reasoning["effort"] = effort
    return {}, {"reasoning": reasoning}


def openai_switch(thinking: Any, budget: Any, effort: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """OpenAI: reasoning is always on; only ``reasoning_effort`` is sent."""
    return _effort(effort), {}


class EnvValue(str):
    """A value read from an environment variable (an API key, a base URL): the value
    itself (a ``str`` everywhere it goes) that also knows where it came from, so that a
    server's 401, or a server that cannot be reached, names the variable to fix.

    Attributes:
        source: the variable, as a user types it (``"$LLAMACPP_API_KEY"``).
    """

    source: str

    def __new__(cls, value: str, source: str) -> EnvValue:
        key = super().__new__(cls, value)
        key.source = source
        return key

    def __reduce__(self) -> tuple[Any, ...]:
        return (EnvValue, (str(self), self.source))


@dataclass(frozen=True)
class Provider:
    """How one OpenAI-compatible provider is reached and switched.

    Attributes:
        base_url: default base URL (``None``: the openai client's default).
        key_env: environment variables holding the key, first set wins.
        base_url_env: environment variables holding the base URL, first set wins.
        key_required: whether a missing key is an error before any call.
        switch: how thinking is switched (a :data:`Switch`).
        stream_when_thinking: stream whenever thinking is not switched off
            (DashScope answers 400 to a non-streamed thinking request).
        extra_sampling: whether non-standard sampling (``top_k``, ``min_p``,
            ``repetition_penalty``) may be sent (in ``extra_body``).
        field_names: a request parameter's name where the provider spells it
            otherwise (llama.cpp's ``repeat_penalty`` for ``repetition_penalty``).
        max_tokens_field: the request field for ``max_tokens``.
        reasoning_shown: how the README describes where reasoning comes back.
    """

    base_url: str | None
    key_env: tuple[str, ...]
    base_url_env: tuple[str, ...]
    key_required: bool
    switch: Switch
    stream_when_thinking: bool = False
    extra_sampling: bool = True
    field_names: Mapping[str, str] = field(default_factory=dict)
    max_tokens_field: str = "max_tokens"
    reasoning_shown: str = "`reasoning_content`"

    def honours(self, param: str) -> bool:
        """Whether request parameter ``param`` reaches this provider: ``thinking_budget``
        only where its :attr:`switch` sends a budget, ``top_k`` / ``min_p`` /
        ``repetition_penalty`` only with :attr:`extra_sampling`; every other one."""
        if param == "thinking_budget":
            return self.switch(None, 1, None) != self.switch(None, None, None)
        if param in ("top_k", "min_p", "repetition_penalty"):
            return self.extra_sampling
        return True

    def key(self, environ: Mapping[str, str] | None = None) -> EnvValue | None:
        """The key from the first of :attr:`key_env` that is set, as an :class:`EnvValue`
        naming that variable (``None`` if none is set)."""
        environ = os.environ if environ is None else environ
        return next((EnvValue(environ[v], f"${v}") for v in self.key_env if environ.get(v)), None)

    def key_places(self) -> str:
        """Every place a key for this provider may come from, in words
        (``"$LLAMACPP_API_KEY, $OPENAI_API_KEY or --reasoning-api-key"``)."""
        return ", ".join(f"${v}" for v in self.key_env) + " or --reasoning-api-key"

    def url(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The base URL from the first of :attr:`base_url_env` that is set, as an
        :class:`EnvValue` naming that variable; else :attr:`base_url`."""
        environ = os.environ if environ is None else environ
        return next((EnvValue(environ[v], f"${v}") for v in self.base_url_env if environ.get(v)), None) \
            or self.base_url


def _hosted(name: str, base_url: str | None, switch: Switch, **kw: Any) -> Provider:
    """A hosted provider: only its own ``$<NAME>_API_KEY`` / ``$<NAME>_BASE_URL``, so a
    key is never sent to another provider."""
    return Provider(base_url, (f"{name.upper()}_API_KEY",), (f"{name.upper()}_BASE_URL",), True, switch, **kw)


def _served(name: str, base_url: str, switch: Switch, **kw: Any) -> Provider:
    """A server you run (vLLM, SGLang, llama.cpp, Ollama): ``$<NAME>_API_KEY``, then the
    generic ``$OPENAI_API_KEY``; the same for the base URL; no key needed."""
    upper = name.upper()
    return Provider(
        base_url, (f"{upper}_API_KEY", "OPENAI_API_KEY"), (f"{upper}_BASE_URL", "OPENAI_BASE_URL"), False, switch, **kw
    )


PROVIDERS: dict[str, Provider] = {
    "openai": Provider(
        None, ("OPENAI_API_KEY",), ("OPENAI_BASE_URL",), True, openai_switch, extra_sampling=False,
        max_tokens_field="max_completion_tokens", reasoning_shown="hidden (token count only)",
    ),
    "deepseek": _hosted("deepseek", "https://api.deepseek.com", deepseek_switch, extra_sampling=False),
    "dashscope": _hosted(
        "dashscope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", dashscope_switch,
        stream_when_thinking=True, reasoning_shown="`reasoning_content` deltas",
    ),
    "vllm": _served("vllm", "http://localhost:8000/v1", vllm_switch,
                    reasoning_shown="`reasoning` (new) or `reasoning_content` (old)"),
    "sglang": _served("sglang", "http://localhost:30000/v1", sglang_switch,
                      reasoning_shown="`reasoning_content`, top-level `usage.reasoning_tokens`"),
    "llamacpp": _served("llamacpp", "http://localhost:8080/v1", llamacpp_switch,
                        field_names={"repetition_penalty": "repeat_penalty"},
                        reasoning_shown="`reasoning_content`, or `<think>` tags in `content`"),
    "ollama": _served("ollama", "http://localhost:11434/v1", ollama_switch, extra_sampling=False,
                      reasoning_shown="`reasoning`"),
    "openrouter": _hosted("openrouter", "https://openrouter.ai/api/v1", openrouter_switch,
                          reasoning_shown="`reasoning`, `reasoning_details[]`"),
}
