"""The README's tables of settings, parameters and backends are the ones the
declarations give (regenerate with ``python -m pytest_reasoning.settings.docs``)."""

from pathlib import Path

import pytest

from pytest_reasoning.settings.docs import tables

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["settings", "params", "backends"])
def test_readme_holds_the_declared_table(name):
    assert tables()[name] in README, f"README.md's {name} table is stale; run python -m pytest_reasoning.settings.docs"


def test_every_option_is_in_the_settings_table():
    from pytest_reasoning.settings.table import SETTINGS

    for setting in SETTINGS.values():
        assert f"`{setting.option}`" in tables()["settings"]
