"""Cassettes: the recordings of one test file, keyed on the whole request.

One cassette per test file, ``<test dir>/cassettes/<test file stem>.json``, shared by
its tests (the key covers the whole request, so sharing is safe): readable UTF-8 JSON
holding, for each call, the request (backend, model, identity, messages, params; never
credentials or URLs) and the response in the provider's own wire format (see
:class:`~pytest_reasoning.backends.RawResponse`), so a replay runs the same parser as a
live call.  Writes are atomic, merged under a lock, and redacted.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..backends.base import RawResponse, Request, canonical_json
from ..files import atomic_write_text
from ..redaction import REDACTED, redact, redact_chunks
from .keys import content_identified, path_key, recording_key, same_response

__all__ = ["CASSETTE_FORMAT", "CASSETTE_VERSION", "Cassette", "CassetteError", "MissingRecording", "dump_cassette",
           "shown", "backend_and_model", "redacted"]

CASSETTE_FORMAT = "pytest-reasoning-cassette"
CASSETTE_VERSION = 1


class CassetteError(Exception):
    """A cassette file cannot be read (corrupt JSON, wrong format or version).
    ``str()`` names the file and how to re-record it."""


class MissingRecording(Exception):
    """Replay found no recording for a request.  ``str()`` names the cassette and the
    command that records it."""


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` (POSIX; a no-op elsewhere), so
    pytest-xdist workers recording into one cassette merge instead of clobbering."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no cross-process lock
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def dump_cassette(body: dict[str, Any]) -> str:
    """Cassette JSON: indented, non-ASCII unescaped, and each streamed chunk on one
    line, so a re-recording's diff reads chunk by chunk."""
    lines: list[str] = []
    nonce = uuid.uuid4().hex  # a placeholder no recorded text can contain

    def one_line(chunk: Any) -> str:
        lines.append(json.dumps(chunk, ensure_ascii=False))
        return f"{nonce}-{len(lines) - 1}"

    marked = {**body, "interactions": []}
    for entry in body["interactions"]:
        response = entry["response"]
        if isinstance(response.get("payload"), list) and str(response.get("format", "")).endswith(".chunks"):
            response = {**response, "payload": [one_line(c) for c in response["payload"]]}
        marked["interactions"].append({**entry, "response": response})
    text = json.dumps(marked, ensure_ascii=False, indent=1)
    # One pass over the text (linear in its size, however many chunks there are).
    text = re.sub(f'"{nonce}-(\\d+)"', lambda m: lines[int(m.group(1))], text)
    return text + "\n"



def redacted(response: RawResponse, secrets: tuple[str, ...] = ()) -> RawResponse:
    """``response`` with the keys in ``secrets`` and key-shaped strings removed, also
    where one arrives split over several streamed chunks: the form recorded, and the
    form a test sees in record mode ``off``."""
    data = response.to_dict()
    if str(response.format).endswith(".chunks"):  # a key may arrive split over several chunks
        data["payload"] = redact_chunks(data["payload"], secrets)
    return RawResponse.from_dict(redact(data, secrets))


