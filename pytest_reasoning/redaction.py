"""Keeping secrets out of everything a run writes (cassettes, snapshots, messages).

Removes: the values of keys named like credentials (``authorization``, ``api_key``,
``cookie``, ...), any known secret value given by the caller (the keys in use, which
the session keeps on ``config.stash``; nothing here is process-wide),
strings shaped like keys (``sk-...``, ``Bearer ...``, ``AIza...``, long hex or
base64 tokens after ``key=`` / ``token=``) and the ``user:password`` of URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "redact",
    "redact_text",
    "redact_chunks",
    "is_secret",
    "REDACTED",
    "MIN_KNOWN_SECRET",
    "PLACEHOLDER_KEYS",
]

#: What a secret is replaced with.
REDACTED = "<redacted>"

#: Shorter values (``EMPTY``, ``none``, ``ollama``) are placeholders that servers without
#: authentication accept, not secrets; blanking them would blank ordinary words.  Real
#: provider keys are far longer (DeepSeek, DashScope, OpenRouter: 32+ characters); a
#: self-chosen ``vllm serve --api-key`` or ``llama-server --api-key`` may be short.
MIN_KNOWN_SECRET = 8
#: Longer placeholders seen in servers' docs and examples (compared case-insensitively):
#: not secrets, and words a reasoning may contain.
PLACEHOLDER_KEYS = frozenset({
    "anything", "dummy-key", "fake-key", "lm-studio", "not-needed", "no-key", "nokey", "not-used",
    "placeholder", "sk-no-key-required", "token-abc123", "your-api-key", "api-key", "none-needed",
})


def is_secret(value: object) -> bool:
    """True for a value worth redacting: a ``str`` of :data:`MIN_KNOWN_SECRET`+
    characters that is not one of :data:`PLACEHOLDER_KEYS`."""
    return (
        isinstance(value, str)
        and len(value.strip()) >= MIN_KNOWN_SECRET
        and value.strip().lower() not in PLACEHOLDER_KEYS
    )


_SECRET_KEYS = re.compile(
    r"^(authorization|proxy-authorization|api[-_]?key|x-api-key|api[-_]?token|access[-_]?token|"
    r"secret|password|cookie|set-cookie|x-goog-api-key|x-dashscope-apikey)$",
    re.IGNORECASE,
)
_SECRET_SHAPES = re.compile(
    r"(?:\bBearer\s+[A-Za-z0-9._~+/=-]{8,}"
    r"|\bsk-[A-Za-z0-9_-]{16,}"
    r"|\bAIza[0-9A-Za-z_-]{30,}"
    r"|\b(?:api[-_]?key|access[-_]?token|token|key)=[A-Za-z0-9._~+/-]{8,}"
    r"|(?<=://)[^\s/@:?#]*:[^\s/?#]+(?=@))",  # user:password in a URL (up to the last @)
    re.IGNORECASE,
)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each known secret (see :func:`is_secret`), each key-shaped string
    and the password of each ``scheme://user:password@host`` URL replaced by
    ``<redacted>``."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if is_secret(secret):
            text = text.replace(secret, REDACTED)
    return _SECRET_SHAPES.sub(REDACTED, text)


def _secret_spans(text: str, secrets: Iterable[str]) -> list[tuple[int, int]]:
    """Merged ``(start, end)`` spans of known secrets and key shapes in ``text``."""
    spans = [m.span() for m in _SECRET_SHAPES.finditer(text)]
    for secret in set(secrets):
        if is_secret(secret):
            at = text.find(secret)
            while at >= 0:
                spans.append((at, at + len(secret)))
                at = text.find(secret, at + len(secret))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def redact_chunks(chunks: Any, secrets: Iterable[str] = ()) -> Any:
    """Streamed chat-completion chunks with secrets removed also where one arrives
    split over several chunks (a model echoing a key token by token): each delta
    field's pieces are joined, secrets found in the whole, and each piece rewritten
    (the piece where a secret starts holds ``<redacted>``, the rest of it is dropped).
    Then :func:`redact` as for any JSON.  Non-chunk items pass through :func:`redact`."""
    secrets = tuple(s for s in secrets if s)
    if not isinstance(chunks, list):
        return redact(chunks, secrets)
    chunks = [_copy(c) for c in chunks]
    fields: dict[tuple[Any, str], list[dict[str, Any]]] = {}
    for c in chunks:
        for choice in (c.get("choices") or []) if isinstance(c, dict) else []:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if isinstance(delta, dict):
                for name, value in delta.items():
                    if isinstance(value, str):
                        fields.setdefault((choice.get("index", 0), name), []).append(delta)
    for (_, name), deltas in fields.items():
        pieces = [d[name] for d in deltas]
        spans = _secret_spans("".join(pieces), secrets)
        if not spans:
            continue
        starts = {a for a, _ in spans}
        hidden = set()
        for a, b in spans:
            hidden.update(range(a, b))
        offset = 0
        for d, piece in zip(deltas, pieces):
            out = []
            for k, ch in enumerate(piece, offset):
                if k in starts:
                    out.append(REDACTED)
                elif k not in hidden:
                    out.append(ch)
            d[name] = "".join(out)
            offset += len(piece)
    return redact(chunks, secrets)


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def redact(data: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of JSON-like ``data`` with secrets removed: values under credential-named
    keys become ``<redacted>``; every string goes through :func:`redact_text`."""
    secrets = tuple(s for s in secrets if s)
    if isinstance(data, dict):
        return {
            (redact_text(k, secrets) if isinstance(k, str) else k): (
                REDACTED if isinstance(k, str) and _SECRET_KEYS.match(k) and v else redact(v, secrets)
            )
            for k, v in data.items()
        }
    if isinstance(data, (list, tuple)):
        return [redact(v, secrets) for v in data]
    if isinstance(data, str):
        return redact_text(data, secrets)
    return data
