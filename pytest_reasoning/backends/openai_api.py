"""Hosted and served reasoning models through the ``openai`` client.

One backend class for every OpenAI-compatible provider; what differs between
providers (base URL, key variables, the thinking switch, streaming) is data in
:mod:`.profiles`.  Retries on 429/5xx and connection errors are the ``openai``
client's own (exponential back-off honouring ``Retry-After``), bounded by
``max_retries``.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..redaction import redact_text
from ..settings.kinds import Setting, count, number
from .base import Backend, BackendError, RawResponse, Request
from .profiles import PROVIDERS, Provider

__all__ = ["OpenAIBackend", "Provider", "PROVIDERS", "build_request", "API_PARAMS"]

#: Request parameters the API backends honour, with the type each takes.
API_PARAMS: dict[str, type | tuple[type, ...]] = {
    "temperature": (int, float),
    "top_p": (int, float),
    "top_k": int,
    "min_p": (int, float),
    "max_tokens": int,
    "seed": int,
    "stop": (str, list),
    "thinking": bool,
    "thinking_budget": int,
    "reasoning_effort": str,
    "stream": bool,
    "presence_penalty": (int, float),
    "frequency_penalty": (int, float),
    "repetition_penalty": (int, float),
    "extra_body": dict,
}

_STANDARD = ("temperature", "top_p", "seed", "stop", "presence_penalty", "frequency_penalty")
_EXTRA_SAMPLING = ("top_k", "min_p", "repetition_penalty")


def build_request(
    provider_name: str, model: str, messages: list[Any], params: dict[str, Any], sample: int | None = None
) -> dict[str, Any]:
    """The keyword arguments of ``client.chat.completions.create`` for ``params``.

    ``params`` keys understood: those of :data:`API_PARAMS`.  ``max_tokens`` goes in
    the provider's field (``max_completion_tokens`` for ``openai``); ``top_k``,
    ``min_p``, ``repetition_penalty`` go in ``extra_body`` where the provider takes
    them, under the provider's names (dropped for DeepSeek and OpenAI; llama.cpp's
    ``repeat_penalty``); ``thinking`` / ``thinking_budget`` /
    ``reasoning_effort`` through the provider's switch (:mod:`.profiles`);
    ``extra_body`` (dict) is merged last and wins.  Unknown keys go to ``extra_body``
    unchanged.  Sample ``i`` of a sample (``sample``) sends ``seed + i`` where a seed is
    set, so the n samples are not n copies.

    Returns:
        dict with ``model``, ``messages``, ``stream`` and the rest; ``extra_body``
        only when non-empty.
    """
    p = PROVIDERS[provider_name]
    kw: dict[str, Any] = {"model": model, "messages": list(messages)}
    kw.update({k: params[k] for k in _STANDARD if params.get(k) is not None})
    if sample and "seed" in kw:
        kw["seed"] += sample
    if params.get("max_tokens") is not None:
        kw[p.max_tokens_field] = params["max_tokens"]
    extra: dict[str, Any] = {}
    if p.extra_sampling:
        extra.update({p.field_names.get(k, k): params[k] for k in _EXTRA_SAMPLING if params.get(k) is not None})
    thinking = params.get("thinking")
    switched_kw, switched_extra = p.switch(thinking, params.get("thinking_budget"), params.get("reasoning_effort"))
    kw.update(switched_kw)
    extra.update(switched_extra)
    extra.update({k: v for k, v in params.items() if k not in API_PARAMS and v is not None})
    extra.update(params.get("extra_body") or {})
    stream = params.get("stream")
    kw["stream"] = bool(p.stream_when_thinking and thinking is not False if stream is None else stream)
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
        key_source: where ``api_key`` came from, as the user would fix it
            (``"$LLAMACPP_API_KEY"``, ``"--reasoning-api-key"``), named when the server
            answers 401; default: the key's own ``source`` (an
            :class:`~.profiles.EnvValue`), else every place a key may come from.
        url_source: where ``base_url`` came from (``"$LLAMACPP_BASE_URL"``,
            ``"--reasoning-base-url"``), named when the server cannot be reached or
            has no such path; ``None``: the provider's default.
        timeout: seconds a request may take in all (for a stream, from the request to
            its last chunk); for a request that is not streamed, also the most the
            server may stay silent.
        stream_idle_timeout: seconds a stream may stay silent, before its first chunk
            and between chunks (a server that stops sending but keeps the connection
            open fails after this, not after ``timeout``).
        max_retries: retries on 429, 5xx and connection errors (the client's
            back-off, honouring ``Retry-After``).
        concurrency: requests in flight at once in :meth:`run` (threads sharing one
            client).

    Raises:
        BackendError: the provider needs a key and none was given.
    """

    #: The settings this backend takes (options, ini keys, marker keywords).
    SETTINGS = (
        Setting("base_url", "API base URL (default: the provider's, or $<BACKEND>_BASE_URL; "
                "$OPENAI_BASE_URL for servers you run)"),
        Setting("api_key", "API key (default: $<BACKEND>_API_KEY; $OPENAI_API_KEY for openai and servers you "
                "run); never read from files", ini=False, marker=False),
        Setting("timeout", "seconds an API call may take in all (default 600)", number(float), 600.0),
        Setting("stream_idle_timeout", "seconds a stream may stay silent, before its first chunk and between "
                "chunks (default 60)", number(float), 60.0),
        Setting("max_retries", "retries on 429/5xx/connection errors (default 2)", count, 2),
        Setting("concurrency", "API calls in flight at once (default 16)", number(int), 16),
    )
    #: The request parameters this backend honours.
    PARAMS = API_PARAMS

    @classmethod
    def create(cls, name: str, model: str, settings: dict[str, Any]) -> OpenAIBackend:
        """The backend for provider ``name``, its key and base URL from ``settings``
        or else the provider's environment variables (:mod:`.profiles`).

        Raises:
            BackendError: the provider needs a key and none was found.
        """
        provider = PROVIDERS[name]
        kw = cls.taken(settings)
        given = kw.get("api_key")
        kw["api_key"] = given or provider.key()
        url = kw["base_url"] = kw.get("base_url") or provider.url()
        # a URL read from the environment knows its variable; one that is not the default came from a setting
        kw["url_source"] = getattr(url, "source", "--reasoning-base-url" if url and url != provider.base_url else None)
        # a key read from the environment knows its variable; any other came from the option
        kw["key_source"] = getattr(kw["api_key"], "source", "--reasoning-api-key" if given else None)
        return cls(name, model, **kw)

    def __init__(
        self,
        name: str,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        key_source: str | None = None,
        url_source: str | None = None,
        timeout: float = 600.0,
        stream_idle_timeout: float = 60.0,
        max_retries: int = 2,
        concurrency: int = 16,
    ):
        self.name, self.model, self.provider = name, model, PROVIDERS[name]
        self.base_url = base_url or self.provider.base_url
        if not api_key and self.provider.key_required:
            raise BackendError(
                f"no API key for the {name} backend: set ${self.provider.key_env[0]} or pass --reasoning-api-key"
            )
        self.api_key = api_key or "EMPTY"
        self.key_source = (key_source or getattr(api_key, "source", None)) if api_key else None
        self.url_source = url_source
        self.timeout, self.max_retries, self.concurrency = timeout, max_retries, concurrency
        self.stream_idle_timeout = stream_idle_timeout
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

        kw = build_request(self.name, request.model, list(request.messages), request.params, request.sample)
        version = f"openai-python {openai.__version__}"
        start = time.perf_counter()
        chunks: list[Any] = []
        try:
            if kw["stream"]:
                self._stream(kw, start, chunks)
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
            raise BackendError(self._explain(e, stream=kw["stream"])) from None
        except ValueError as e:  # malformed JSON or SSE from the server
            text = " ".join(f"the {self.name} server at {self.base_url} sent a malformed response: {e}".split())
            raise BackendError(redact_text(text, [self.api_key])) from None

    @property
    def _idle_limited(self) -> bool:
        """Whether a silent stream is stopped by :attr:`stream_idle_timeout` (shorter
        than the total :attr:`timeout`) rather than by the total."""
        return self.stream_idle_timeout < self.timeout

    def _stream(self, kw: dict[str, Any], start: float, chunks: list[Any]) -> None:
        """Read a streamed request's chunks into ``chunks`` (as dicts).  The read
        timeout is the idle limit, so a server that stops sending but keeps the
        connection open fails within :attr:`stream_idle_timeout`; the total deadline
        is checked at each chunk.

        Raises:
            BackendError: past the total deadline, no stream events at all, or a
                stream that did not end (cut before a finish reason; see
                :func:`~pytest_reasoning.wire.stream_ended`).
            openai.APIError: from the client (explained by the caller).
        """
        import openai

        from ..wire import stream_ended

        limits = openai.Timeout(self.timeout, read=min(self.stream_idle_timeout, self.timeout))
        with self.client.chat.completions.create(**kw, timeout=limits) as stream:  # closed on every way out
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
        if not stream_ended(chunks):
            raise BackendError(
                f"the {self.name} stream from {self.base_url} ended before a finish_reason "
                f"({len(chunks)} chunks; connection cut?); nothing was recorded"
            )

    def _explain_broken_stream(self, error: Any, received: int) -> str:
        """One line for a stream that broke after ``received`` chunks (the openai client
        does not retry once a response has started)."""
        import openai

        if isinstance(error, openai.APITimeoutError) and self._idle_limited:
            why = (f"timed out: no data for {self.stream_idle_timeout:g} s between chunks, the stream idle limit; "
                   "raise --reasoning-stream-idle-timeout or check the server")
        elif isinstance(error, openai.APITimeoutError):
            why = f"timed out: no data for {self.timeout:g} s; raise --reasoning-timeout or check the server"
        elif isinstance(error, openai.APIConnectionError):
            why = f"connection lost: {error.__cause__ or error}"
        else:
            why = str(error)
        text = f"the {self.name} stream from {self.base_url} stopped after {received} chunks ({why}); nothing was recorded"
        return redact_text(" ".join(text.split()), [self.api_key])

    def _fix_url(self) -> str:
        """What to do about a base URL that does not work, naming where it came from."""
        if self.url_source == "--reasoning-base-url":
            return "check --reasoning-base-url"
        if self.url_source:
            return f"check {self.url_source} or set --reasoning-base-url"
        return f"set --reasoning-base-url or ${self.provider.base_url_env[0]}"

    def _names_model(self, message: str) -> bool:
        """Whether a 404's message is about the model (``model 'x' not found``), not
        about the path: it says "model" or names the model as a word of its own."""
        text = message.lower()
        named = bool(self.model) and re.search(rf"(?<![\w.-]){re.escape(self.model.lower())}(?![\w.-])", text)
        return "model" in text or bool(named)

    def _explain_401(self, where: str) -> str:
        """What a 401 says: the key's source where it is known, else every place a key
        may come from; without a key, that the server wants one."""
        places = self.provider.key_places()
        if self.api_key == "EMPTY" and self.key_source is None:
            return f"{where} wants an API key (401) and none was sent; set {places}"
        return f"{where} rejected the API key (401); check {self.key_source or places}"

    def _explain(self, error: Any, stream: bool = False) -> str:
        """One line saying what went wrong and what to do, with secrets redacted
        (``stream``: the request was streamed, so a timeout is the idle limit's where
        that is the shorter)."""
        import openai

        where = f"the {self.name} server at {self.base_url}"
        if isinstance(error, openai.APITimeoutError) and stream and self._idle_limited:
            text = (f"{where} sent no stream data within {self.stream_idle_timeout:g} s, the stream idle limit; "
                    "raise --reasoning-stream-idle-timeout or check the server")
        elif isinstance(error, openai.APITimeoutError):
            text = f"{where} did not answer within {self.timeout:g} s; raise --reasoning-timeout or check the server"
        elif isinstance(error, openai.APIConnectionError):
            text = f"cannot reach {where} ({error.__cause__ or error}); is it running? {self._fix_url()}"
        elif isinstance(error, openai.AuthenticationError):
            text = self._explain_401(where)
        elif isinstance(error, openai.NotFoundError) and self._names_model(error.message):
            text = f"{where} answered 404 for model {self.model!r}: {error.message}; check --reasoning-model"
        elif isinstance(error, openai.NotFoundError):  # no such path: the base URL is wrong
            text = (f"{where} answered 404 ({error.message}): it has no {self.base_url.rstrip('/')}/chat/completions; "
                    f"{self._fix_url()} (an OpenAI-compatible base URL usually ends in /v1)")
        elif isinstance(error, openai.RateLimitError):
            text = f"{where} still rate-limits (429) after {self.max_retries} retries; lower --reasoning-concurrency"
        elif isinstance(error, openai.APIStatusError):
            retried = error.status_code in (408, 409) or error.status_code >= 500  # what the client retries
            after = f" after {self.max_retries} retries" if retried else ""
            text = f"{where} answered HTTP {error.status_code}{after}: {error.message}"
        else:
            text = f"{where} failed: {error}"
        return redact_text(" ".join(str(text).split()), [self.api_key])
