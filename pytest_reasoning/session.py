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

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .backends import LOCAL_BACKENDS, Backend, BackendError, RawResponse, Request, create_backend, request_identity
from .recording import Cassette, CassetteError, shown
from .settings.table import resolve, resolve_all

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
            raise pytest.UsageError(f"{item.nodeid}: {e}") from None
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

    @property
    def wanted(self) -> tuple[str, str, Any]:
        """What a recorded request must match to be gathered for this setup."""
        return self.backend, self.model, self.identity


class SessionState:
    """The session's shared state, kept on ``config.stash[STATE]``.

    Attributes:
        secrets: the keys in use (options and the environment), redacted from every
            recording, snapshot and report of this session.
        items: the selected tests (after ``-k`` / ``-m``).
        snapshot_owners: snapshot file -> the node id of the first test that used it.
    """

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.secrets = secrets
        self.backends: dict[tuple[Any, ...], Backend] = {}
        self.cassettes: dict[Path, Cassette] = {}
        self.snapshot_owners: dict[Path, str] = {}
        self.items: list[pytest.Item] = []
        self.ahead: dict[str, RawResponse] = {}
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
        """The shared live backend for ``setup``, created on first use.

        Raises:
            BackendError: the backend cannot start (missing key, package, GPU, model).
        """
        key = self._backend_key(setup)
        if key not in self.backends:
            self.backends[key] = create_backend(setup.backend, setup.location, setup.live_settings)
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
        keys = [r.key() for r in requests]
        own = {k: r for k, r in zip(keys, requests) if k not in self.ahead}
        extra: dict[str, Request] = {}
        key = self._backend_key(setup)
        # A pytest-xdist worker collects every test but runs only those it is sent:
        # gathering there would call the model for the other workers' tests too.
        if own and key not in self._gathered and not hasattr(setup.item.config, "workerinput"):
            self._gathered.add(key)
            extra = {r.key(): r for r in self.known_requests(setup) if r.key() not in own}
        batch = [*own.values(), *extra.values()]
        try:
            raws: list[RawResponse | None] = list(backend.run(batch)) if batch else []
            failure = None
        except BackendError as e:
            raws, failure = list(getattr(e, "partial", None) or [None] * len(batch)), e
        results = dict(zip([*own, *extra], raws))
        self.ahead.update({k: v for k, v in results.items() if k in extra and v is not None})
        if failure is not None and any(results.get(k) is None for k in own):
            # the answers that did come (paid for) go back with the failure, to be recorded
            failure.partial = [results[k] if results.get(k) is not None else self.ahead.pop(k, None) for k in keys]
            raise failure
        return [results[k] if results.get(k) is not None else self.ahead.pop(k) for k in keys]

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
                if item.nodeid in entry.get("tests", ()) and (req["backend"], req["model"], req["identity"]) == setup.wanted:
                    found.setdefault(k, Request.from_key_data(req))
        return sorted(found.values(), key=lambda r: r.key())

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
