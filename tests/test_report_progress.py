"""Progress bars: drawn on a terminal outside CI, silent under pytest's capture, in CI
and on anything that is not a terminal; and the session's closing line."""

from __future__ import annotations

import io

import pytest

from pytest_reasoning import progress


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_bar_is_drawn_on_a_terminal_outside_ci(monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.delenv("CI", raising=False)
    stream = Terminal()
    assert progress.enabled(stream)
    with progress.bar(3, "generating 3 on tiny", "batch", stream=stream) as shown:
        for _ in range(3):
            shown.update(1)
    drawn = stream.getvalue()
    assert "generating 3 on tiny:   0%" in drawn and "0/3" in drawn
    assert drawn.endswith("\r")  # and cleared when done (leave=False): test output stays as it was


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_no_bar_in_ci(monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    stream = Terminal()
    assert not progress.enabled(stream)
    with progress.bar(2, "x", stream=stream) as shown:
        shown.update(2)
    assert stream.getvalue() == ""


def test_no_bar_where_output_is_captured_or_not_a_terminal(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert not progress.enabled()  # pytest captures this test's standard error
    assert not progress.enabled(io.StringIO())
    closed = io.StringIO()
    closed.close()
    assert not progress.enabled(closed)


def test_the_closing_line_counts_live_replayed_and_recorded(pytester):
    pytester.makepyfile(test_m="def test_x(reasoning_model):\n    pass\n")
    result = pytester.runpytest("--reasoning-backend=deepseek", "--reasoning-model=m")
    result.stdout.fnmatch_lines(["reasoning: 0 traces (0 live, 0 replayed, 0 recorded), tokens not reported, "
                                 "0.0 s in live model calls"])
    pytester.makepyfile(test_m="def test_x():\n    pass\n")
    assert " traces (" not in pytester.runpytest().stdout.str()  # no reasoning test, no line


@pytest.mark.parametrize("watched", [True, False])
def test_model_loading_shows_the_libraries_bars_only_where_watched(monkeypatch, watched):
    tlog = pytest.importorskip("transformers.utils.logging")
    hub = pytest.importorskip("huggingface_hub.utils")
    from pytest_reasoning.backends.local.loading import quiet_loading

    monkeypatch.setattr(progress, "enabled", lambda stream=None: watched)
    before = (tlog.is_progress_bar_enabled(), hub.are_progress_bars_disabled())
    with quiet_loading():
        assert tlog.is_progress_bar_enabled() is watched  # "Loading weights"
        assert hub.are_progress_bars_disabled() is not watched  # downloads
    assert (tlog.is_progress_bar_enabled(), hub.are_progress_bars_disabled()) == before
