"""The README's tables of settings, request parameters and backends, written from
their declarations (the settings table, each backend's ``PARAMS``, the provider
profiles), so the README cannot drift from the code: ``tests/test_readme.py`` checks
that README.md holds each table verbatim, and ``python -m pytest_reasoning.settings.docs``
prints them to paste.
"""

from __future__ import annotations

from ..backends import LOCAL_BACKENDS
from ..backends.profiles import PROVIDERS
from .table import SETTINGS, request_params

__all__ = ["settings_table", "params_table", "backends_table", "tables"]


def _default(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def settings_table() -> str:
    """Every setting: option, ini key, marker keyword, default, and what it does."""
    rows = ["| option | ini key | marker keyword | default | what |", "|---|---|---|---|---|"]
    for s in SETTINGS.values():
        what = s.help.split(" (default")[0]
        rows.append(
            f"| `{s.option}` | {f'`{s.dest}`' if s.ini else '(never in files)'} | "
            f"{f'`{s.key}=`' if s.marker else '—'} | {_default(s.default)} | {what} |"
        )
    return "\n".join(rows)


def params_table() -> str:
    """Every request parameter ``reasoning_model(...)`` takes, its type, and which
    backends honour it (the others ignore it)."""
    rows = ["| parameter | type | honoured by |", "|---|---|---|"]
    for name, (kind, backends) in request_params().items():
        kinds = kind if isinstance(kind, tuple) else (kind,)
        api = [b for b in backends if b in PROVIDERS]
        local = [b for b in backends if b in LOCAL_BACKENDS]
        who = ", ".join(
            [*(["API backends"] if len(api) == len(PROVIDERS) else api), *(["local backends"] if local else [])]
        )
        rows.append(f"| `{name}` | {' or '.join(k.__name__ for k in kinds)} | {who} |")
    return "\n".join(rows)


def backends_table() -> str:
    """Every API backend: where its reasoning comes back, how thinking is switched
    (the first line of its switch's docstring), its key and base-URL variables, and
    its default base URL."""
    rows = ["| backend | reasoning read from | thinking switch sent | key from | base URL from |", "|---|---|---|---|---|"]
    for name, p in PROVIDERS.items():
        keys = ", ".join(f"`${v}`" for v in p.key_env) + ("" if p.key_required else " (optional)")
        urls = ", ".join(f"`${v}`" for v in p.base_url_env) + (f", else {p.base_url}" if p.base_url else "")
        switch = " ".join((p.switch.__doc__ or "").split()).split(": ", 1)[-1].rstrip(".").replace("``", "`")
        switch += "; streams whenever thinking is on" if p.stream_when_thinking else ""
        rows.append(f"| `{name}` | {p.reasoning_shown} | {switch} | {keys} | {urls} |")
    return "\n".join(rows)


def tables() -> dict[str, str]:
    """The three tables by name (``settings``, ``params``, ``backends``)."""
    return {"settings": settings_table(), "params": params_table(), "backends": backends_table()}


if __name__ == "__main__":  # pragma: no cover
    for title, table in tables().items():
        print(f"<!-- {title} table: python -m pytest_reasoning.settings.docs -->\n{table}\n")
