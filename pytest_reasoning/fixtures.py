"""The fixtures tests use: ``reasoning_model`` (run a prompt, get a Trace) and
``trace_snapshot`` (syrupy's ``snapshot`` with the trace extension)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from .backends import (
    LOCAL_BACKENDS,
    Backend,
    BackendError,
    RawResponse,
    Request,
    backend_settings,
    create_backend,
    request_identity,
    to_trace,
)
from .config import resolve, resolve_all, validate_marker
from .backends.base import canonical_json
from .recording import Cassette, CassetteError, MissingRecording, Recorder, shown
from .redaction import remember_secrets
from .snapshots import StableTraceSnapshotExtension, TraceSnapshotExtension
from .trace import Trace

__all__ = ["ReasoningModel", "SessionState", "STATE", "CALL_PROBLEM", "PARAMS", "reasoning_model", "trace_snapshot"]


class SessionState:
    """What one pytest session shares: live backends (one per backend, model and
    settings, so a local model loads once), cassettes (one per file), and the
    responses generated ahead for tests that have not run yet.

    Batching across the session: pytest runs tests one at a time, but a GPU wants
    batches and an API wants concurrency.  On the first live call to a backend, the
    session gathers every request that the collected tests made last time (from
    their cassettes) for the same backend, model and identity, in tests whose record
    mode will call the model again (``all``, ``off``), and runs them all in one
    ``Backend.run`` batch; each test then takes its response when it gets there.
    A prompt no cassette knows yet runs on its own the first time.  Under pytest-xdist
    nothing is gathered (a worker does not know which tests it will be sent).
    """

    def __init__(self) -> None:
        self.backends: dict[tuple[Any, ...], Backend] = {}
        self.cassettes: dict[Path, Cassette] = {}
        #: snapshot file -> the node id of the first test that used it (name clashes).
        self.snapshot_owners: dict[Path, str] = {}
        self.items: list[pytest.Item] = []
        self.ahead: dict[str, RawResponse] = {}
        self._gathered: set[tuple[Any, ...]] = set()

    def _backend_key(self, name: str, model: str, settings: dict[str, Any]) -> tuple[Any, ...]:
        return (name, model, tuple(sorted((k, repr(v)) for k, v in backend_settings(name, settings).items())))

    def backend(self, name: str, model: str, settings: dict[str, Any]) -> Backend:
        """The shared live backend for ``name``/``model`` and the settings that backend
        takes, created on first use.

        Raises:
            BackendError: the backend cannot start (missing key, package, GPU, model).
        """
        key = self._backend_key(name, model, settings)
        if key not in self.backends:
            self.backends[key] = create_backend(name, model, settings)
        return self.backends[key]

    def cassette(self, path: Path) -> Cassette:
        """The shared :class:`Cassette` for ``path``."""
        if path not in self.cassettes:
            self.cassettes[path] = Cassette(path)
        return self.cassettes[path]

    def open_cassettes(self, items: list[pytest.Item]) -> None:
        """Read the cassette of each collected test before any test runs, so record
        mode ``once`` means "no cassette when the session started" in every
        pytest-xdist worker (workers all collect before the first test runs), not "no
        cassette when this worker got to the file", which another worker may have
        written meanwhile.  An unreadable cassette fails its tests when they run."""
        for item in items:
            if "reasoning_model" not in getattr(item, "fixturenames", ()):
                continue
            try:
                self.cassette(cassette_path(item, resolve(item.config, "cassette_dir", item))).interactions
            except CassetteError:
                pass

    def live(self, model: ReasoningModel, requests: list[Request]) -> list[RawResponse]:
        """Responses for ``requests`` from the live backend of ``model``'s test: taken
        from those generated ahead, else run now — together with the session's other
        known requests the first time this backend is used.  A gathered request that
        fails is dropped (its own test runs it again and reports the failure).

        Raises:
            BackendError: one of ``requests`` failed.
        """
        backend = self.backend(model.backend_name, model.location, model.live_settings)
        keys = [r.key() for r in requests]
        own = {k: r for k, r in zip(keys, requests) if k not in self.ahead}
        extra: dict[str, Request] = {}
        key = self._backend_key(model.backend_name, model.location, model.live_settings)
        # A pytest-xdist worker collects every test but runs only those it is sent:
        # gathering there would call the model for the other workers' tests too.
        if own and key not in self._gathered and not hasattr(model.item.config, "workerinput"):
            self._gathered.add(key)
            extra = {r.key(): r for r in self.known_requests(model) if r.key() not in own}
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

    def known_requests(self, model: ReasoningModel) -> list[Request]:
        """Requests that the selected tests sharing ``model``'s backend, model and
        identity made when last recorded (their cassette entries name the tests), in
        tests whose record mode calls the model again; sorted by key."""
        wanted = (model.backend_name, model.model, model.identity)
        found: dict[str, Request] = {}
        for item in self.items:
            if "reasoning_model" not in getattr(item, "fixturenames", ()):
                continue
            try:
                other = ReasoningModel(item, self)
                entries = other.recorder.cassette.interactions
            except (pytest.UsageError, CassetteError):
                continue
            if (other.backend_name, other.model, other.identity) != wanted or other.settings["record_mode"] not in (
                "all", "off"
            ):
                continue
            for k, entry in entries.items():
                req = entry["request"]
                if item.nodeid in entry.get("tests", ()) and (req["backend"], req["model"], req["identity"]) == wanted:
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


STATE = pytest.StashKey[SessionState]()
#: The one-line reason a test's model call failed (missing recording, unreadable
#: cassette, backend error); the plugin keeps such a failure from passing as an xfail.
CALL_PROBLEM = pytest.StashKey[str]()

#: Parameters a test may pass to ``reasoning_model(...)``, with the type each takes.
PARAMS: dict[str, type | tuple[type, ...]] = {
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


def _check_params(params: dict[str, Any]) -> str | None:
    """A one-line complaint about an unknown, mistyped or non-JSON parameter, or ``None``."""
    try:
        canonical_json(params)
    except (TypeError, ValueError) as e:
        return f"reasoning_model() parameters must be JSON data (they are recorded): {e}"
    for name, value in params.items():
        if name not in PARAMS:
            return (f"unknown parameter {name!r} for reasoning_model(); valid: {', '.join(PARAMS)}; "
                    "send provider-specific fields with extra_body={...}")
        kind = PARAMS[name]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            return f"parameter {name}={value!r} for reasoning_model() must be {names}"
    return None


def snapshot_file(item: pytest.Item) -> Path:
    """The file of ``item``'s (first) trace snapshot, named by syrupy's own rules."""
    from syrupy.location import PyTestLocation

    location = PyTestLocation(item)
    name = TraceSnapshotExtension.get_snapshot_name(test_location=location)
    return Path(TraceSnapshotExtension.dirname(test_location=location), f"{name}.{TraceSnapshotExtension.file_extension}")


def command_line_id(item: pytest.Item) -> str:
    """``item``'s node id as the command line takes it from the directory pytest was
    started in (node ids are relative to the rootdir)."""
    path, sep, rest = item.nodeid.partition("::")
    start = item.config.invocation_params.dir
    relative = os.path.relpath(item.config.rootpath / path, start) if start != item.config.rootpath else path
    return f"{Path(relative).as_posix()}{sep}{rest}"


def cassette_path(item: pytest.Item, folder: str) -> Path:
    """The cassette of ``item``'s test file: ``<test dir>/<folder>/<test file stem>.json``."""
    return item.path.parent / folder / f"{item.path.stem}.json"


