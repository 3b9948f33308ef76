"""What callers hand the parsers, turned into plain dicts: a body (an ``openai``
object, a dict, or its JSON text) and the chunks of a stream (objects, dicts, or
the text of an SSE / NDJSON transcript, whole, line by line or event by event).

Nothing here knows a dialect: the dicts go on to :mod:`.chat`, :mod:`.responses`,
:mod:`.anthropic` and :mod:`.native`.  Framing of SSE: the WHATWG HTML standard,
"Server-sent events" (``data:`` / ``event:`` / ``id:`` / ``retry:`` fields, ``:``
comments, blank lines between events); NDJSON: one JSON value a line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["as_dict", "loads", "body_dict", "chunk_dicts"]


def as_dict(obj: Any) -> Any:
    """Turn an ``openai`` response object (pydantic, extras kept) into plain JSON data;
    dicts, lists and scalars pass through (recursively for containers)."""
    if hasattr(obj, "to_dict"):
        try:
            # warnings=False: a provider's typed ``content`` list is not the SDK's ``str``.
            return obj.to_dict(mode="json", exclude_unset=True, warnings=False)
        except TypeError:
            return obj.to_dict()
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", exclude_unset=True)
    if isinstance(obj, Mapping):
        return {k: as_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [as_dict(v) for v in obj]
    return obj


def loads(text: str | bytes, what: str) -> Any:
    """The JSON value of a body or stream line given as text.

    Raises:
        ValueError: the text is not JSON (the message names ``what`` and shows the
            text's first 80 characters).
    """
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what} is not JSON ({exc}): {str(text)[:80]!r}") from None


def body_dict(response: Any) -> Mapping[str, Any]:
    """A whole response body as a dict: an ``openai`` object, a dict, or JSON text
    (``str`` / ``bytes``).

    Raises:
        ValueError: text that is not JSON, or a body that is not an object.
    """
    data = as_dict(loads(response, "response") if isinstance(response, (str, bytes)) else response)
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a chat completion object or dict, got {type(response).__name__}")
    return data


def chunk_dicts(chunks: Iterable[Any] | str | bytes) -> Iterator[Mapping[str, Any]]:
    """The chunks of a stream as dicts, in order (read lazily: nothing after the
    chunk a caller stops at is read).

    Raises:
        ValueError: an item that is not a chunk (object or dict), a text line that is
            not JSON, or text that holds no chunk at all.
    """
    for raw in _items(chunks):
        chunk = as_dict(raw)
        if not isinstance(chunk, Mapping):
            raise ValueError(f"expected stream chunks (objects or dicts), got {type(raw).__name__}")
        yield chunk


def _items(chunks: Iterable[Any] | str | bytes) -> Iterator[Any]:
    """Chunks as given; text (a whole SSE or NDJSON transcript, its lines or its
    events) is read line by line: ``data:`` prefixes dropped, ``event:`` / ``id:`` /
    ``retry:`` fields, ``:`` comments, blank lines and ``[DONE]`` skipped; text that is
    one JSON array (chunks pasted from a log or an issue) gives its items.

    Raises:
        ValueError: a line that is not JSON, or text that holds no chunk at all.
    """
    if isinstance(chunks, (str, bytes)):
        chunks = [chunks]
    texts = found = 0
    for raw in chunks:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        if not isinstance(raw, str):
            found += 1
            yield raw
            continue
        texts += 1
        listed = _json_list(raw)
        if listed is not None:  # the chunks pasted as one JSON array (of objects or of lines)
            found += len(listed)
            yield from _items(listed)
            continue
        for line in raw.splitlines():
            line = line.strip()
            if line.startswith("data:"):
                line = line[len("data:") :].strip()
            elif not line or line.startswith((":", "event:", "id:", "retry:")):
                continue
            if line == "[DONE]":
                found += 1
            elif line:
                found += 1
                yield loads(line, "stream line")
    if texts and not found:
        raise ValueError("the stream text holds no chunk (no data: line and no JSON line)")


def _json_list(text: str) -> list[Any] | None:
    """The items of ``text`` when it is one JSON array, else ``None``."""
    if not text.lstrip().startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, list) else None
