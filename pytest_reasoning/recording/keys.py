"""What a recording is filed under, and when two recordings hold the same answer.

* :func:`recording_key`: the whole request, except that a local model known by its
  content (``identity["model"]``) is keyed on that content, its path as written kept
  in the recording only as a label;
* :func:`path_key`: the key a request had before local models were known by their
  content (the fallback that keeps old cassettes replaying);
* :func:`same_response`: whether a re-recording changes anything but per-call values
  (ids, timestamps, timings), so an unchanged answer leaves the cassette as it was.
"""

from __future__ import annotations

from typing import Any

from ..backends.base import Request

__all__ = ["VOLATILE_FIELDS", "VOLATILE_USAGE", "content_identified", "recording_key", "path_key", "same_response"]

#: Fields of a response body (or of each streamed chunk, or of a local model's trace)
#: that differ on every call even when the answer does not: left out when a
#: re-recording is compared with the recording it would replace.
VOLATILE_FIELDS = ("id", "created", "system_fingerprint", "timings", "latency_s", "request_id")
#: Per-call ``usage`` counts (prompt caching), left out of that comparison too.
VOLATILE_USAGE = ("prompt_cache_hit_tokens", "prompt_cache_miss_tokens", "cached_tokens")


def content_identified(request: Request) -> bool:
    """Whether ``request`` names a local model by its content (``identity["model"]["sha256"]``)."""
    model = request.identity.get("model") if isinstance(request.identity, dict) else None
    return isinstance(model, dict) and bool(model.get("sha256"))


def recording_key(request: Request) -> str:
    """The key a recording is filed under: :meth:`Request.key`, except for a local
    model known by its content (``identity["model"]["sha256"]``), whose path as
    written is only a label and is left out, so a moved model folder still replays."""
    if content_identified(request):
        return Request(request.backend, "", request.messages, request.params, request.identity, request.sample).key()
    return request.key()


def path_key(request: Request) -> str:
    """The key ``request`` has when the model is named by its path as written and no
    content identity: how recordings were keyed before local models were known by
    their content (the fallback for those), and how a request for a model folder
    that is not on this machine finds its recording."""
    identity = {k: v for k, v in request.identity.items() if k != "model"}
    return Request(request.backend, request.model, request.messages, request.params, identity, request.sample).key()


def _stable(body: Any) -> Any:
    """``body`` without :data:`VOLATILE_FIELDS` at its top level and without
    :data:`VOLATILE_USAGE` in its usage (one level down too)."""
    if not isinstance(body, dict):
        return body
    out = {k: v for k, v in body.items() if k not in VOLATILE_FIELDS}
    usage = out.get("usage")
    if isinstance(usage, dict):
        out["usage"] = {k: _stable_usage(v) for k, v in usage.items() if k not in VOLATILE_USAGE}
    if isinstance(out.get("backend"), dict):  # a local model's trace: its library version
        out["backend"] = {k: v for k, v in out["backend"].items() if k != "version"}
    return out


def _stable_usage(value: Any) -> Any:
    return {k: v for k, v in value.items() if k not in VOLATILE_USAGE} if isinstance(value, dict) else value


def same_response(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether two recorded responses (:meth:`RawResponse.to_dict` form) hold the same
    answer: equal but for per-call values (:data:`VOLATILE_FIELDS`, prompt-cache
    counts, the library version), in the body, in each streamed chunk, or in a local
    model's trace."""
    def view(response: dict[str, Any]) -> Any:
        payload = response.get("payload")
        payload = [_stable(c) for c in payload] if isinstance(payload, list) else _stable(payload)
        return response.get("format"), payload

    return view(old) == view(new)
