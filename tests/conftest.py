"""Shared fixtures; the wire-format builders live in ``wire.py`` (importable as ``wire``)."""

from __future__ import annotations

import hypothesis  # noqa: F401  (imported once here: pytester's in-process runs drop
# modules first imported inside them, and hypothesis' plugin would import it anew,
# at about a second, in every inner run)
import pytest

try:  # numpy's C extension refuses a second import in one process, and pytester's
    import numpy  # noqa: F401  in-process runs drop modules first imported inside them
except ImportError:  # without the `local` extra there is no numpy to protect
    pass

import wire as _wire

pytest_plugins = ["pytester"]


@pytest.fixture
def wire():
    """The wire-format builders (``wire.completion``, ``wire.chunk``, ``wire.sse``...)."""
    return _wire


@pytest.fixture(autouse=True)
def _inner_runs_are_not_xdist_workers(request, monkeypatch):
    """Under ``pytest -n``, an in-process pytester run inherits $PYTEST_XDIST_WORKER and
    syrupy would then keep its report for a controller that does not exist."""
    if "pytester" in request.fixturenames:
        monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
