"""The quarantined uses of syrupy's internals: gated on the installed release, each with
its public fallback, and the path matching undone at the end of a run."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.report import SnapshotReport

from pytest_reasoning.snapshots import TraceSnapshotExtension, mirrored_snapshot_dir, snapshot_path_for
from pytest_reasoning.snapshots import syrupy_compat


class FakeConfig:
    """What the compat functions read of a pytest config: its stash, syrupy's session."""

    def __init__(self, syrupy_session=None):
        self.stash = pytest.Stash()
        if syrupy_session is not None:
            self._syrupy = syrupy_session


@pytest.fixture
def release(monkeypatch):
    """Pretend another syrupy release is installed."""

    def pretend(version: str) -> None:
        syrupy_compat.syrupy_version.cache_clear()
        monkeypatch.setattr(syrupy_compat.importlib.metadata, "version", lambda name: version)

    yield pretend
    syrupy_compat.syrupy_version.cache_clear()


@pytest.mark.parametrize(("text", "parsed"), [("7.0.2", (7, 0, 2)), ("8.0.0rc1", (8, 0, 0)), ("4.7", (4, 7)),
                                              ("dev", ())])
def test_release_is_read_as_numbers(release, text, parsed):
    release(text)
    assert syrupy_compat.syrupy_version() == parsed


NAMES = ["test_x", "test_y[a-b]", 'test_q[a/b\\c?d*e:f|g"h<i>j]', "test_tab[\t\x00\u200e]", "test_ja[ダラス]",
         "test_long[" + "x" * 300 + "]", "test_ip[::1]"]


@pytest.mark.parametrize("name", NAMES)
def test_stem_fallback_agrees_with_syrupys_own_helpers(release, name):
    """On a release with the helpers they are used; the copied rule gives the same stem."""
    from syrupy.extensions.single_file import SingleFileSnapshotExtension

    if not hasattr(SingleFileSnapshotExtension, "_sanitize_filename"):
        pytest.skip("this syrupy has no stem helpers to compare with")
    helpers = syrupy_compat.snapshot_stem(TraceSnapshotExtension, name)
    release("8.0.0")  # untested release: the copied rule, with 7.0.1's length cap
    assert syrupy_compat.snapshot_stem(TraceSnapshotExtension, name) == helpers
    assert len(helpers) <= 250 and "/" not in helpers and "\t" not in helpers


def test_stem_before_7_0_1_leaves_room_for_the_extension_without_its_dot(release):
    release("6.1.1")
    assert len(syrupy_compat.snapshot_stem(TraceSnapshotExtension, "t" * 400)) == 255 - len("json")


def test_path_matching_is_installed_for_the_run_and_undone(tmp_path):
    original = SnapshotReport.__dict__["_is_matching_path"]
    config = FakeConfig()
    from pytest_reasoning.snapshots import match_mirrored_paths

    match_mirrored_paths(config)
    try:
        patched = SnapshotReport.__dict__["_is_matching_path"]
        assert patched is not original
        report = SnapshotReport.__new__(SnapshotReport)  # only base_dir is read
        report.base_dir = tmp_path
        test_file = tmp_path / "tests" / "test_x.py"
        snapshot = snapshot_path_for(tmp_path, test_file, "test_y")
        assert patched(report, str(snapshot), str(test_file))
        assert patched(report, str(snapshot), str(tmp_path / "tests"))  # a folder: everything under it
        assert not patched(report, str(snapshot), str(tmp_path / "tests" / "test_other.py"))
    finally:
        syrupy_compat.undo_patches(config)
    assert SnapshotReport.__dict__["_is_matching_path"] is original
    syrupy_compat.undo_patches(config)  # twice is harmless
    assert SnapshotReport.__dict__["_is_matching_path"] is original


def test_untested_release_touches_nothing(release):
    original = SnapshotReport.__dict__["_is_matching_path"]
    calls = []
    session = type("Session", (), {"ran_item": lambda self, *args: calls.append(args)})()
    release("3.0.6")
    config = FakeConfig(session)
    syrupy_compat.install_mirrored_paths(config, mirrored_snapshot_dir)
    assert SnapshotReport.__dict__["_is_matching_path"] is original
    assert syrupy_compat.treat_as_not_run(config, "t.py::test_x") is False and calls == []
    release("7.0.2")
    assert syrupy_compat.treat_as_not_run(config, "t.py::test_x") is True
    assert calls == [("t.py::test_x", "skipped")]
    assert syrupy_compat.treat_as_not_run(FakeConfig(), "t.py::test_x") is False  # no syrupy session


def test_mirrored_dir_of_a_file_and_of_a_folder(tmp_path):
    assert mirrored_snapshot_dir(tmp_path, tmp_path / "tests" / "test_x.py") == tmp_path / "snapshots" / "tests" / "test_x"
    (tmp_path / "tests").mkdir()
    assert mirrored_snapshot_dir(tmp_path, tmp_path / "tests") == tmp_path / "snapshots" / "tests"
    assert Path(snapshot_path_for(tmp_path, tmp_path / "t.py", "test_a")).name == "test_a.json"


def test_a_pytest_run_leaves_syrupy_as_it_found_it(pytester):
    before = SnapshotReport.__dict__["_is_matching_path"]
    pytester.makepyfile("def test_x():\n    pass\n")
    pytester.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=1)
    assert SnapshotReport.__dict__["_is_matching_path"] is before
