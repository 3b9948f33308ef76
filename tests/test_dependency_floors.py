"""The lowest versions pyproject.toml declares are the ones CI installs and tests.

``.ci/run`` makes a second environment with every runtime dependency and the ``local``
extra at exactly its floor (its ``FLOORS=`` line) and runs both test commands there;
this test keeps that line and pyproject.toml the same, so a floor is never raised or
lowered in one place only.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")

ROOT = Path(__file__).resolve().parent.parent
FLOOR = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*>=\s*([0-9][0-9A-Za-z.]*)$")


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def declared_floors() -> dict[str, str]:
    """``{package: lowest version}`` from ``[project] dependencies`` and the ``local``
    extra (each ``name>=x.y``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    dependencies = project["dependencies"] + project["optional-dependencies"]["local"]
    floors = {}
    for spec in dependencies:
        match = FLOOR.match(spec.strip())
        assert match, f"runtime dependency {spec!r} has no plain floor: write it as 'name>=version'"
        floors[_name(match.group(1))] = match.group(2)
    return floors


def ci_pins() -> dict[str, str]:
    """``{package: version}`` from the ``FLOORS="name==x.y ..."`` line of ``.ci/run``."""
    line = re.search(r'^FLOORS="([^"]*)"', (ROOT / ".ci" / "run").read_text("utf-8"), re.MULTILINE)
    assert line, ".ci/run has no FLOORS=\"...\" line"
    pins = {}
    for spec in shlex.split(line.group(1)):
        name, sep, version = spec.partition("==")
        assert sep and version, f".ci/run pins {spec!r}: write it as 'name==version'"
        pins[_name(name)] = version
    return pins


def test_ci_installs_every_runtime_dependency_at_exactly_its_declared_floor():
    assert ci_pins() == declared_floors()


def test_the_floors_include_scipy_for_sample_statistics():
    assert "scipy" in declared_floors()
