"""Progress bars for slow local work: loading a model, generating batches.

A bar shows (tqdm, on standard error) only where someone watches: standard error is
a terminal, so pytest is not capturing the output (``pytest -s``), and ``$CI`` is not
set.  In CI logs, under pytest's capture and in pytest-xdist workers nothing is
drawn.  tqdm is imported only when a bar is drawn.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

__all__ = ["enabled", "bar"]


def enabled(stream: TextIO | None = None) -> bool:
    """Whether a bar would be drawn on ``stream`` (standard error by default): it is a
    terminal and ``$CI`` is unset (or ``0`` / ``false``)."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false"):
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


class _Silent:
    """The stand-in where no bar is drawn: a context manager whose ``update`` does nothing."""

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def update(self, n: int = 1) -> None:
        """Nothing to draw."""

    def set_postfix_str(self, text: str) -> None:
        """Nothing to draw."""


def bar(total: int | None = None, desc: str = "", unit: str = "it", stream: TextIO | None = None) -> Any:
    """A tqdm bar of ``total`` steps (a context manager with ``update(n)``) where
    :func:`enabled`, else a silent stand-in with the same methods.  The bar is removed
    when done (``leave=False``), so test output stays as it was."""
    stream = sys.stderr if stream is None else stream
    if not enabled(stream):
        return _Silent()
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm comes with transformers; without it, no bar
        return _Silent()
    return tqdm(total=total, desc=desc, unit=unit, leave=False, file=stream, dynamic_ncols=True)
