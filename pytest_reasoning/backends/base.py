"""The one interface every model sits behind.

A backend takes a *batch* of :class:`Request` objects and returns their traces in the
same order.  Backends that answer one at a time simply loop; batching local
generation and concurrent API calls live behind the same signature.

A recording (``pytest_reasoning.recording``) wraps any backend: backends never know
whether they are being recorded.
"""

from __future__ import annotations

import functools
import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from ..trace import Trace

__all__ = ["Request", "RawResponse", "Backend", "BackendError", "canonical_json", "to_trace"]


class BackendError(Exception):
    """A model call failed in a way a user must act on (bad key, unreachable server,
    model not found, out of memory).  ``str()`` is one line saying what to do."""


def canonical_json(data: Any) -> str:
    """JSON with sorted keys, no whitespace and non-ASCII kept: the form recording keys
    hash.  Raises ``TypeError`` for data that is not JSON (sets, objects)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Request:
    """One prompt to run.

    Attributes:
        backend: backend name (``"deepseek"``, ``"transformers"``, ...).
        model: model name, hub id or local path.
        messages: chat messages ``[{"role": "user", "content": "..."}]``.
        params: sampling and thinking settings as the test asked for them
            (``temperature``, ``top_p``, ``top_k``, ``max_tokens``, ``seed``,
            ``thinking`` (bool), ``thinking_budget`` (tokens), ``stream`` (bool), ...).
            ``None`` values are dropped.
        identity: what else decides the output and so belongs in the recording key
            (LoRA adapter path and weight hash, quantisation), JSON-serialisable.
        sample: the index ``i`` of this request within a sample of ``n``
            (``reasoning_model.sample``), ``None`` for a single call.  Part of the
            recording key, so each sample is recorded and replayed on its own; a local
            backend seeds sample ``i`` with ``seed + i``, an API backend sends
            ``seed + i`` where the test set a seed.
    """

    backend: str
    model: str
    messages: tuple[Any, ...]
    params: dict[str, Any] = field(default_factory=dict)
    identity: dict[str, Any] = field(default_factory=dict)
    sample: int | None = None

    @classmethod
    def from_key_data(cls, data: dict[str, Any]) -> Request:
        """The request that :meth:`key_data` describes (as a cassette stores it).

        Raises:
            KeyError: ``backend``, ``model``, ``messages`` or ``params`` is missing.
        """
        return cls(
            data["backend"], data["model"], tuple(data["messages"]), data["params"], data.get("identity") or {},
            data.get("sample"),
        )

    def key_data(self) -> dict[str, Any]:
        """Everything the recording key covers: backend, model, identity, the
        whole message list, every parameter and, within a sample, the sample's index.
        Never credentials or URLs."""
        data = {
            "backend": self.backend,
            "model": self.model,
            "identity": self.identity,
            "messages": list(self.messages),
            "params": self.params,
        }
        if self.sample is not None:
            data["sample"] = self.sample
        return data

    def key(self) -> str:
        """SHA-256 hex digest (64 chars) of :meth:`key_data` in canonical JSON
        (computed once per request).

        Raises:
            TypeError: messages or params hold something that is not JSON data.
        """
        return self._key

    @functools.cached_property
    def _key(self) -> str:
        # Hashed as a cassette file holds it (JSON object keys are strings there), so a
        # recording read back is found by the same request: {9: 5, 10: -100} sorts as
        # "10", "9" once written, as 9, 10 before.
        as_stored = json.loads(canonical_json(self.key_data()))
        return hashlib.sha256(canonical_json(as_stored).encode("utf-8")).hexdigest()


@dataclass
class RawResponse:
    """What a backend got back for one request, in its own wire format: the form a
    cassette stores and replays through the same parser.

    Attributes:
        format: ``"openai.chat.completion"`` (``payload`` = the JSON body, a dict),
            ``"openai.chat.completion.chunks"`` (``payload`` = list of chunk dicts, as
            sent in the SSE ``data:`` lines, ``[DONE]`` excluded) or ``"trace"``
            (``payload`` = :meth:`Trace.to_dict`, for local models).
        payload: see ``format``.
        latency_s: wall-clock seconds from request to last byte.
        backend_version: version of the client library or engine.
    """

    format: str
    payload: Any
    latency_s: float | None = None
    backend_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (as stored in a cassette)."""
        return {
            "format": self.format,
            "latency_s": self.latency_s,
            "backend_version": self.backend_version,
            "payload": self.payload,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RawResponse:
        """Inverse of :meth:`to_dict`.  Raises ``KeyError`` if ``format`` or
        ``payload`` is missing."""
        return cls(
            format=data["format"],
            payload=data["payload"],
            latency_s=data.get("latency_s"),
            backend_version=data.get("backend_version"),
        )


def to_trace(request: Request, raw: RawResponse) -> Trace:
    """Turn a live or replayed :class:`RawResponse` into the :class:`Trace` for
    ``request``, running the provider's real parser.

    Raises:
        ValueError: unknown ``raw.format`` or a payload the parser cannot read.
    """
    from ..wire import trace_from_openai, trace_from_openai_stream
    from ..trace import BackendInfo

    meta = dict(
        messages=list(request.messages),
        params=dict(request.params),
        backend=BackendInfo(request.backend, raw.backend_version),
        latency_s=raw.latency_s,
    )
    if raw.format == "openai.chat.completion":
        trace = trace_from_openai(raw.payload, **meta)
    elif raw.format == "openai.chat.completion.chunks":
        trace = trace_from_openai_stream(raw.payload, **meta)
    elif raw.format == "trace":
        trace = Trace.from_dict(raw.payload)
    else:
        raise ValueError(
            f"unknown response format {raw.format!r}; expected openai.chat.completion, "
            "openai.chat.completion.chunks or trace"
        )
    return trace


class Backend(ABC):
    """A model behind a batch interface.

    A backend class declares what it takes: ``SETTINGS`` (a tuple of
    :class:`~pytest_reasoning.settings.kinds.Setting`; options, ini keys and marker
    keywords follow from it) and ``PARAMS`` (the request parameters it honours, with
    their types).  Subclasses set ``name`` and implement :meth:`run`, which returns
    each response in its wire format (:class:`RawResponse`); :meth:`generate` parses
    them into traces.  Recordings store the raw form, so a replay runs the same parser.
    """

    name: str = "base"
    #: The settings this backend takes (see :mod:`pytest_reasoning.settings`).
    SETTINGS: tuple[Any, ...] = ()
    #: The request parameters this backend honours: ``{name: type or tuple of types}``.
    PARAMS: dict[str, Any] = {}

    @classmethod
    def taken(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """The entries of ``settings`` this backend takes (its ``SETTINGS``), ``None``
        values dropped: what :meth:`create` passes on, and what tells two live
        backends apart (a test's snapshot mode must not load a model twice)."""
        keys = {s.key for s in cls.SETTINGS}
        return {k: v for k, v in settings.items() if k in keys and v is not None}

    @classmethod
    def create(cls, name: str, model: str, settings: dict[str, Any]) -> Backend:
        """The backend ``name`` for ``model`` with the resolved ``settings`` (those it
        does not take are ignored).

        Raises:
            BackendError: the backend cannot start (missing key, package, GPU, model).
        """
        return cls(model, **cls.taken(settings))  # type: ignore[call-arg]

    @classmethod
    def identity_for(cls, name: str, settings: dict[str, Any], locate: Any = str) -> dict[str, Any]:
        """Facts beyond the model name that decide the output (LoRA adapter hash,
        quantisation), computed from the settings without starting the backend; part
        of every recording key.  ``locate`` maps a path as written to where it is.
        Default: none.

        Raises:
            BackendError: a file the identity needs is missing.
        """
        return {}

    @abstractmethod
    def run(self, requests: list[Request]) -> list[RawResponse]:
        """Run ``requests`` and return one :class:`RawResponse` each, in order.

        Raises:
            BackendError: the call failed (one-line message saying what to do).
        """

    def generate(self, requests: list[Request]) -> list[Trace]:
        """Run ``requests`` and return one :class:`Trace` each, in order.

        Raises:
            BackendError: the call failed (one-line message saying what to do).
        """
        return [to_trace(r, raw) for r, raw in zip(requests, self.run(requests))]

    def close(self) -> None:
        """Release clients, models and GPU memory.  Default: nothing."""
