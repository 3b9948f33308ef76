"""What one pytest session shares: the resolved setup of each test, the live backends
(one per backend, model and settings, so a local model loads once), the cassettes (one
per test file), the keys to redact, and the responses generated ahead for tests that
have not run yet.

Batching across the session: pytest runs tests one at a time, but a GPU wants batches
and an API wants concurrency.  On the first live call to a backend, the session
gathers every request that the selected tests made last time (from their cassettes)
for the same backend, model and identity, in tests whose record mode will call the
model again (``all``, ``off``), and runs them all in one ``Backend.run`` batch; each
test then takes its response when it gets there.  A prompt no cassette knows yet runs
on its own the first time.  Under pytest-xdist nothing is gathered (a worker does not
know which tests it will be sent).
"""

from __future__ import annotations

import difflib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .backends import LOCAL_BACKENDS, Backend, BackendError, RawResponse, Request, create_backend, request_identity
from .recording import Cassette, CassetteError, shown
from .recording.keys import recording_key
from .settings.table import SETTINGS, resolve, resolve_all

__all__ = ["SessionState", "TestSetup", "STATE", "cassette_path", "command_line_id"]


def cassette_path(item: pytest.Item, folder: str) -> Path:
    """The cassette of ``item``'s test file: ``<test dir>/<folder>/<test file stem>.json``."""
    return item.path.parent / folder / f"{item.path.stem}.json"


def command_line_id(item: pytest.Item) -> str:
    """``item``'s node id as the command line takes it from the directory pytest was
    started in (node ids are relative to the rootdir)."""
    path, sep, rest = item.nodeid.partition("::")
    start = item.config.invocation_params.dir
    relative = os.path.relpath(item.config.rootpath / path, start) if start != item.config.rootpath else path
    return f"{Path(relative).as_posix()}{sep}{rest}"


@dataclass
class TestSetup:
    """One test's model calls, resolved: which backend and model, what else decides the
    output (``identity``), where the recordings go.

    Attributes:
        item: the test.
        settings: every setting (:func:`~pytest_reasoning.settings.table.resolve_all`).
        backend, model: the backend name and the model as written.
        identity: the recording key's identity (LoRA adapter path and hash, 4-bit).
        location: the model found on disk for a local backend (else ``model``).
        live_settings: ``settings`` with the adapter found on disk.
        cassette: the test file's cassette path.
    """

    __test__ = False  # not a test class, whatever its name

    item: pytest.Item
    settings: dict[str, Any]
    backend: str
    model: str
    identity: dict[str, Any] = field(default_factory=dict)
    location: str = ""
    live_settings: dict[str, Any] = field(default_factory=dict)
    cassette: Path = Path()

    @classmethod
    def resolve(cls, item: pytest.Item, overrides: dict[str, Any] | None = None) -> TestSetup:
        """The setup of ``item`` with ``overrides`` acting as its closest marker.

        Raises:
            pytest.UsageError: no backend or model set, a bad value, a missing adapter,
                a cassette folder that is a file (one line naming the test).
        """
        settings = resolve_all(item.config, item, overrides)
        backend, model = settings["backend"], settings["model"]
        if backend is None:
            raise pytest.UsageError(
                f"{item.nodeid}: no reasoning backend set; pass --reasoning-backend, set reasoning_backend in "
                "the ini file, or mark the test @pytest.mark.reasoning(backend=...)"
            )
        if model is None:
            raise pytest.UsageError(
                f"{item.nodeid}: no model set for the {backend} backend; pass --reasoning-model, set "
                "reasoning_model in the ini file, or mark the test @pytest.mark.reasoning(model=...)"
            )
        setup = cls(item, settings, backend, model)
        try:
            setup.identity = request_identity(backend, settings, setup.locate)
        except BackendError as e:
            where = _source(item, "adapter", overrides) if settings.get("adapter") else None
            raise pytest.UsageError(f"{item.nodeid}: {e}" + (f"; check {where}" if where else "")) from None
        setup.location = setup.locate(model)
        setup.live_settings = {**settings, "adapter": settings["adapter"] and setup.locate(settings["adapter"])}
        setup.cassette = cassette_path(item, settings["cassette_dir"])
        folder = setup.cassette.parent
        if settings["record_mode"] != "off" and folder.exists() and not folder.is_dir():
            raise pytest.UsageError(  # checked before any paid call whose answer could not be kept
                f"{item.nodeid}: the cassette folder {shown(folder)} is a file; give "
                "--reasoning-cassette-dir (or reasoning_cassette_dir) the name of a folder"
            )
        return setup

    def locate(self, path: str) -> str:
        """A local model or adapter given as a relative path is found next to the test
        file, then under the rootdir; recording keys keep the string as written."""
        if self.backend in LOCAL_BACKENDS and not Path(path).is_absolute():
            for base in (self.item.path.parent, self.item.config.rootpath):
                if (base / path).exists():
                    return str(base / path)
        return path

    def places(self, path: str) -> list[Path]:
        """Where :meth:`locate` looks for a relative ``path``: next to the test file,
        under the rootdir, and in the current directory (where a path as written
        is loaded from)."""
        if Path(path).expanduser().is_absolute():
            return [Path(path).expanduser()]
        bases = (self.item.path.parent, self.item.config.rootpath, Path.cwd())
        return list(dict.fromkeys(Path(os.path.normpath(base / path)) for base in bases))

    def missing_model(self) -> str | None:
        """For a local backend: a one-line complaint when the model is written as a
        path, or names a folder inside one that exists (``models/tiny-qwen4`` beside
        ``models/``), and is found in none of :meth:`places`; ``None`` otherwise
        (found, or a hub id)."""
        from .backends.local.loading import is_local_path

        if self.backend not in LOCAL_BACKENDS or Path(self.location).expanduser().exists():
            return None
        places = self.places(self.model)
        parents = [p.parent for p in places if p.parent.is_dir() and p.parent != Path(p.anchor)]
        if not is_local_path(self.model) and not (len(Path(self.model).parts) > 1 and parents):
            return None
        near = [f"{Path(self.model).parent / n}" for parent in parents[:1]
                for n in difflib.get_close_matches(Path(self.model).name, [c.name for c in parent.iterdir()], 1)]
        return (f"model directory {self.model!r} not found (looked in {', '.join(shown(p) for p in places)})"
                + (f"; did you mean {near[0]!r}?" if near else "")
                + "; pass an existing directory (config.json, weights, tokenizer) or a Hugging Face hub id")

    @property
    def wanted(self) -> tuple[str, str | None, Any]:
        """What a recorded request must match to be gathered for this setup (a model
        known by its content matches whatever path it was written as)."""
        return _wanted(self.backend, self.model, self.identity)


