"""Recording: cassettes of recorded model responses, keyed on the whole request, replayed in CI.

One cassette per test file, ``<test dir>/cassettes/<test file stem>.json``, shared by
its tests (the key covers the whole request, so sharing is safe): readable UTF-8 JSON
holding, for each call, the request (backend, model, identity,
messages, params; never credentials or URLs) and the response in the provider's own
wire format (see :class:`~pytest_reasoning.backends.RawResponse`), so a replay runs
the same parser as a live call.  Writes are atomic and redacted.

A local model known by its content (``identity["model"]``, see
:meth:`~pytest_reasoning.backends.local.LocalBackend.identity_for`) is keyed on that
content, its path as written kept only as a label (:func:`recording_key`); recordings
made before that (keyed on the path) are still found by the path.  Re-recording an
unchanged answer keeps the recording as it was, byte for byte (:func:`same_response`).

Modules: :mod:`.cassette` (the file, its entries, atomic merged writes), :mod:`.recorder`
(record modes), :mod:`.keys` (what a recording is filed under; same-answer
re-recordings), :mod:`.pruning` (recordings no test used; imported by the plugin only).
"""

from .cassette import (
    CASSETTE_FORMAT,
    CASSETTE_VERSION,
    Cassette,
    CassetteError,
    MissingRecording,
    backend_and_model,
    dump_cassette,
    redacted,
    shown,
)
from .recorder import Recorder

__all__ = [
    "CASSETTE_FORMAT", "CASSETTE_VERSION", "Cassette", "CassetteError", "MissingRecording", "Recorder",
    "backend_and_model", "dump_cassette", "redacted", "shown",
]