def shown(path: Path) -> str:
    """``path`` relative to the current directory when it is below it (for messages)."""
    try:
        return str(Path(path).absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def backend_and_model(backend: str, model: str) -> str:
    """``backend/model`` for messages; ``backend (model)`` when the model is written as
    a path (``transformers (/tmp/m)``, never ``transformers//tmp/m``)."""
    if model.startswith(("/", "~", ".", "\\")) or ":" in model[:3]:
        return f"{backend} ({model})"
    return f"{backend}/{model}"


def _entry_key(stored: str, request: dict[str, Any]) -> str:
    """The key a recording is found under: the hash of its request as the file shows
    it, so a request edited by hand (or a key edited by hand) is found by what the
    request says; the stored key only when the request holds redacted text (its key
    was computed before redaction)."""
    if REDACTED in canonical_json(request):
        return stored
    return recording_key(Request.from_key_data(request))


class Cassette:
    """The recordings of one test file, keyed on the whole request.

    Args:
        path: the cassette file (it need not exist).

    Attributes:
        path: the file.
        existed: whether the file held recordings when first read.
        interactions: ``{key: {"request": ..., "response": ..., "tests": [...]}}``.
        used: ``{key: {node id, ...}}``: the recordings this process replayed or
            recorded, and for which tests.
        bypassed: a call of this cassette's tests ran in record mode ``off``.
        recorded: something was recorded this session (written or unchanged).
        by_path: how many replays found a recording by its model path only (recorded
            before local models were known by their content).

    Raises:
        CassetteError: on first read, if the file is not a cassette this version reads.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._interactions: dict[str, dict[str, Any]] | None = None
        self._new: dict[str, dict[str, Any]] = {}
        self._paths: dict[str, list[str]] | None = None
        self.existed = False
        self.used: dict[str, set[str]] = {}
        self.bypassed = self.recorded = False
        self.by_path = 0

    @property
    def interactions(self) -> dict[str, dict[str, Any]]:
        """``{key: {"request": ..., "response": ..., "tests": [...]}}``, read from the
        file on first use.

        Raises:
            CassetteError: the file is not a cassette this version reads.
        """
        if self._interactions is None:
            self._interactions = self._load()
            self.existed = bool(self._interactions)
        return self._interactions

    def _load(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        how = "delete it and re-record with --reasoning-record-mode=once, or restore it from version control"
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise CassetteError(f"cassette {shown(self.path)} is not UTF-8 text; {how}") from None
        except IsADirectoryError:
            raise CassetteError(
                f"cassette {shown(self.path)} is a folder, not a file; move it away (the cassette of "
                f"{self.path.stem}.py is written there)"
            ) from None
        except OSError as e:
            raise CassetteError(f"cassette {shown(self.path)} cannot be read ({e.strerror or e})") from None
        except json.JSONDecodeError as e:
            raise CassetteError(f"cassette {shown(self.path)} is corrupt (line {e.lineno}: {e.msg}); {how}") from None
        if not isinstance(data, dict) or data.get("format") != CASSETTE_FORMAT:
            raise CassetteError(f"{shown(self.path)} is not a pytest-reasoning cassette; {how}")
        version = data.get("version")
        if version != CASSETTE_VERSION:
            newer = isinstance(version, int) and version > CASSETTE_VERSION
            raise CassetteError(
                f"cassette {shown(self.path)} has format version {version!r}, this pytest-reasoning reads "
                f"{CASSETTE_VERSION}; " + ("upgrade pytest-reasoning" if newer else how)
            )
        out = {}
        for i, entry in enumerate(data.get("interactions") or []):
            try:
                request = entry["request"]
                if not isinstance(request.get("messages"), list) or not isinstance(request.get("params"), dict):
                    raise TypeError
                request["backend"], request["model"], request.setdefault("identity", {})  # noqa: B018
                RawResponse.from_dict(entry["response"])
                out[_entry_key(entry["key"], request)] = {"request": request, "response": entry["response"],
                                                          "tests": list(entry.get("tests") or [])}
            except (KeyError, TypeError, AttributeError):
                raise CassetteError(
                    f"cassette {shown(self.path)}: interaction {i} lacks key, request (backend, model, messages, "
                    f"params) or response; {how}"
                ) from None
        return out

    def by_path_keys(self, request: Request) -> list[str]:
        """Keys of the recordings whose request has ``request``'s :func:`path_key`."""
        if self._paths is None:
            self._paths = {}
            for key, entry in self.interactions.items():
                try:
                    self._paths.setdefault(path_key(Request.from_key_data(entry["request"])), []).append(key)
                except (KeyError, TypeError, ValueError):
                    continue
        return self._paths.get(path_key(request), [])

    def find(self, request: Request) -> str | None:
        """The key of ``request``'s recording, or ``None``: by :func:`recording_key`;
        for a model known by its content, else by its path among recordings made
        before content identity (counted in :attr:`by_path`); for a local model folder
        not on this machine, by its path among recordings of any content when exactly
        one matches."""
        key = recording_key(request)
        if key in self.interactions:
            return key
        content = content_identified(request)
        found = [k for k in self.by_path_keys(request)
                 if content_identified(Request.from_key_data(self.interactions[k]["request"])) != content]
        if content and found:
            self.by_path += 1
            return found[0]
        return found[0] if len(found) == 1 else None

    def lookup(self, request: Request, test: str | None = None) -> RawResponse | None:
        """The recorded response for ``request``, or ``None``; a found recording is
        noted in :attr:`used` for ``test``."""
        key = self.find(request)
        if key is None:
            return None
        self.used.setdefault(key, set()).update([test] if test else [])
        return RawResponse.from_dict(self.interactions[key]["response"])

    def record(
        self, request: Request, response: RawResponse, secrets: tuple[str, ...] = (), test: str | None = None
    ) -> None:
        """Add (or replace) the recording of ``request``, redacted, naming ``test`` (a
        node id) among the tests that make it; written by :meth:`save`.  A recording
        whose answer is unchanged (:func:`same_response`) is kept as it was."""
        key = recording_key(request)
        entry = {"request": redact(request.key_data(), secrets), "response": redacted(response, secrets).to_dict()}
        old = self.interactions.get(key)
        if old is not None and same_response(old["response"], entry["response"]):
            entry = {"request": old["request"], "response": old["response"]}
        entry["tests"] = sorted({*(old or {}).get("tests", []), *([test] if test else [])})
        self.used.setdefault(key, set()).update([test] if test else [])
        self.recorded = True
        if entry != old:
            self.interactions[key] = self._new[key] = entry
            self._paths = None

    def nearest_difference(self, request: Request) -> str | None:
        """For a miss: which parts of the request differ from the closest recording
        (``"messages"``, ``"params"``, ...), to say why a replay missed."""
        if not self.interactions:
            return None
        wanted = request.key_data()
        best = min(
            ([part for part in wanted if entry["request"].get(part) != wanted[part]] for entry in self.interactions.values()),
            key=len,
        )
        return ", ".join(best) or None

    def save(self) -> None:
        """Merge what was recorded into the file on disk (under a lock, so parallel
        workers add up) and write it atomically; entries sorted by request, so the
        file is the same however the tests were distributed."""
        if not self._new:
            return
        new = self._new

        def merge(merged: dict[str, dict[str, Any]]) -> None:
            for key, entry in new.items():  # tests that make a request add up across workers
                tests = sorted({*merged.get(key, {}).get("tests", []), *entry.get("tests", [])})
                merged[key] = {**entry, "tests": tests}

        self.rewrite(merge)
        self._new = {}

    def rewrite(self, change: Callable[[dict[str, dict[str, Any]]], None]) -> bool:
        """Apply ``change`` to the recordings on disk (``{key: entry}``, edited in
        place) under the folder's lock, and write the file atomically unless its text
        stays the same (an unchanged cassette keeps its bytes).  Returns whether it
        was written.

        Raises:
            CassetteError: the file on disk is unreadable.
            OSError: it cannot be written.
        """
        with _locked(self.path.parent):
            merged = self._load()
            change(merged)
            ordered = sorted(merged.items(), key=lambda kv: (canonical_json(kv[1]["request"]), kv[0]))
            body = {
                "format": CASSETTE_FORMAT,
                "version": CASSETTE_VERSION,
                "interactions": [{"key": k, **{f: v[f] for f in ("tests", "request", "response") if v.get(f)}}
                                 for k, v in ordered],
            }
            text = dump_cassette(body)
            try:
                if self.path.read_text(encoding="utf-8") == text:
                    return False
            except OSError:
                pass
            atomic_write_text(self.path, text)
            return True
