"""Keeping secrets out of everything a run writes (cassettes, snapshots, messages).

Removes: the values of keys named like credentials (``authorization``, ``api_key``,
``cookie``, ...), any known secret value given by the caller (the API key in use),
and strings shaped like keys (``sk-...``, ``Bearer ...``, ``AIza...``, long hex or
base64 tokens after ``key=`` / ``token=``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["redact", "redact_text", "REDACTED"]

REDACTED = "<redacted>"

_SECRET_KEYS = re.compile(
    r"^(authorization|proxy-authorization|api[-_]?key|x-api-key|api[-_]?token|access[-_]?token|"
    r"secret|password|cookie|set-cookie|x-goog-api-key|x-dashscope-apikey)$",
    re.IGNORECASE,
)
_SECRET_SHAPES = re.compile(
    r"(?:\bBearer\s+[A-Za-z0-9._~+/=-]{8,}"
    r"|\bsk-[A-Za-z0-9_-]{16,}"
    r"|\bAIza[0-9A-Za-z_-]{30,}"
    r"|\b(?:api[-_]?key|access[-_]?token|token|key)=[A-Za-z0-9._~+/-]{16,})",
    re.IGNORECASE,
)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each known secret (strings of 4+ characters) and each
    key-shaped string replaced by ``<redacted>``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return _SECRET_SHAPES.sub(REDACTED, text)


def redact(data: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of JSON-like ``data`` with secrets removed: values under credential-named
    keys become ``<redacted>``; every string goes through :func:`redact_text`."""
    secrets = tuple(s for s in secrets if s)
    if isinstance(data, dict):
        return {
            k: (REDACTED if isinstance(k, str) and _SECRET_KEYS.match(k) and v else redact(v, secrets))
            for k, v in data.items()
        }
    if isinstance(data, (list, tuple)):
        return [redact(v, secrets) for v in data]
    if isinstance(data, str):
        return redact_text(data, secrets)
    return data