def _wanted(backend: str, model: str, identity: Any) -> tuple[str, str | None, Any]:
    content = isinstance(identity, dict) and isinstance(identity.get("model"), dict)
    return backend, None if content else model, identity


def _source(item: pytest.Item, key: str, overrides: dict[str, Any] | None) -> str:
    """Where setting ``key`` of ``item`` came from, as the user wrote it: the option,
    ``reasoning_model.using(...)``, the marker, or the ini key."""
    setting = SETTINGS[key]
    if item.config.getoption(setting.dest, default=None) is not None:
        return setting.option
    if (overrides or {}).get(key) is not None:
        return f"reasoning_model.using({key}=...)"
    if any(key in mark.kwargs for mark in item.iter_markers("reasoning")):
        return f"@pytest.mark.reasoning({key}=...)"
    return f"{setting.dest} in the ini file"


class SessionState:
    """The session's shared state, kept on ``config.stash[STATE]``.

    Attributes:
        secrets: the keys in use (options and the environment), redacted from every
            recording, snapshot and report of this session.
        items: the selected tests (after ``-k`` / ``-m``).
        snapshot_owners: snapshot file -> the node id of the first test that used it.
        calls: node id -> ``{"live": requests answered by a live model, "recorded":
            of those, the ones a cassette keeps (record mode not ``off``), "seconds":
            wall-clock seconds in live backend calls}`` (reports read it).
    """

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.secrets = secrets
        self.backends: dict[tuple[Any, ...], Backend] = {}
        self.cassettes: dict[Path, Cassette] = {}
        self.snapshot_owners: dict[Path, str] = {}
        self.items: list[pytest.Item] = []
        self.ahead: dict[str, RawResponse] = {}
        self.calls: dict[str, dict[str, float]] = {}
        self.failures: dict[tuple[Any, ...], str] = {}
        self._gathered: set[tuple[Any, ...]] = set()

    def add_secret(self, value: str | None) -> None:
        """Redact ``value`` too from now on (a key given to one test)."""
        if value and value not in self.secrets:
            self.secrets = (*self.secrets, value)

    def _backend_key(self, setup: TestSetup) -> tuple[Any, ...]:
        from .backends import backend_settings

        taken = backend_settings(setup.backend, setup.live_settings)
        return (setup.backend, setup.location, tuple(sorted((k, repr(v)) for k, v in taken.items())))

    def backend(self, setup: TestSetup) -> Backend:
        """The shared live backend for ``setup``, created on first use.  A backend that
        cannot start fails every later test that needs it at once, with the same line
        (a missing model is not looked for again, on disk or on the hub).

        Raises:
            BackendError: the backend cannot start (missing key, package, GPU, model).
        """
        key = self._backend_key(setup)
        if key in self.failures:
            raise BackendError(self.failures[key])
        if key not in self.backends:
            try:
                problem = setup.missing_model()
                if problem:
                    raise BackendError(problem)
                self.backends[key] = create_backend(setup.backend, setup.location, setup.live_settings)
            except BackendError as e:
                self.failures[key] = str(e)
                raise
        return self.backends[key]

    def cassette(self, path: Path) -> Cassette:
        """The shared :class:`~pytest_reasoning.recording.Cassette` for ``path``."""
        if path not in self.cassettes:
            self.cassettes[path] = Cassette(path)
        return self.cassettes[path]

    def open_cassettes(self, items: list[pytest.Item]) -> None:
        """Read the cassette of each selected test before any test runs, so record mode
        ``once`` means "no cassette when the session started" in every pytest-xdist
        worker, not "no cassette when this worker got to the file", which another
        worker may have written meanwhile.  An unreadable cassette fails its tests
        when they run."""
        for item in items:
            if "reasoning_model" not in getattr(item, "fixturenames", ()):
                continue
            try:
                self.cassette(cassette_path(item, resolve(item.config, "cassette_dir", item))).interactions
            except CassetteError:
                pass

    def live(self, setup: TestSetup, requests: list[Request]) -> list[RawResponse]:
        """Responses for ``requests`` from ``setup``'s live backend: taken from those
        generated ahead, else run now — together with the session's other known
        requests the first time this backend is used.  A gathered request that fails
        is dropped (its own test runs it again and reports the failure).

        Raises:
            BackendError: one of ``requests`` failed (``.partial`` holds the answers
                that came, in request order, ``None`` for the others).
        """
        backend = self.backend(setup)
        keys = [recording_key(r) for r in requests]
        own = {k: r for k, r in zip(keys, requests) if k not in self.ahead}
        extra: dict[str, Request] = {}
        key = self._backend_key(setup)
        # A pytest-xdist worker collects every test but runs only those it is sent:
        # gathering there would call the model for the other workers' tests too.
        if own and key not in self._gathered and not hasattr(setup.item.config, "workerinput"):
            self._gathered.add(key)
            extra = {k: r for r in self.known_requests(setup) if (k := recording_key(r)) not in own}
        batch = [*own.values(), *extra.values()]
        started = time.perf_counter()
        try:
            raws: list[RawResponse | None] = list(backend.run(batch)) if batch else []
            failure = None
        except BackendError as e:
            raws, failure = list(getattr(e, "partial", None) or [None] * len(batch)), e
        results = dict(zip([*own, *extra], raws))
        answered = sum(results.get(k) is not None or k in self.ahead for k in keys)
        self._count(setup, answered, time.perf_counter() - started if batch else 0.0)
        self.ahead.update({k: v for k, v in results.items() if k in extra and v is not None})
        if failure is not None and any(results.get(k) is None for k in own):
            # the answers that did come (paid for) go back with the failure, to be recorded
            failure.partial = [results[k] if results.get(k) is not None else self.ahead.pop(k, None) for k in keys]
            raise failure
        return [results[k] if results.get(k) is not None else self.ahead.pop(k) for k in keys]

    def _count(self, setup: TestSetup, answered: int, seconds: float) -> None:
        """Add ``answered`` requests (answered live for ``setup``'s test) and ``seconds`` to :attr:`calls`."""
        counts = self.calls.setdefault(setup.item.nodeid, {"live": 0, "recorded": 0, "seconds": 0.0})
        counts["live"] += answered
        counts["recorded"] += answered if setup.settings.get("record_mode") != "off" else 0
        counts["seconds"] += seconds

    def known_requests(self, setup: TestSetup) -> list[Request]:
        """Requests that the selected tests sharing ``setup``'s backend, model and
        identity made when last recorded (their cassette entries name the tests), in
        tests whose record mode calls the model again; sorted by key."""
        found: dict[str, Request] = {}
        for item in self.items:
            if "reasoning_model" not in getattr(item, "fixturenames", ()):
                continue
            try:
                other = TestSetup.resolve(item)
                entries = self.cassette(other.cassette).interactions
            except (pytest.UsageError, CassetteError):
                continue
            if other.wanted != setup.wanted or other.settings["record_mode"] not in ("all", "off"):
                continue
            for k, entry in entries.items():
                req = entry["request"]
                if item.nodeid in entry.get("tests", ()) and _wanted(req["backend"], req["model"], req["identity"]) == setup.wanted:
                    found.setdefault(k, Request.from_key_data(req))
        return sorted(found.values(), key=recording_key)

    def close(self) -> list[str]:
        """Save pending cassettes and release every backend, each on its own, so one
        failure loses nothing else.  Returns one line per failure."""
        problems = []
        for cassette in self.cassettes.values():
            try:
                cassette.save()
            except (CassetteError, OSError) as e:
                problems.append(f"could not save {cassette.path}: {e}")
        for backend in self.backends.values():
            try:
                backend.close()
            except Exception as e:  # a backend's clean-up must not stop the others'
                problems.append(f"could not release the {backend.name} backend: {e}")
        self.backends.clear()
        return problems


#: The session's :class:`SessionState`.
STATE = pytest.StashKey[SessionState]()
