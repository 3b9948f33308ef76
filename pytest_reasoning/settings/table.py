"""The settings table and its one resolver: command line > ``@pytest.mark.reasoning``
> ini > default.

The table is the core settings below plus what each backend class declares in its
``SETTINGS``; the request parameters ``reasoning_model(...)`` takes are the union of
the backends' ``PARAMS``.  Options, ini keys, marker keywords, validation and the
README's tables all follow from these declarations.

The command line wins so that one run can point a whole suite elsewhere
(``--reasoning-record-mode=new_episodes``); a marker beats the project-wide ini value
because it is the more specific statement.  Every value is validated here, and a bad
one is a :class:`pytest.UsageError` that lists the valid ones.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from ..backends import BACKENDS, all_backend_classes, backend_class
from ..backends.profiles import PROVIDERS
from .kinds import Setting, choice, flag, number, text

__all__ = [
    "SETTINGS", "Setting", "RECORD_MODES", "SNAPSHOT_MODES", "MARKER", "resolve", "resolve_all",
    "validate_config", "validate_marker", "request_params", "check_params",
]

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

#: Settings of the plugin itself (the backends add theirs).
CORE_SETTINGS = (
    Setting("backend", f"backend: {', '.join(BACKENDS)}", choice(BACKENDS)),
    Setting("model", "model name, hub id or local path"),
    Setting("record_mode", f"recording mode: {', '.join(RECORD_MODES)} (default none: replay only)",
            choice(RECORD_MODES), "none"),
    Setting("snapshot_mode", "trace snapshot comparison: exact or stable (default exact)", choice(SNAPSHOT_MODES), "exact"),
    Setting("cassette_dir", "folder name for cassettes beside each test file (default cassettes)", text, "cassettes"),
    Setting("samples", "samples drawn by reasoning_model.sample() when it is given no n (default 16)",
            number(int), 16),
    Setting("explain", "explain every detour failure: run reasoning_model.explain on the failing prompt "
            "(recorded and replayed like any sample) and list the spans that drive the detour", flag, False),
    Setting("prune", "delete the recordings no test used, where the session proves it (whole test files run, "
            "every test of them passed)", flag, False, marker=False),
    Setting("report", "write the Markdown report to this file at the end of the session (also appended to "
            "$GITHUB_STEP_SUMMARY when that is set)", text, marker=False),
    Setting("html", "write the self-contained HTML report to this file at the end of the session", text, marker=False),
)


def _gather() -> dict[str, Setting]:
    """The core settings, then each backend class's, in order; a key declared twice
    must be declared the same way."""
    table: dict[str, Setting] = {}
    for s in [*CORE_SETTINGS, *(s for cls in all_backend_classes() for s in cls.SETTINGS)]:
        if table.setdefault(s.key, s) != s:
            raise RuntimeError(f"setting {s.key!r} is declared twice, differently")
    return table


#: Every setting by key: the one table options, ini keys and marker keywords come from.
SETTINGS: dict[str, Setting] = _gather()


@functools.cache
def request_params() -> dict[str, tuple[type | tuple[type, ...], tuple[str, ...]]]:
    """Every request parameter some backend honours: ``{name: (type, backend names)}``,
    the union of the backends' ``PARAMS`` (a parameter a backend does not honour is
    ignored there, so one suite runs on API and local backends alike)."""
    params: dict[str, tuple[Any, tuple[str, ...]]] = {}
    for name in BACKENDS:
        for key, kind in backend_class(name).PARAMS.items():
            if name in PROVIDERS and not PROVIDERS[name].honours(key):
                continue
            params[key] = (kind, (*params.get(key, (kind, ()))[1], name))
    return params


def check_params(params: dict[str, Any]) -> str | None:
    """A one-line complaint about an unknown or mistyped request parameter (as
    ``reasoning_model(...)`` takes them), or ``None`` when all are fine."""
    known = request_params()
    for name, value in params.items():
        if name == "n":
            return "reasoning_model() takes no n; draw several samples with reasoning_model.sample(prompt, n)"
        if name not in known:
            return (f"unknown parameter {name!r} for reasoning_model(); valid: {', '.join(known)}; "
                    "send provider-specific fields with extra_body={...}")
        kind = known[name][0]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            return f"parameter {name}={value!r} for reasoning_model() must be {names}"
    return None


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
    provider = PROVIDERS.get(values["backend"])
    if provider is not None:  # the provider's own variables: never another provider's key
        values["api_key"] = values["api_key"] or provider.key()
        values["base_url"] = values["base_url"] or provider.url()
    return values