def _messages(prompt: str | Sequence[dict[str, Any]], system: str | None) -> list[dict[str, Any]]:
    if isinstance(prompt, str):
        messages = [{"role": "user", "content": prompt}]
    elif isinstance(prompt, Sequence) and all(isinstance(m, dict) and "role" in m for m in prompt):
        messages = [dict(m) for m in prompt]
    else:
        raise TypeError(
            f"the prompt is a string or a list of chat messages like {{'role': 'user', 'content': '...'}}, "
            f"not {type(prompt).__name__}"
        )
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    return messages


class ReasoningModel:
    """Runs prompts for one test on the configured backend, through its cassette.

    Backend, model and the rest come from ``--reasoning-*`` options, the test's
    ``@pytest.mark.reasoning(...)`` and ``reasoning_*`` ini keys (in that order).
    """

    def __init__(self, item: pytest.Item, state: SessionState, overrides: dict[str, Any] | None = None):
        self.item, self.state, self.overrides = item, state, dict(overrides or {})
        self.settings = resolve_all(item.config, item, self.overrides)
        backend, model = self.settings["backend"], self.settings["model"]
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
        self.backend_name, self.model = backend, model
        try:
            self.identity = request_identity(backend, self.settings, self._locate)
        except BackendError as e:
            raise pytest.UsageError(f"{item.nodeid}: {e}") from None
        self.live_settings = {**self.settings, "adapter": self.settings["adapter"] and self._locate(self.settings["adapter"])}
        self.location = self._locate(model)
        path = cassette_path(item, self.settings["cassette_dir"])
        if self.settings["record_mode"] != "off" and path.parent.exists() and not path.parent.is_dir():
            raise pytest.UsageError(  # checked before any paid call whose answer could not be kept
                f"{item.nodeid}: the cassette folder {shown(path.parent)} is a file; give "
                "--reasoning-cassette-dir (or reasoning_cassette_dir) the name of a folder"
            )
        self.recorder = Recorder(
            state.cassette(path),
            self.settings["record_mode"],
            lambda requests: state.live(self, requests),
            rerun_hint=f"pytest '{command_line_id(item)}'",
            secrets=tuple(s for s in [self.settings.get("api_key")] if s),
            test=item.nodeid,
        )
        remember_secrets(self.settings.get("api_key"))  # also out of snapshots and failure messages
        self.snapshot_path = None  # named in assertion failures when the test has a trace snapshot
        if "trace_snapshot" in getattr(item, "fixturenames", ()):
            self.snapshot_path = shown(snapshot_file(item))

    def _locate(self, path: str) -> str:
        """A local model or adapter given as a relative path is found next to the test
        file, then under the rootdir; recording keys keep the string as written."""
        if self.backend_name in LOCAL_BACKENDS and not Path(path).is_absolute():
            for base in (self.item.path.parent, self.item.config.rootpath):
                if (base / path).exists():
                    return str(base / path)
        return path

    def using(self, **settings: Any) -> ReasoningModel:
        """The same test's model with other settings, as if the test's marker said
        them (``reasoning_model.using(adapter="models/my-lora")``); the command line
        still wins.  Keywords as for ``@pytest.mark.reasoning``.

        Raises:
            pytest.UsageError: an unknown keyword or a bad value.
        """
        __tracebackhide__ = True
        try:
            validate_marker(settings, self.item.nodeid, "reasoning_model.using")
            model, problem = ReasoningModel(self.item, self.state, {**self.overrides, **settings}), None
        except pytest.UsageError as e:
            model, problem = None, str(e)
        if problem:
            self._fail(problem)
        return model

    def __call__(self, prompt: str | Sequence[dict[str, Any]], *, system: str | None = None, **params: Any) -> Trace:
        """Run one prompt and return its :class:`Trace`.

        Args:
            prompt: the user message, or a list of chat messages.
            system: an optional system message put first.
            **params: sampling and thinking settings: ``temperature``, ``top_p``,
                ``top_k``, ``min_p``, ``max_tokens``, ``seed``, ``thinking`` (bool),
                ``thinking_budget`` (tokens), ``reasoning_effort``, ``stream`` (bool),
                ``extra_body`` (dict).  ``None`` values are dropped.  All of them are
                part of the recording key.

        Fails the test (one line, no traceback) when the recording is missing or
        corrupt or the backend fails.
        """
        return self.batch([prompt], system=system, **params)[0]

    def batch(
        self, prompts: Sequence[str | Sequence[dict[str, Any]]], *, system: str | None = None, **params: Any
    ) -> list[Trace]:
        """Run several prompts with the same settings in one backend call (batched
        on local models, concurrent on APIs); traces in prompt order."""
        __tracebackhide__ = True
        params = {k: v for k, v in params.items() if v is not None}
        problem = _check_params(params)
        if isinstance(prompts, (str, dict)):
            problem = "reasoning_model.batch() takes a list of prompts; for one prompt call reasoning_model(prompt)"
        try:
            conversations = [tuple(_messages(p, system)) for p in prompts]
        except TypeError as e:
            conversations, problem = [], problem or str(e)
        if problem:
            self._fail(problem)
        requests = [Request(self.backend_name, self.model, c, params, self.identity) for c in conversations]
        try:
            raws, problem = self.recorder.run(requests), None
        except (MissingRecording, CassetteError, BackendError) as e:
            raws, problem = [], str(e)
        if problem:  # failed outside the except block: one line, no chained traceback
            self._fail(problem)
        try:
            traces = [to_trace(r, raw) for r, raw in zip(requests, raws)]
        except Exception as e:  # a recording edited by hand or written by something else
            traces, problem = [], self.recorder.unreadable_message(e)
        if problem:
            self._fail(problem)
        for trace in traces:
            trace.snapshot_path = self.snapshot_path
        return traces

    def _fail(self, problem: str) -> None:
        """Fail the test with one line, marked so that an xfail cannot swallow it."""
        __tracebackhide__ = True
        self.item.stash[CALL_PROBLEM] = problem
        pytest.fail(problem, pytrace=False)

    def save(self) -> None:
        """Write the test's cassette if it recorded anything.

        Raises:
            CassetteError: the file on disk became unreadable meanwhile.
            OSError: it cannot be written.
        """
        self.recorder.cassette.save()


