"""What a setting is: its key, help, default and validator.

A backend declares the settings it takes as a tuple of :class:`Setting` (its
``SETTINGS``); :mod:`pytest_reasoning.settings.table` turns every declaration into a
``--reasoning-<key>`` option, a ``reasoning_<key>`` ini key and a marker keyword.
Validators take ``(where, value)`` and return the converted value, or raise
:class:`pytest.UsageError` naming ``where`` and the valid values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

__all__ = ["Setting", "choice", "number", "count", "device", "flag", "text", "dtype"]

Check = Callable[[str, Any], Any]


def choice(valid: tuple[str, ...]) -> Check:
    """A validator accepting one of ``valid``."""

    def check(name: str, value: Any) -> Any:
        if value not in valid:
            raise pytest.UsageError(f"invalid {name} {value!r}; valid: {', '.join(valid)}")
        return value

    return check


def number(kind: type) -> Check:
    """A validator for a number > 0 (``int`` or ``float``), converting strings."""

    def check(name: str, value: Any) -> Any:
        try:
            converted = kind(value)
            if isinstance(value, bool) or (kind is int and float(value) != converted):
                raise ValueError
        except (TypeError, ValueError):
            what = "a whole number" if kind is int else "a number"
            raise pytest.UsageError(f"invalid {name} {value!r}: expected {what} > 0") from None
        if not math.isfinite(converted) or converted <= 0:
            raise pytest.UsageError(f"invalid {name} {value!r}: must be > 0")
        return converted

    return check


def count(name: str, value: Any) -> int:
    """A validator for a whole number >= 0."""
    try:
        converted = int(value)
    except (TypeError, ValueError):
        raise pytest.UsageError(f"invalid {name} {value!r}: expected a whole number >= 0") from None
    if converted < 0:
        raise pytest.UsageError(f"invalid {name} {value!r}: must be >= 0")
    return converted


def device(name: str, value: Any) -> str:
    """A validator for a torch device: ``cpu``, ``mps``, ``cuda`` or ``cuda:N``."""
    given = str(value).strip()
    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", given):
        raise pytest.UsageError(f"invalid {name} {value!r}; valid: cpu, cuda, cuda:N, mps")
    return given


#: Weight dtypes a local backend loads in (aliases to torch names).
DTYPES = ("auto", "float32", "fp32", "bfloat16", "bf16", "float16", "fp16")


def dtype(name: str, value: Any) -> str:
    """A validator for a weight dtype: one of :data:`DTYPES`."""
    return choice(DTYPES)(name, str(value).strip().lower())


def flag(name: str, value: Any) -> bool:
    """A validator for a boolean given as a bool or as 1/0, true/false, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    given = str(value).strip().lower()
    if given in ("1", "true", "yes", "on"):
        return True
    if given in ("0", "false", "no", "off", ""):
        return False
    raise pytest.UsageError(f"invalid {name} {value!r}; valid: true, false")


def text(name: str, value: Any) -> str:
    """A validator for a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise pytest.UsageError(f"invalid {name} {value!r}: expected a non-empty string")
    return value


@dataclass(frozen=True)
class Setting:
    """One setting: its key (marker keyword, ``reasoning_<key>`` ini key,
    ``--reasoning-<key>`` option), help text, validator and default.
    ``default`` is the value when nothing sets it (``None``: unset).  ``ini=False``
    keeps it out of files (credentials); ``marker=False`` out of markers."""

    key: str
    help: str
    check: Check = text
    default: Any = None
    ini: bool = True
    marker: bool = True

    @property
    def option(self) -> str:
        """The command-line option, ``--reasoning-<key with dashes>``."""
        return "--reasoning-" + self.key.replace("_", "-")

    @property
    def dest(self) -> str:
        """The option's dest and the ini key, ``reasoning_<key>``."""
        return "reasoning_" + self.key

    def validate(self, value: Any, where: str) -> Any:
        """``value`` converted (str -> number, flag, ...).

        Raises:
            pytest.UsageError: naming ``where`` (the option, ini key or marker) and the
                valid values.
        """
        return self.check(where, value)
