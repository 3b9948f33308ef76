"""Recordings that no test used: found at the end of a session, reported, and deleted
with ``--reasoning-prune``.

As syrupy does for snapshots, only what the session proves unused counts: a cassette
is judged only when every test that uses it was selected and passed (no ``-k``, no
``-m``, no other deselection, no node id naming part of its file, no test of it
failed, skipped or left unrun, no call of it in record mode ``off``).  Then a
recording that none of those tests replayed or recorded is unused, and each
recording's ``"tests"`` is narrowed to the tests that really used it: those it named
that still do (or, when none does, the tests that used it), none for an unused one.
That rewrite happens when the session recorded into the cassette or prunes it; a
replay-only run writes nothing.

Under pytest-xdist each worker sends what it collected and which recordings its tests
used (``config.workeroutput``); the controller, which sees every test report, merges
them and decides.  A worker that stops without sending its part stops the decision.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..session import cassette_path
from ..settings.table import resolve
from .cassette import Cassette, CassetteError, backend_and_model, shown

__all__ = ["RecordingUsage", "USAGE", "WORKER_KEY"]

#: Where a worker puts its part in ``config.workeroutput``.
WORKER_KEY = "pytest_reasoning_recordings"
#: Characters of a prompt that a report line shows.
PROMPT_CHARS = 60


class RecordingUsage:
    """Which cassettes the selected tests use, which recordings they used, and how the
    tests ended: enough to prove recordings unused.  Kept on ``config.stash[USAGE]``.

    Attributes:
        cassettes: cassette path -> node ids of the selected tests that use it.
        partial: cassette path -> why only part of its tests may have run (deselected
            tests, node ids on the command line).
        used: cassette path -> ``{key: {node id, ...}}``, what the tests replayed or recorded.
        outcomes: node id -> whether every phase of the test passed.
        lines: what the terminal summary shows (set by :meth:`finish`).
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.cassettes: dict[str, list[str]] = {}
        self.partial: dict[str, str] = {}
        self.used: dict[str, dict[str, set[str]]] = {}
        self.bypassed: set[str] = set()
        self.recorded: set[str] = set()
        self.by_path: dict[str, int] = {}
        self.outcomes: dict[str, bool] = {}
        self.missing_worker = False
        self.lines: list[str] = []

    def _cassette_of(self, item: pytest.Item) -> str | None:
        if "reasoning_model" not in getattr(item, "fixturenames", ()):
            return None
        try:
            return str(cassette_path(item, resolve(item.config, "cassette_dir", item)))
        except pytest.UsageError:
            return None

    def deselected(self, items: list[pytest.Item]) -> None:
        """Note the cassettes of deselected tests (``-k``, ``-m``, ``--deselect``,
        ``--lf`` and other plugins): they cannot be judged."""
        for item in items:
            cassette = self._cassette_of(item)
            if cassette:
                self.partial.setdefault(cassette, "some of its tests were deselected")

    def collected(self, items: list[pytest.Item]) -> None:
        """Map each selected test that uses ``reasoning_model`` to its cassette; a
        cassette of a file named with ``::`` on the command line cannot be judged."""
        named = {self._arg_path(arg) for arg in self.config.args if "::" in arg}
        for item in items:
            cassette = self._cassette_of(item)
            if cassette:
                self.cassettes.setdefault(cassette, []).append(item.nodeid)
                if item.path.resolve() in named:
                    self.partial.setdefault(cassette, "its tests were picked by node id")

    def _arg_path(self, arg: str) -> Path:
        return (self.config.invocation_params.dir / arg.split("::", 1)[0]).resolve()

    def report(self, report: pytest.TestReport) -> None:
        """Note how each phase of a test ended (the controller sees every report)."""
        if report.when in ("setup", "call", "teardown"):
            self.outcomes[report.nodeid] = self.outcomes.get(report.nodeid, True) and bool(report.passed)

    def gather(self, cassettes: dict[Path, Cassette]) -> None:
        """Take in what this process's cassettes saw: recordings used, calls in
        record mode ``off``, recordings made, recordings found by path only."""
        for path, cassette in cassettes.items():
            used = self.used.setdefault(str(path), {})
            for key, tests in cassette.used.items():
                used.setdefault(key, set()).update(tests)
            if cassette.bypassed:
                self.bypassed.add(str(path))
            if cassette.recorded:
                self.recorded.add(str(path))
            if cassette.by_path:
                self.by_path[str(path)] = self.by_path.get(str(path), 0) + cassette.by_path

    def to_output(self) -> dict[str, Any]:
        """This worker's part, as plain data for ``config.workeroutput``."""
        return {
            "cassettes": self.cassettes, "partial": self.partial,
            "used": {c: {k: sorted(t) for k, t in keys.items()} for c, keys in self.used.items()},
            "bypassed": sorted(self.bypassed), "recorded": sorted(self.recorded), "by_path": self.by_path,
        }

    def merge(self, data: dict[str, Any] | None) -> None:
        """Add one worker's part (``None``: the worker sent none, so nothing is judged)."""
        if data is None:
            self.missing_worker = True
            return
        for cassette, tests in data["cassettes"].items():
            known = self.cassettes.setdefault(cassette, [])
            known.extend(t for t in tests if t not in known)
        for cassette, why in data["partial"].items():
            self.partial.setdefault(cassette, why)
        for cassette, keys in data["used"].items():
            for key, tests in keys.items():
                self.used.setdefault(cassette, {}).setdefault(key, set()).update(tests)
        self.bypassed.update(data["bypassed"])
        self.recorded.update(data["recorded"])
        for cassette, count in data["by_path"].items():
            self.by_path[cassette] = self.by_path.get(cassette, 0) + count

    def why_not(self, cassette: str) -> str | None:
        """Why ``cassette``'s unused recordings cannot be proven, or ``None``."""
        option = self.config.option
        if getattr(option, "keyword", "") or getattr(option, "markexpr", ""):
            return "-k or -m selected only some tests"
        if self.missing_worker:
            return "a pytest-xdist worker stopped without reporting"
        if cassette in self.partial:
            return self.partial[cassette]
        tests = self.cassettes[cassette]
        bad = [t for t in tests if not self.outcomes.get(t)]
        if bad:
            return f"{bad[0]} failed, was skipped or did not run"
        if cassette in self.bypassed:
            return "a test ran it in record mode off"
        strangers = {t for users in self.used.get(cassette, {}).values() for t in users} - set(tests)
        if strangers:
            return f"{sorted(strangers)[0]} also used it"
        return None

    def finish(self, prune: bool) -> None:
        """Judge each cassette: report what no test used, delete it with ``prune``,
        and set each recording's ``"tests"`` where the cassette is written."""
        for cassette in sorted(self.cassettes):
            try:
                self._judge(cassette, prune)
            except (CassetteError, OSError) as e:
                self.lines.append(f"{shown(Path(cassette))}: not checked for unused recordings ({e})")
        for cassette, count in sorted(self.by_path.items()):
            self.lines.append(
                f"{shown(Path(cassette))}: {count} replay(s) found a local model's recording by its path, as "
                "recorded before models were known by their content; re-record them with "
                "--reasoning-record-mode=all (then --reasoning-prune drops the old ones)")

    def _judge(self, cassette: str, prune: bool) -> None:
        path = Path(cassette)
        if not path.is_file():
            return
        reason = self.why_not(cassette)
        if reason:
            if prune:
                self.lines.append(f"{shown(path)}: not pruned, {reason}")
            return
        used = self.used.get(cassette, {})
        entries = Cassette(path).interactions
        unused = [k for k in entries if k not in used]
        if prune or cassette in self.recorded:
            def settle(merged: dict[str, dict[str, Any]]) -> None:
                for key, entry in list(merged.items()):
                    users = used.get(key, set())
                    if prune and not users:
                        del merged[key]
                    else:  # the tests that recorded it and still use it; else those that use it
                        entry["tests"] = sorted(users.intersection(entry.get("tests") or ()) or users)

            Cassette(path).rewrite(settle)
        if unused and prune:
            self.lines.append(f"{shown(path)}: deleted {len(unused)} recording(s) that no test used:")
        elif unused:
            self.lines.append(f"{shown(path)}: {len(unused)} recording(s) used by no test "
                              "(delete them with --reasoning-prune):")
        self.lines += [f"  {_describe(entries[k])}" for k in unused]


def _describe(entry: dict[str, Any]) -> str:
    """One recording in a few words: backend, model, the last message, the sample
    index, and the tests it named."""
    request = entry["request"]
    messages = request.get("messages") or [{}]
    text = " ".join(str(messages[-1].get("content", "")).split())
    prompt = text if len(text) <= PROMPT_CHARS else text[: PROMPT_CHARS - 1] + "…"
    sample = f" sample {request['sample']}" if request.get("sample") is not None else ""
    tests = entry.get("tests") or []
    named = f" (recorded by {', '.join(tests)})" if tests else ""
    return f"{backend_and_model(request['backend'], request['model'])}: {prompt!r}{sample}{named}"


#: The session's :class:`RecordingUsage`.
USAGE = pytest.StashKey[RecordingUsage]()
