"""The pytest hooks, all in one place: options and ini keys (group "reasoning"),
the ``reasoning`` marker, start-up validation, the report header, what each test
report carries, and clean-up.  Hooks only: the settings table lives in
``settings/``, the session's state in ``session.py``, the fixtures in
``fixtures.py``, what reports carry in ``report.py``; nothing heavy is imported here."""

from __future__ import annotations

from typing import Any

import pytest

from . import report as reports
from .backends.profiles import PROVIDERS
from .fixtures import reasoning_model, trace_snapshot  # noqa: F401  (the fixtures pytest finds)
from .recording.pruning import USAGE, WORKER_KEY, RecordingUsage
from .redaction import is_secret
from .reports.collect import ReportCollector
from .session import STATE, SessionState
from .settings.kinds import flag
from .settings.table import MARKER, SETTINGS, resolve, validate_config, validate_marker
from .snapshots import match_mirrored_paths, treat_as_not_run, undo_patches

#: Why a test's reasoning marker was rejected at collection (pytest-xdist workers).
MARKER_ERROR = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--reasoning-<key>`` options and ``reasoning_<key>`` ini keys for each setting."""
    group = parser.getgroup("reasoning", "reasoning model prompt tests (pytest-reasoning)")
    for s in SETTINGS.values():
        switch = {"action": "store_const", "const": "true"} if s.check is flag and s.default is False else {}
        group.addoption(s.option, dest=s.dest, default=None, help=s.help, **switch)  # opt-in switches: bare
        if s.ini:
            parser.addini(s.dest, s.help, default=None)


def pytest_configure(config: pytest.Config) -> None:
    """Validate options, register the marker, open the session state."""
    keys = ", ".join(k for k, s in SETTINGS.items() if s.marker)
    config.addinivalue_line(
        "markers",
        f"{MARKER}({keys}): settings for this test's reasoning model calls (override ini, overridden by options)",
    )
    validate_config(config)
    match_mirrored_paths(config)
    keys = [resolve(config, "api_key"), *(p.key() for p in PROVIDERS.values())]
    config.stash[STATE] = SessionState(tuple(dict.fromkeys(k for k in keys if is_secret(k))))
    config.stash[USAGE] = RecordingUsage(config)
    config.pluginmanager.register(RecordingUsageHooks(config.stash[USAGE]), "reasoning-recording-usage")
    config.pluginmanager.register(KeepSnapshotsOfFailedTests(config), "reasoning-keep-snapshots")
    collector = ReportCollector(config, resolve(config, "report"), resolve(config, "html"))
    config.pluginmanager.register(ReasoningReports(collector), "reasoning-reports")


@pytest.hookimpl(trylast=True)  # after -k / -m deselection: a deselected test's marker is not read
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Reject a ``@pytest.mark.reasoning`` with an unknown argument or a bad value on a
    selected test: a usage error, or, in a pytest-xdist worker (where a usage error
    would surface as an INTERNALERROR), an error of each test that carries it."""
    for item in items:
        try:
            for mark in item.iter_markers(MARKER):
                if mark.args:
                    raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.reasoning takes keyword arguments only")
                validate_marker(mark.kwargs, item.nodeid)
        except pytest.UsageError as e:
            if not hasattr(config, "workerinput"):
                raise
            item.stash[MARKER_ERROR] = str(e)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Give the session the selected tests (after ``-k`` / ``-m``), and read their
    cassettes before any test runs."""
    state = session.config.stash[STATE]
    state.items = list(session.items)
    state.open_cassettes(state.items)
    session.config.stash[USAGE].collected(state.items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A worker hands its recording usage to the controller; the controller (or a
    run without workers) reports unused recordings and prunes them if asked."""
    config = session.config
    if USAGE not in config.stash:
        return
    usage = config.stash[USAGE]
    usage.gather(config.stash[STATE].cassettes)
    if hasattr(config, "workerinput"):
        config.workeroutput[WORKER_KEY] = usage.to_output()
    else:
        usage.finish(prune=bool(resolve(config, "prune")))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a test whose reasoning marker was rejected at collection (xdist workers)."""
    if MARKER_ERROR in item.stash:
        pytest.fail(item.stash[MARKER_ERROR], pytrace=False)


def pytest_report_header(config: pytest.Config) -> str:
    """One header line: default backend, model and record mode."""
    return (
        f"reasoning: backend={resolve(config, 'backend')} model={resolve(config, 'model')} "
        f"record_mode={resolve(config, 'record_mode')} snapshot_mode={resolve(config, 'snapshot_mode')}"
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    """Save pending cassettes, release backends (models, clients), restore syrupy."""
    state = config.stash.get(STATE, None)
    if state is not None:
        for problem in state.close():
            config.get_terminal_writer().line(f"pytest-reasoning: {problem}", red=True)
    undo_patches(config)  # syrupy as it was (the snapshot path matching)


class KeepSnapshotsOfFailedTests:
    """A test that failed in setup or call never reached, or never finished, its
    snapshot assertions, so its snapshots are not "unused": syrupy is told to treat
    it as skipped, and ``--snapshot-update`` after a failed model call, a missing key
    or an edited prompt deletes nothing.  (syrupy deletes the snapshots of any
    selected test that did not assert them and has no public hook for this: see
    :func:`~pytest_reasoning.snapshots.syrupy_compat.treat_as_not_run`.)"""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)  # after syrupy recorded the outcome
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.when in ("setup", "call"):
            treat_as_not_run(self.config, report.nodeid)


class RecordingUsageHooks:
    """What proves recordings unused (``pruning.py``): deselected tests, how each test
    ended, and each pytest-xdist worker's part."""

    def __init__(self, usage: RecordingUsage) -> None:
        self.usage = usage

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """Cassettes of deselected tests are not judged."""
        self.usage.deselected(items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """How each phase of each test ended."""
        self.usage.report(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """A pytest-xdist worker's part (none when it crashed: then nothing is judged)."""
        output = getattr(node, "workeroutput", None) or {}
        self.usage.merge(None if error else output.get(WORKER_KEY))


class ReasoningReports:
    """The report files and the session's closing line (``reports/collect.py``): each
    test report with reasoning data is kept (on the controller, every worker's), the
    files are written at the session's end, and the closing terminal line (traces
    live, replayed and recorded, tokens, time, files written) comes last."""

    def __init__(self, collector: ReportCollector) -> None:
        self.collector = collector

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the report's reasoning data (call phase)."""
        self.collector.add(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write ``--reasoning-report`` and ``--reasoning-html`` (controller only)."""
        self.collector.write()

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The closing line, and a line for each report file that could not be written."""
        for k, line in enumerate(self.collector.lines()):
            terminalreporter.write_line(line, red=k > 0)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The "reasoning samples" section: each sampled test's rates, intervals and
    comparisons, read from the test reports (``report.py``)."""
    found = [r for key in ("passed", "failed", "xfailed", "xpassed") for r in terminalreporter.stats.get(key, [])]
    lines = reports.terminal_lines([r for r in found if getattr(r, 'when', 'call') == 'call'])
    if lines:
        terminalreporter.write_sep("-", "reasoning samples")
        for line in lines:
            terminalreporter.write_line(line)
    recordings = terminalreporter.config.stash[USAGE].lines if USAGE in terminalreporter.config.stash else []
    if recordings:  # unused recordings, pruning (pruning.py)
        terminalreporter.write_sep("-", "reasoning recordings")
        for line in recordings:
            terminalreporter.write_line(line)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """With ``--reasoning-explain``, a test that failed on a detour gets the detour
    explained (``explain.py``): the top spans in its failure message, the whole
    explanation as a report section and in the report data."""
    try:
        return (yield)
    except AssertionError as error:
        from .explain_failures import explain_failure

        explain_failure(item, error)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """What each test report carries (``report.py``): a failed model call is not an
    expected failure, keys are kept out, and the test's reasoning data is attached for
    every report consumer (it crosses pytest-xdist with the report)."""
    report = yield
    secrets = item.config.stash[STATE].secrets if STATE in item.config.stash else ()
    reports.escape_xfail(report, item)
    reports.redact_report(report, secrets)
    reports.attach(report, item, secrets)
    return report
