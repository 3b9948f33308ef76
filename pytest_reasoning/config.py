"""One resolver for every setting: command line > ``@pytest.mark.reasoning`` > ini > default.

The command line wins so that one run can point a whole suite elsewhere
(``--reasoning-record-mode=new_episodes``); a marker beats the project-wide ini value
because it is the more specific statement.  Every value is validated here, and a bad
one is a :class:`pytest.UsageError` that lists the valid ones.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from .backends import API_BACKENDS, BACKENDS

__all__ = ["SETTINGS", "Setting", "RECORD_MODES", "SNAPSHOT_MODES", "resolve", "resolve_all", "validate_marker"]

#: Record modes, as in vcrpy / pytest-recording, plus ``off`` (no cassette at all):
#: ``none`` replay only (default; a missing recording fails the test);
#: ``once`` record a test's calls if it has no cassette yet, else replay only;
#: ``new_episodes`` replay what is recorded, record what is missing;
#: ``all`` call the model every time and re-record each call it makes;
#: ``off`` call the model every time, read and write no cassette (cheap local models).
RECORD_MODES = ("none", "once", "new_episodes", "all", "off")
#: ``exact``: the whole trace must match (replays, fixed local setups);
#: ``stable``: only answer, detour/path/budget verdicts, truncation (sampled models).
SNAPSHOT_MODES = ("exact", "stable")

#: The marker name: ``@pytest.mark.reasoning(backend=..., model=..., ...)``.
MARKER = "reasoning"
#: API backends whose base URL and key may come from ``$OPENAI_BASE_URL`` /
#: ``$OPENAI_API_KEY`` (the generic OpenAI client variables); hosted providers read only
#: ``$<NAME>_BASE_URL`` / ``$<NAME>_API_KEY``, so a key is never sent to another provider.
OPENAI_BASE_URL_BACKENDS = ("openai", "vllm", "sglang", "llamacpp", "ollama")


def _choice(valid: tuple[str, ...]) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if value not in valid:
            raise pytest.UsageError(f"invalid {name} {value!r}; valid: {', '.join(valid)}")
        return value

    return check


def _number(kind: type) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        try:
            number = kind(value)
        except (TypeError, ValueError):
            what = "a whole number" if kind is int else "a number"
            raise pytest.UsageError(f"invalid {name} {value!r}: expected {what} > 0") from None
        if not math.isfinite(number) or number <= 0:
            raise pytest.UsageError(f"invalid {name} {value!r}: must be > 0")
        return number

    return check


def _count(name: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise pytest.UsageError(f"invalid {name} {value!r}: expected a whole number >= 0") from None
    if number < 0:
        raise pytest.UsageError(f"invalid {name} {value!r}: must be >= 0")
    return number


def _device(name: str, value: Any) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", text):
        raise pytest.UsageError(f"invalid {name} {value!r}; valid: cpu, cuda, cuda:N, mps")
    return text


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise pytest.UsageError(f"invalid {name} {value!r}; valid: true, false")


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise pytest.UsageError(f"invalid {name} {value!r}: expected a non-empty string")
    return value


@dataclass(frozen=True)
class Setting:
    """One setting: its key (marker keyword, ``reasoning_<key>`` ini key,
    ``--reasoning-<key>`` option), help text, default and validator.
    ``ini=False`` keeps it out of files (credentials)."""

    key: str
    help: str
    check: Callable[[str, Any], Any] = _text
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


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("backend", f"backend: {', '.join(BACKENDS)}", _choice(BACKENDS)),
        Setting("model", "model name, hub id or local path"),
        Setting("record_mode", f"recording mode: {', '.join(RECORD_MODES)} (default none: replay only)",
                _choice(RECORD_MODES), "none"),
        Setting("snapshot_mode", "trace snapshot comparison: exact (default) or stable",
                _choice(SNAPSHOT_MODES), "exact"),
        Setting("base_url", "API base URL (default: the provider's, or $<PROVIDER>_BASE_URL / $OPENAI_BASE_URL)"),
        Setting("api_key", "API key (default: $DEEPSEEK_API_KEY, $DASHSCOPE_API_KEY, ... or $OPENAI_API_KEY); "
                "never read from files", ini=False, marker=False),
        Setting("timeout", "seconds before an API call times out (default 600)", _number(float), 600.0),
        Setting("max_retries", "retries on 429/5xx/connection errors (default 2)", _count, 2),
        Setting("concurrency", "API calls in flight at once (default 16)", _number(int), 16),
        Setting("cassette_dir", "folder name for cassettes beside each test file (default cassettes)",
                _text, "cassettes"),
        Setting("adapter", "LoRA adapter directory (local backends)"),
        Setting("device", "device for local models: cpu, cuda, cuda:1 (default: cuda if available)", _device),
        Setting("load_in_4bit", "load local models in 4-bit (bitsandbytes; always on for unsloth)", _flag),
        Setting("max_seq_length", "context length for local models (default 2048)", _number(int)),
        Setting("use_cache", "decode local models with a KV cache (default true; false recomputes each step)", _flag),
    )
}


def _from_cli(config: pytest.Config, setting: Setting) -> Any:
    return config.getoption(setting.dest, default=None)


def _from_ini(config: pytest.Config, setting: Setting) -> Any:
    if not setting.ini:
        return None
    value = config.getini(setting.dest)
    return value if value not in ("", None, []) else None


def validate_config(config: pytest.Config) -> None:
    """Validate every CLI and ini value once at start-up.

    Raises:
        pytest.UsageError: a value is invalid (message lists the valid ones).
    """
    for s in SETTINGS.values():
        value = _from_cli(config, s)
        if value is not None:
            s.validate(value, s.option)
        value = _from_ini(config, s)
        if value is not None:
            s.validate(value, f"ini {s.dest}")


def validate_marker(kwargs: dict[str, Any], where: str, call: str = "@pytest.mark.reasoning") -> dict[str, Any]:
    """Validate the keywords of one ``@pytest.mark.reasoning(...)`` (or of another
    ``call`` taking the same keywords, such as ``reasoning_model.using``).

    Raises:
        pytest.UsageError: an unknown keyword or a bad value (naming ``where``).
    """
    known = [k for k, s in SETTINGS.items() if s.marker]
    for key, value in kwargs.items():
        if key == "api_key":
            raise pytest.UsageError(
                f"{where}: {call}() takes no api_key: keys come from --reasoning-api-key or the environment "
                "($<BACKEND>_API_KEY), never from test files"
            )
        if key not in known:
            raise pytest.UsageError(f"{where}: unknown {call} argument {key!r}; valid: {', '.join(known)}")
        SETTINGS[key].validate(value, f"{call}({key}=...) in {where}")
    return kwargs


def _marker_kwargs(item: pytest.Item | None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    if item is not None:
        for mark in reversed(list(item.iter_markers(MARKER))):  # closest marker wins
            merged.update(mark.kwargs)
    merged.update(overrides or {})
    return merged


def resolve(
    config: pytest.Config, key: str, item: pytest.Item | None = None, overrides: dict[str, Any] | None = None
) -> Any:
    """The value of setting ``key`` for ``item``: CLI > marker (and ``overrides``,
    which act as the closest marker) > ini > default, validated and converted
    (``None`` when unset and without default).

    Raises:
        pytest.UsageError: the value found is invalid (naming where it came from).
    """
    setting = SETTINGS[key]
    for value, where in (
        (_from_cli(config, setting), setting.option),
        (_marker_kwargs(item, overrides).get(key) if setting.marker else None, "@pytest.mark.reasoning"),
        (_from_ini(config, setting), f"ini {setting.dest}"),
    ):
        if value is not None:
            return setting.validate(value, where)
    return setting.default


def resolve_all(
    config: pytest.Config, item: pytest.Item | None = None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Every setting for ``item`` (see :func:`resolve`) as ``{key: value}``, plus the
    API key and base URL from the environment where no option gave them.

    Raises:
        pytest.UsageError: a value is invalid.
    """
    values = {key: resolve(config, key, item, overrides) for key in SETTINGS}
    backend = values["backend"]
    if backend in API_BACKENDS:
        prefix = backend.upper()
        if values["api_key"] is None:  # never another provider's key
            values["api_key"] = os.environ.get(f"{prefix}_API_KEY") or (
                os.environ.get("OPENAI_API_KEY") if backend in OPENAI_BASE_URL_BACKENDS else None
            )
        if values["base_url"] is None:
            values["base_url"] = os.environ.get(f"{prefix}_BASE_URL") or (
                os.environ.get("OPENAI_BASE_URL") if backend in OPENAI_BASE_URL_BACKENDS else None
            )
    return values

