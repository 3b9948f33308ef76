"""The fixtures tests use: ``reasoning_model`` (run a prompt, get a Trace) and
``trace_snapshot`` (syrupy's ``snapshot`` with the trace extension), and the
:class:`ReasoningModel` facade behind the first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from .backends import BackendError, Request, to_trace
from .backends.base import canonical_json
from .recording import CassetteError, MissingRecording, Recorder, shown
from .session import STATE, SessionState, TestSetup, command_line_id
from .settings.kinds import number
from .settings.table import check_params, resolve, validate_marker
from .trace import Trace

__all__ = ["ReasoningModel", "CALL_PROBLEM", "TRACES", "SAMPLES", "reasoning_model", "trace_snapshot", "snapshot_file"]

#: The one-line reason a test's model call failed (missing recording, unreadable
#: cassette, backend error); the plugin keeps such a failure from passing as an xfail.
CALL_PROBLEM = pytest.StashKey[str]()
#: Every trace a test's model calls returned, in order (what reports read).
TRACES = pytest.StashKey[list[Trace]]()
#: Every sample a test drew, in order (what reports read).
SAMPLES = pytest.StashKey[list[Any]]()

Prompt = str | Sequence[dict[str, Any]]


def snapshot_file(item: pytest.Item) -> Path:
    """The file of ``item``'s (first) trace snapshot, named by syrupy's own rules."""
    from syrupy.location import PyTestLocation

    from .snapshots import TraceSnapshotExtension

    location = PyTestLocation(item)
    name = TraceSnapshotExtension.get_snapshot_name(test_location=location)
    return Path(TraceSnapshotExtension.dirname(test_location=location), f"{name}.{TraceSnapshotExtension.file_extension}")


def _messages(prompt: Prompt, system: str | None) -> list[dict[str, Any]]:
    """The chat messages for a prompt (a string or a message list) and a system message.

    Raises:
        TypeError: ``prompt`` is neither (the message says what it takes), or an
            empty string.
    """
    if isinstance(prompt, str):
        if not prompt.strip():
            raise TypeError("the prompt is empty; give the question to ask")
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


def _check(params: dict[str, Any]) -> str | None:
    """A one-line complaint about the parameters of a call, or ``None``."""
    try:
        canonical_json(params)
    except (TypeError, ValueError) as e:
        return f"reasoning_model() parameters must be JSON data (they are recorded): {e}"
    return check_params(params)


class ReasoningModel:
    """Runs prompts for one test on the configured backend, through its cassette.

    Backend, model and the rest come from ``--reasoning-*`` options, the test's
    ``@pytest.mark.reasoning(...)`` and ``reasoning_*`` ini keys (in that order).

    Raises:
        pytest.UsageError: from the constructor, see :meth:`TestSetup.resolve`.
    """

    def __init__(self, item: pytest.Item, state: SessionState, overrides: dict[str, Any] | None = None):
        self.item, self.state, self.overrides = item, state, dict(overrides or {})
        self.setup = TestSetup.resolve(item, self.overrides)
        self.settings = self.setup.settings
        state.add_secret(self.settings.get("api_key"))  # also out of snapshots and failure messages
        snapshot = "trace_snapshot" in getattr(item, "fixturenames", ())
        self.recorder = Recorder(
            state.cassette(self.setup.cassette),
            self.settings["record_mode"],
            lambda requests: state.live(self.setup, requests),
            rerun_hint=f"pytest '{command_line_id(item)}'",
            secrets=state.secrets,
            test=item.nodeid,
            snapshot=snapshot,  # the hint to record it updates the snapshot too
        )
        self.snapshot_path = None  # named in assertion failures when the test has a trace snapshot
        if snapshot:
            self.snapshot_path = shown(snapshot_file(item))

    @property
    def backend_name(self) -> str:
        """The backend's name (``"deepseek"``, ``"transformers"``, ...)."""
        return self.setup.backend

    @property
    def model(self) -> str:
        """The model as written in the settings."""
        return self.setup.model

    def using(self, **settings: Any) -> ReasoningModel:
        """The same test's model with other settings, as if the test's marker said
        them (``reasoning_model.using(adapter="models/my-lora")``); the command line
        still wins.  Keywords as for ``@pytest.mark.reasoning``.

        Fails the test (one line) on an unknown keyword or a bad value.
        """
        __tracebackhide__ = True
        try:
            validate_marker(settings, self.item.nodeid, "reasoning_model.using")
            model, problem = ReasoningModel(self.item, self.state, {**self.overrides, **settings}), None
        except pytest.UsageError as e:
            model, problem = None, str(e)
        if problem:
            self._fail(problem)
        return model  # type: ignore[return-value]

    def __call__(self, prompt: Prompt, *, system: str | None = None, **params: Any) -> Trace:
        """Run one prompt and return its :class:`Trace`.

        Args:
            prompt: the user message, or a list of chat messages.
            system: an optional system message put first.
            **params: sampling and thinking settings: ``temperature``, ``top_p``,
                ``top_k``, ``min_p``, ``max_tokens``, ``seed``, ``thinking`` (bool),
                ``thinking_budget`` (tokens), ``reasoning_effort``, ``stream`` (bool),
                ``extra_body`` (dict), ``do_sample`` (local) and the penalties (see the
                README's table).  ``None`` values are dropped.  All of them are part of
                the recording key.

        Fails the test (one line, no traceback) when the recording is missing or
        corrupt or the backend fails.
        """
        __tracebackhide__ = True
        return self.batch([prompt], system=system, **params)[0]

    def batch(self, prompts: Sequence[Prompt], *, system: str | None = None, **params: Any) -> list[Trace]:
        """Run several prompts with the same settings in one backend call (batched
        on local models, concurrent on APIs); traces in prompt order."""
        __tracebackhide__ = True
        if isinstance(prompts, (str, dict)):
            self._fail("reasoning_model.batch() takes a list of prompts; for one prompt call reasoning_model(prompt)")
        return self._run(self._requests(prompts, system, params))

    def sample(self, prompt: Prompt, n: int | None = None, *, system: str | None = None, **params: Any) -> Any:
        """Draw ``n`` samples of one prompt and return them as a
        :class:`~pytest_reasoning.sample.TraceSample` (a sequence of traces).

        The n requests run as one batch (local) or concurrently (APIs).  Sample ``i``
        is its own recording (its index is in the recording key), seeded ``seed + i``
        on local backends (and on APIs where a seed is given), so a re-record is
        reproducible and a larger ``n`` records only the samples not yet recorded.
        ``n`` defaults to the ``samples`` setting (``--reasoning-samples``,
        ``reasoning_samples``, marker ``samples=``; 16).

        Fails the test (one line) on an ``n`` that is not a whole number > 0, and as
        :meth:`__call__` does.
        """
        __tracebackhide__ = True
        from .sample import TraceSample

        count, problem = n if n is not None else self.settings["samples"], None
        try:
            if n is not None and (isinstance(n, bool) or not isinstance(n, int)):  # no "3" or 2.5 in test code
                raise pytest.UsageError(f"invalid reasoning_model.sample(n=...) {n!r}: expected a whole number > 0")
            count = number(int)("reasoning_model.sample(n=...)", count)
        except pytest.UsageError as e:
            problem = str(e)
        if problem:
            self._fail(problem)
        base = self._requests([prompt], system, params)[0]
        requests = [Request(base.backend, base.model, base.messages, base.params, base.identity, i) for i in range(count)]
        sample = TraceSample(self._run(requests))
        self.item.stash.setdefault(SAMPLES, []).append(sample)
        return sample

    def explain(self, prompt: Prompt, detour: Any, n: int | None = None, *, system: str | None = None,
                answer: Any = None, attribute: bool | None = None, alpha: float = 0.05, **params: Any) -> Any:
        """Why ``prompt`` makes the reasoning take ``detour``: the prompt (its last user
        message) cut into spans, sampled ``n`` times whole and ``n`` times with each span
        left out, and the detour rates compared (Fisher, Newcombe's interval, Holm at
        ``alpha``); ``answer``: the right answer's text or alternatives (a span without
        which it drops is part of the question, not a cause); on local models also
        token attribution (``attribute=None``: where the model loads; ``True``:
        required).  Every run is a recorded sample request.
        Returns an :class:`~pytest_reasoning.explain.Explanation` (``.causes``,
        ``.spans``); see :mod:`pytest_reasoning.explain`.

        Fails the test (one line) on a non-Detour, an empty or one-span prompt, ``n``
        below :func:`~pytest_reasoning.explain.samples_needed` (8 or more), and as
        :meth:`sample` does.
        """
        __tracebackhide__ = True
        from .explain import explain

        return explain(self, prompt, detour, n, system=system, answer=answer, attribute=attribute, alpha=alpha,
                       **params)

    def _requests(self, prompts: Sequence[Prompt], system: str | None, params: dict[str, Any]) -> list[Request]:
        """The requests for ``prompts``; fails the test (one line) on bad input."""
        __tracebackhide__ = True
        params = {k: v for k, v in params.items() if v is not None}
        problem = _check(params)
        try:
            conversations = [tuple(_messages(p, system)) for p in prompts]
        except TypeError as e:
            conversations, problem = [], problem or str(e)
        if problem:
            self._fail(problem)
        s = self.setup
        return [Request(s.backend, s.model, c, params, s.identity) for c in conversations]

    def _run(self, requests: list[Request]) -> list[Trace]:
        """Traces for ``requests`` through the cassette; fails the test (one line)
        when a recording is missing or unreadable or the backend fails."""
        __tracebackhide__ = True
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
        self.item.stash.setdefault(TRACES, []).extend(traces)
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
    """The test's reasoning model: ``reasoning_model(prompt, **params)`` returns a
    Trace, ``.sample(prompt, n)`` a TraceSample of n traces, ``.batch([...])`` several
    traces at once, ``.using(adapter=...)`` the same model with other settings,
    ``.explain(prompt, detour)`` which part of the prompt drives a detour.  Backend,
    model and record mode come from ``--reasoning-*`` options, the test's
    ``@pytest.mark.reasoning(...)`` and ``reasoning_*`` ini keys.

    Example: ``trace = reasoning_model("What is the capital of Texas?", temperature=0.6)``.
    """
    try:
        model, problem = ReasoningModel(request.node, request.config.stash[STATE]), None
    except pytest.UsageError as e:
        model, problem = None, str(e)
    if problem:  # one line, no traceback; not the failure an xfail expects
        request.node.stash[CALL_PROBLEM] = problem
        pytest.fail(problem, pytrace=False)
    yield model
    model.save()  # type: ignore[union-attr]


@pytest.fixture
def trace_snapshot(snapshot: Any, request: pytest.FixtureRequest) -> Any:
    """syrupy's ``snapshot`` with the trace extension (``assert trace == trace_snapshot``),
    comparing exactly or only stable parts per the ``snapshot_mode`` setting; a
    :class:`~pytest_reasoning.TraceSample` (``assert sample == trace_snapshot``) is
    compared statistically in either mode and, under ``--snapshot-update``, rewritten
    whenever its text changed."""
    from .snapshots import extension_for, short_repr

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
    assertion = snapshot.use_extension(extension_for(mode, bool(getattr(snapshot, "update_snapshots", False))))
    return short_repr(assertion, shown(path))