@pytest.fixture
def reasoning_model(request: pytest.FixtureRequest):
    """Call it with a prompt (and sampling/thinking params) to get a :class:`Trace`::

        def test_capital(reasoning_model):
            trace = reasoning_model("What is the capital of Texas?", temperature=0.6)
    """
    try:
        model, problem = ReasoningModel(request.node, request.config.stash[STATE]), None
    except pytest.UsageError as e:
        model, problem = None, str(e)
    if problem:  # one line, no traceback; not the failure an xfail expects
        request.node.stash[CALL_PROBLEM] = problem
        pytest.fail(problem, pytrace=False)
    yield model
    model.save()


@pytest.fixture
def trace_snapshot(snapshot: Any, request: pytest.FixtureRequest) -> Any:
    """syrupy's ``snapshot`` with the trace extension (``assert trace == trace_snapshot``),
    comparing exactly or only stable parts per the ``snapshot_mode`` setting."""
    item, state = request.node, request.config.stash[STATE]
    path = snapshot_file(item)
    owner = state.snapshot_owners.setdefault(path, item.nodeid)
    if owner != item.nodeid:
        pytest.fail(
            f"{item.nodeid} and {owner} would share the snapshot {shown(path)}: their names differ only in "
            "characters a file name cannot hold; give them parametrize ids that differ in letters or digits",
            pytrace=False,
        )
    mode = resolve(request.config, "snapshot_mode", item)
    return snapshot.use_extension(StableTraceSnapshotExtension if mode == "stable" else TraceSnapshotExtension)
