"""Typed verdicts: what the assertions concluded about a trace.

Each assertion (``assert_answer``, ``check_detours`` / ``assert_no_detour``,
``assert_reasoning_path``, ``assert_reasoning_budget``) records one :class:`Verdict` per
thing it checked in the trace's :class:`Checks`.  Snapshots store them in one JSON form,
the "stable" snapshot mode compares them, and the mismatch summary reads them, all
through this module:

    {"answer": {label: bool}, "detours": {name: hits}, "path": {label: bool},
     "budget": {label: bool}}

Groups appear in the order their first verdict was recorded, labels likewise, and a
verdict recorded again under the same kind and label replaces the earlier one in place.

A verdict is keyed by ``(kind, label)`` and knows its own JSON value, so another kind of
verdict (say, a pass rate over a *sample* of traces, with its interval) is one more
class with ``kind``, ``label``, ``passed``, :meth:`Verdict.to_json` and
:meth:`Verdict.stable_value`, stored as a JSON object in the same groups and read back
by :func:`verdict_from_json`; :class:`Checks` and the snapshot format stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["KINDS", "GROUPS", "Verdict", "VerdictLike", "Checks", "verdict_from_json"]

#: The kinds of verdict, in the words the assertions use.
KINDS = ("answer", "detour", "path", "budget")
#: The JSON group (snapshot ``checks`` key) of each kind.
GROUPS = {"answer": "answer", "detour": "detours", "path": "path", "budget": "budget"}
_KIND_OF_GROUP = {group: kind for kind, group in GROUPS.items()}


class VerdictLike(Protocol):
    """What :class:`Checks` needs of a verdict: its key, outcome and JSON forms."""

    kind: str
    label: str
    passed: bool

    def to_json(self) -> Any:
        """The value stored under ``checks[group][label]`` in a snapshot."""

    def stable_value(self) -> Any:
        """What the "stable" snapshot mode compares (wording-independent)."""


@dataclass(frozen=True)
class Verdict:
    """One assertion's conclusion about one trace.

    Attributes:
        kind: ``"answer"``, ``"detour"``, ``"path"`` or ``"budget"`` (:data:`KINDS`).
        label: what was checked, as the snapshot names it: ``"contains 'Austin'"``,
            a detour's name (``"sports"``), ``"Dallas -> Texas -> Austin"``,
            ``"chars <= 4000"``.
        passed: the check held (for a detour: it was not taken).
        hits: for a detour, how many times it was found (``int`` >= 0); ``None``
            for every other kind.

    Raises:
        ValueError: unknown ``kind``, a ``label`` that is not text, a detour without a hit count
            (or with one that disagrees with ``passed``), or a hit count on
            another kind.
    """

    kind: str
    label: str
    passed: bool
    hits: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown verdict kind {self.kind!r}; use one of {', '.join(KINDS)}")
        if not isinstance(self.label, str):
            raise ValueError(f"a {self.kind} verdict's label is text, got {type(self.label).__name__}")
        if self.kind == "detour":
            if isinstance(self.hits, bool) or not isinstance(self.hits, int) or self.hits < 0:
                raise ValueError(f"detour verdict {self.label!r} needs hits >= 0, got {self.hits!r}")
            if self.passed != (self.hits == 0):
                raise ValueError(f"detour verdict {self.label!r}: passed must be hits == 0; use Verdict.detour()")
        elif self.hits is not None:
            raise ValueError(f"only detour verdicts count hits; drop hits= from the {self.kind} verdict")

    @classmethod
    def detour(cls, name: str, hits: int) -> Verdict:
        """The verdict on detour ``name`` found ``hits`` times (passed when 0)."""
        return cls("detour", name, hits == 0, hits)

    @property
    def group(self) -> str:
        """The snapshot ``checks`` key of this kind (``"detours"`` for a detour)."""
        return GROUPS[self.kind]

    def to_json(self) -> bool | int:
        """The stored value: the hit count for a detour, else ``passed``."""
        return self.hits if self.kind == "detour" else self.passed

    def stable_value(self) -> bool:
        """For a detour, whether it was taken at all (a re-worded trace may hit it a
        different number of times); for the others, ``passed``."""
        return bool(self.hits) if self.kind == "detour" else self.passed


def verdict_from_json(group: str, label: str, value: Any) -> Verdict:
    """Read one stored verdict back: ``value`` is a bool (answer, path, budget) or a
    hit count (detours), as :meth:`Verdict.to_json` wrote it.

    Raises:
        ValueError: unknown ``group`` or a value of the wrong type for it.
    """
    kind = _KIND_OF_GROUP.get(group)
    if kind is None:
        raise ValueError(f"unknown checks group {group!r}; known: {', '.join(GROUPS.values())}")
    if kind == "detour":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"checks.detours.{label} must be a hit count, got {value!r}")
        return Verdict.detour(label, value)
    if not isinstance(value, bool):
        raise ValueError(f"checks.{group}.{label} must be true or false, got {value!r}")
    return Verdict(kind, label, value)


class Checks:
    """The verdicts recorded on one trace (``trace.checks``), keyed by kind and label.

    Iterating gives the verdicts in recording order (a re-recorded key keeps its
    place); ``len()`` counts them; an empty ``Checks`` is falsy.  Two are equal when
    they hold the same verdicts in the order a snapshot stores them (grouped by kind,
    as :meth:`to_dict`), so a snapshot read back equals what was written.
    """

    def __init__(self, verdicts: Iterable[VerdictLike] = ()) -> None:
        self._verdicts: dict[tuple[str, str], VerdictLike] = {}
        for verdict in verdicts:
            self.record(verdict)

    def record(self, verdict: VerdictLike) -> VerdictLike:
        """Keep ``verdict``, replacing one of the same kind and label; returns it."""
        self._verdicts[(verdict.kind, verdict.label)] = verdict
        return verdict

    def get(self, kind: str, label: str) -> VerdictLike | None:
        """The verdict of ``kind`` on ``label``, or ``None``."""
        return self._verdicts.get((kind, label))

    def of_kind(self, kind: str) -> list[VerdictLike]:
        """The verdicts of one kind, in recording order."""
        return [v for v in self._verdicts.values() if v.kind == kind]

    def __iter__(self) -> Iterator[VerdictLike]:
        return iter(list(self._verdicts.values()))

    def __len__(self) -> int:
        return len(self._verdicts)

    def _stored_order(self) -> list[VerdictLike]:
        groups: dict[str, list[VerdictLike]] = {}
        for verdict in self._verdicts.values():
            groups.setdefault(verdict.kind, []).append(verdict)
        return [verdict for group in groups.values() for verdict in group]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Checks):
            return NotImplemented
        return self._stored_order() == other._stored_order()

    def __repr__(self) -> str:
        return f"Checks({list(self._verdicts.values())!r})"

    def _grouped(self, value: str) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for verdict in self._stored_order():
            out.setdefault(GROUPS[verdict.kind], {})[verdict.label] = getattr(verdict, value)()
        return out

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The JSON form snapshots store: ``{group: {label: value}}`` (see the module
        docstring), groups in the order their first verdict was recorded."""
        return self._grouped("to_json")

    def stable_view(self) -> dict[str, dict[str, Any]]:
        """Like :meth:`to_dict` with each verdict's :meth:`~Verdict.stable_value`
        (a detour: taken or not, whatever its hit count)."""
        return self._grouped("stable_value")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Checks:
        """Read :meth:`to_dict` output back (``None`` or ``{}`` gives no verdicts).

        Raises:
            ValueError: not a ``{group: {label: value}}`` object, an unknown group or
                a value of the wrong type.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError(f"checks must be a JSON object of groups, got {type(data).__name__}")
        verdicts = []
        for group, entries in data.items():
            if not isinstance(entries, Mapping):
                raise ValueError(f"checks.{group} must be a JSON object of verdicts, got {type(entries).__name__}")
            verdicts += [verdict_from_json(group, label, value) for label, value in entries.items()]
        return cls(verdicts)
