"""Typed verdicts: what each assertion records, the JSON form snapshots store, and reading it back."""

from __future__ import annotations

import pytest

from pytest_reasoning import Detour, Trace, assert_answer, assert_reasoning_budget, assert_reasoning_path, check_detours
from pytest_reasoning.verdicts import Checks, Verdict, verdict_from_json


def test_each_assertion_records_a_typed_verdict():
    trace = Trace(reasoning="Dallas is in Texas. Wait, the NFL. Austin.", answer="Austin")
    assert_answer(trace, contains="Austin")
    check_detours(trace, Detour("sports", terms=["NFL"]))
    assert_reasoning_path(trace, ["Dallas", ["Texas", "テキサス"]])
    assert_reasoning_budget(trace, max_chars=10_000)
    assert list(trace.checks) == [
        Verdict("answer", "contains 'Austin'", True),
        Verdict("detour", "sports", False, hits=1),
        Verdict("path", "Dallas -> Texas|テキサス", True),
        Verdict("budget", "not truncated", True),
        Verdict("budget", "chars <= 10000", True),
    ]
    assert trace.checks.of_kind("budget")[1].label == "chars <= 10000"
    assert trace.checks.get("detour", "sports").hits == 1 and trace.checks.get("detour", "weather") is None


def test_json_form_groups_in_first_recorded_order_and_replaces_in_place():
    checks = Checks()
    checks.record(Verdict("budget", "chars <= 10", True))
    checks.record(Verdict.detour("sports", 0))
    checks.record(Verdict("budget", "not truncated", True))
    checks.record(Verdict("budget", "chars <= 10", False))  # again: same place, new outcome
    assert checks.to_dict() == {"budget": {"chars <= 10": False, "not truncated": True}, "detours": {"sports": 0}}
    assert list(checks.to_dict()) == ["budget", "detours"]
    assert list(checks.to_dict()["budget"]) == ["chars <= 10", "not truncated"]
    assert Checks.from_dict(checks.to_dict()) == checks
    assert checks.stable_view() == {"budget": {"chars <= 10": False, "not truncated": True}, "detours": {"sports": False}}


def test_stable_value_of_a_detour_is_whether_it_was_taken():
    assert Verdict.detour("sports", 3).stable_value() is True
    assert Verdict.detour("sports", 0).stable_value() is False
    assert Verdict.detour("sports", 3).passed is False and Verdict.detour("sports", 0).passed is True
    assert Verdict("answer", "equals 'x'", False).stable_value() is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reasoning", "x", True), "unknown verdict kind 'reasoning'; use one of answer, detour, path, budget"),
        (("detour", "sports", True), "detour verdict 'sports' needs hits >= 0, got None"),
        (("detour", "sports", True, 2), "passed must be hits == 0; use Verdict.detour()"),
        (("answer", "x", True, 2), "only detour verdicts count hits"),
        (("path", 3, True), "a path verdict's label is text, got int"),
    ],
)
def test_bad_verdicts_are_refused_in_one_line(args, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Verdict(*args)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "checks must be a JSON object of groups, got list"),
        ({"answer": [True]}, "checks.answer must be a JSON object of verdicts, got list"),
        ({"vibes": {"x": True}}, "unknown checks group 'vibes'; known: answer, detours, path, budget"),
        ({"detours": {"sports": True}}, "checks.detours.sports must be a hit count, got True"),
        ({"path": {"a -> b": 1}}, "checks.path.a -> b must be true or false, got 1"),
    ],
)
def test_reading_a_bad_checks_object_says_what_is_wrong(data, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Checks.from_dict(data)


def test_reading_back_gives_typed_verdicts():
    assert verdict_from_json("detours", "sports", 2) == Verdict.detour("sports", 2)
    assert verdict_from_json("answer", "equals ''", True) == Verdict("answer", "equals ''", True)
    assert Checks.from_dict(None) == Checks() and not Checks() and len(Checks.from_dict({"path": {"a": True}})) == 1
