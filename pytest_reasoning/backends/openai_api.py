"""Hosted and served reasoning models through the ``openai`` client.

One backend class; a :class:`Provider` profile per name says where the provider
lives, where its key is, and how it wants thinking switched on or off:

========== ======================================= ==========================================
name       default base URL / key variable         thinking switch sent
========== ======================================= ==========================================
deepseek   api.deepseek.com / DEEPSEEK_API_KEY     ``thinking: {"type": "enabled"|"disabled"}``
dashscope  dashscope-intl…/compatible-mode/v1 /    ``enable_thinking``, ``thinking_budget``;
           DASHSCOPE_API_KEY                       streams whenever thinking is on
vllm       $OPENAI_BASE_URL or localhost:8000      ``chat_template_kwargs.enable_thinking``
sglang     $OPENAI_BASE_URL or localhost:30000     same, plus ``separate_reasoning``
llamacpp   $OPENAI_BASE_URL or localhost:8080      ``chat_template_kwargs.enable_thinking``
ollama     $OPENAI_BASE_URL or localhost:11434/v1  ``reasoning_effort: "none"`` to disable
openrouter openrouter.ai/api/v1 / OPENROUTER_API_KEY ``reasoning: {enabled, max_tokens, effort}``
openai     api.openai.com / OPENAI_API_KEY         ``reasoning_effort``
========== ======================================= ==========================================

Sources: the providers' API docs as summarised in the project's backend reference
(DeepSeek thinking mode, DashScope compatible mode, vLLM/SGLang reasoning parsers,
llama.cpp server, Ollama OpenAI compatibility, OpenRouter reasoning tokens).
Retries on 429/5xx and connection errors are the ``openai`` client's own
(exponential back-off honouring ``Retry-After``), bounded by ``max_retries``.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..redaction import redact_text
from .base import Backend, BackendError, RawResponse, Request

__all__ = ["OpenAIBackend", "Provider", "PROVIDERS", "build_request"]


@dataclass(frozen=True)
class Provider:
    """How one OpenAI-compatible provider is reached and switched.

    Attributes:
        base_url: default base URL (``None``: the openai client's default).
        key_env: environment variable holding the key.
        key_required: whether a missing key is an error before any call.
        thinking: how the thinking switch is sent (``deepseek``, ``dashscope``,
            ``chat_template``, ``sglang``, ``ollama``, ``openrouter``, ``openai``).
        stream_when_thinking: stream whenever thinking is not switched off
            (DashScope answers 400 to a non-streamed thinking request).
        extra_sampling: whether non-standard sampling (``top_k``, ``min_p``) may be sent.
    """

    base_url: str | None
    key_env: str
    key_required: bool
    thinking: str
    stream_when_thinking: bool = False
    extra_sampling: bool = True


PROVIDERS: dict[str, Provider] = {
    "deepseek": Provider("https://api.deepseek.com", "DEEPSEEK_API_KEY", True, "deepseek", extra_sampling=False),
    "dashscope": Provider(
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY", True, "dashscope",
        stream_when_thinking=True,
    ),
    "vllm": Provider("http://localhost:8000/v1", "OPENAI_API_KEY", False, "chat_template"),
    "sglang": Provider("http://localhost:30000/v1", "OPENAI_API_KEY", False, "sglang"),
    "llamacpp": Provider("http://localhost:8080/v1", "OPENAI_API_KEY", False, "chat_template"),
    "ollama": Provider("http://localhost:11434/v1", "OPENAI_API_KEY", False, "ollama"),
    "openrouter": Provider("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", True, "openrouter"),
    "openai": Provider(None, "OPENAI_API_KEY", True, "openai", extra_sampling=False),
}

_STANDARD = ("temperature", "top_p", "seed", "stop", "presence_penalty", "frequency_penalty", "n")
_EXTRA_SAMPLING = ("top_k", "min_p", "repetition_penalty")
_HANDLED = {*_STANDARD, *_EXTRA_SAMPLING, "max_tokens", "thinking", "thinking_budget", "reasoning_effort",
            "stream", "extra_body"}


def build_request(provider_name: str, model: str, messages: list[Any], params: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``client.chat.completions.create`` for ``params``.

    ``params`` keys understood: ``temperature``, ``top_p``, ``seed``, ``stop``,
    ``max_tokens`` (``max_completion_tokens`` for ``openai``), ``top_k``, ``min_p``
    (sent in ``extra_body`` where the provider takes them, dropped for DeepSeek and
    OpenAI), ``thinking`` (bool), ``thinking_budget`` (tokens), ``reasoning_effort``,
    ``stream`` (bool), ``extra_body`` (dict, merged last, wins).  Unknown keys go to
    ``extra_body`` unchanged.

    Returns:
        dict with ``model``, ``messages``, ``stream`` and the rest; ``extra_body``
        only when non-empty.
    """
    p = PROVIDERS[provider_name]
    kw: dict[str, Any] = {"model": model, "messages": list(messages)}
    extra: dict[str, Any] = {}
    for key in _STANDARD:
        if params.get(key) is not None:
            kw[key] = params[key]
    if params.get("max_tokens") is not None:
        kw["max_completion_tokens" if p.thinking == "openai" else "max_tokens"] = params["max_tokens"]
    if p.extra_sampling:
        extra.update({k: params[k] for k in _EXTRA_SAMPLING if params.get(k) is not None})
    thinking, budget, effort = params.get("thinking"), params.get("thinking_budget"), params.get("reasoning_effort")
    if effort is not None:
        kw["reasoning_effort"] = effort
    if p.thinking == "deepseek" and thinking is not None:
        extra["thinking"] = {"type": "enabled" if thinking else "disabled"}
    elif p.thinking == "dashscope":
        if thinking is not None:
            extra["enable_thinking"] = bool(thinking)
        if budget is not None:
            extra["thinking_budget"] = budget
    elif p.thinking in ("chat_template", "sglang"):
        if thinking is not None:
            extra["chat_template_kwargs"] = {"enable_thinking": bool(thinking)}
        if p.thinking == "sglang":
            extra["separate_reasoning"] = True
    elif p.thinking == "ollama" and thinking is False and effort is None:
        kw["reasoning_effort"] = "none"
    elif p.thinking == "openrouter" and (thinking is not None or budget is not None):
        reasoning: dict[str, Any] = {"enabled": thinking is not False}
        if budget is not None:
            reasoning["max_tokens"] = budget
        if effort is not None:
            reasoning["effort"] = kw.pop("reasoning_effort")
        extra["reasoning"] = reasoning
    extra.update({k: v for k, v in params.items() if k not in _HANDLED and v is not None})
    extra.update(params.get("extra_body") or {})
    stream = params.get("stream")
    if stream is None:
        stream = p.stream_when_thinking and thinking is not False
    kw["stream"] = bool(stream)
    if kw["stream"]:
        kw["stream_options"] = {"include_usage": True}
    if extra:
        kw["extra_body"] = extra
    return kw


class OpenAIBackend(Backend):
    """An OpenAI-compatible chat-completions endpoint, through the ``openai`` client.

    Args:
        name: a key of :data:`PROVIDERS`.
        model: the model name the server knows.
        base_url: overrides the provider's default.
        api_key: overrides the environment variable (never read from files).
        timeout: seconds a request may take in all (for a stream, from the request to
            its last chunk), and the most the server may stay silent.
        max_retries: retries on 429, 5xx and connection errors (the client's
            back-off, honouring ``Retry-After``).
        concurrency: requests in flight at once in :meth:`run` (threads sharing one
            client).

    Raises:
        BackendError: the provider needs a key and none was given.
    """

    SETTINGS = ("base_url", "api_key", "timeout", "max_retries", "concurrency")

    def __init__(
        self,
        name: str,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 600.0,
        max_retries: int = 2,
        concurrency: int = 16,
    ):
        self.name, self.model, self.provider = name, model, PROVIDERS[name]
        self.base_url = base_url or self.provider.base_url
        if not api_key and self.provider.key_required:
            raise BackendError(
                f"no API key for the {name} backend: set ${self.provider.key_env} or pass --reasoning-api-key"
            )
        self.api_key = api_key or "EMPTY"
        self.timeout, self.max_retries, self.concurrency = timeout, max_retries, concurrency
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The ``openai.OpenAI`` client (one per backend, shared by the threads of
        :meth:`run`), created on first use."""
        with self._lock:
            if self._client is None:
                import openai

                self._client = openai.OpenAI(
                    base_url=self.base_url, api_key=self.api_key, timeout=self.timeout, max_retries=self.max_retries
                )
        return self._client

    def close(self) -> None:
        """Close the client's connection pool."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def run(self, requests: list[Request]) -> list[RawResponse]:
        """Send ``requests`` (up to ``concurrency`` at once); responses in order.

        Raises:
            BackendError: a request failed after the retries: the first failure in
                request order (one line, key redacted), with ``.partial`` holding every
                response in order, ``None`` for the failed ones, so paid answers to the
                other requests are not lost.
        """
        def attempt(request: Request) -> RawResponse | BackendError:
            try:
                return self._one(request)
            except BackendError as e:
                return e

        if len(requests) <= 1 or self.concurrency <= 1:
            results = [attempt(r) for r in requests]
        else:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
                results = list(pool.map(attempt, requests))
        failures = [r for r in results if isinstance(r, BackendError)]
        if failures:
            failures[0].partial = [None if isinstance(r, BackendError) else r for r in results]  # type: ignore[attr-defined]
            raise failures[0]
        return results  # type: ignore[return-value]

    def _one(self, request: Request) -> RawResponse:
        import openai

        kw = build_request(self.name, request.model, list(request.messages), request.params)
        version = f"openai-python {openai.__version__}"
        start = time.perf_counter()
        chunks: list[Any] = []
        try:
            if kw["stream"]:
                with self.client.chat.completions.create(**kw) as stream:  # closed on every way out
                    for chunk in stream:
                        chunks.append(chunk.to_dict(mode="json", exclude_unset=True))
                        if time.perf_counter() - start > self.timeout:  # the read timeout is per chunk
                            raise BackendError(
                                f"the {self.name} stream from {self.base_url} was still running after "
                                f"{self.timeout:g} s ({len(chunks)} chunks); raise --reasoning-timeout or lower "
                                "max_tokens; nothing was recorded"
                            )
                if not chunks:
                    raise BackendError(
                        f"the {self.name} server at {self.base_url} answered the streamed request with no "
                        "stream events (not an event stream: is the base URL that of the API?); nothing was recorded"
                    )
                if not any(
                    c.get("finish_reason") is not None for chunk in chunks for c in chunk.get("choices") or []
                ):
                    raise BackendError(
                        f"the {self.name} stream from {self.base_url} ended before a finish_reason "
                        f"({len(chunks)} chunks; connection cut?); nothing was recorded"
                    )
                return RawResponse("openai.chat.completion.chunks", chunks, time.perf_counter() - start, version)
            response = self.client.chat.completions.create(**kw)
            if not hasattr(response, "to_dict"):  # a 200 that is not JSON (a proxy's HTML page): the client gives str
                raise BackendError(f"the {self.name} server at {self.base_url} sent a malformed response (not JSON): "
                                   f"{redact_text(' '.join(str(response)[:200].split()), [self.api_key])}")
            body = response.to_dict(mode="json", exclude_unset=True)
            if not body.get("choices"):
                raise BackendError(f"the {self.name} server at {self.base_url} answered without choices: "
                                   f"{redact_text(str(body)[:200], [self.api_key])}")
            return RawResponse("openai.chat.completion", body, time.perf_counter() - start, version)
        except openai.APIError as e:
            if chunks:  # the stream had started: not "cannot reach" / "did not answer"
                raise BackendError(self._explain_broken_stream(e, len(chunks))) from None
            raise BackendError(self._explain(e)) from None
        except ValueError as e:  # malformed JSON or SSE from the server
            text = " ".join(f"the {self.name} server at {self.base_url} sent a malformed response: {e}".split())
            raise BackendError(redact_text(text, [self.api_key])) from None

    def _explain_broken_stream(self, error: Any, received: int) -> str:
        """One line for a stream that broke after ``received`` chunks (the openai client
        does not retry once a response has started)."""
        import openai

        if isinstance(error, openai.APITimeoutError):
            why = f"timed out: no data for {self.timeout:g} s; raise --reasoning-timeout or check the server"
        elif isinstance(error, openai.APIConnectionError):
            why = f"connection lost: {error.__cause__ or error}"
        else:
            why = str(error)
        text = f"the {self.name} stream from {self.base_url} stopped after {received} chunks ({why}); nothing was recorded"
        return redact_text(" ".join(text.split()), [self.api_key])

    def _explain(self, error: Any) -> str:
        """One line saying what went wrong and what to do, with secrets redacted."""
        import openai

        where = f"the {self.name} server at {self.base_url}"
        if isinstance(error, openai.APITimeoutError):
            text = f"{where} did not answer within {self.timeout:g} s; raise --reasoning-timeout or check the server"
        elif isinstance(error, openai.APIConnectionError):
            text = f"cannot reach {where} ({error.__cause__ or error}); is it running? set --reasoning-base-url"
        elif isinstance(error, openai.AuthenticationError):
            text = f"{where} rejected the API key (401); check ${self.provider.key_env} or --reasoning-api-key"
        elif isinstance(error, openai.NotFoundError):
            text = f"{where} answered 404 for model {self.model!r}: {error.message}; check --reasoning-model"
        elif isinstance(error, openai.RateLimitError):
            text = f"{where} still rate-limits (429) after {self.max_retries} retries; lower --reasoning-concurrency"
        elif isinstance(error, openai.APIStatusError):
            retried = error.status_code in (408, 409) or error.status_code >= 500  # what the client retries
            after = f" after {self.max_retries} retries" if retried else ""
            text = f"{where} answered HTTP {error.status_code}{after}: {error.message}"
        else:
            text = f"{where} failed: {error}"
        return redact_text(" ".join(str(text).split()), [self.api_key])
