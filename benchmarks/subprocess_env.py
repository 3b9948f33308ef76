"""The environment the subprocess benchmarks run pytest in."""

from __future__ import annotations

import os

__all__ = ["environment"]


def environment(pycache: str | None) -> dict[str, str]:
    """This process's environment without pytest's own variables, with bytecode
    cached under ``pycache`` (what an installed package has) or, when ``None``, not
    written at all (``PYTHONDONTWRITEBYTECODE=1``, as some CI images set)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTEST_") and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    if pycache:
        env["PYTHONPYCACHEPREFIX"] = pycache
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
