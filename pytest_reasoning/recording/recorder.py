"""The recorder: runs one test's requests through its cassette in a record mode, and
never records what a replay could not read or what a failed call returned."""

from __future__ import annotations

from collections.abc import Callable

from ..backends.base import BackendError, RawResponse, Request, to_trace
from .cassette import Cassette, MissingRecording, backend_and_model, redacted, shown
from .keys import content_identified

__all__ = ["Recorder"]



def _one_line(error: BaseException) -> str:
    """``error`` on one line; parser errors (``ValueError``) speak for themselves,
    others are prefixed with their type."""
    text = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
    return " ".join(text.split())


class Recorder:
    """Runs requests for one test through its cassette, in a record mode.

    Args:
        cassette: the test's :class:`Cassette`.
        mode: one of ``none``, ``once``, ``new_episodes``, ``all``, ``off``.
        live: runs requests on the live backend (``list[Request] -> list[RawResponse]``);
            called only when a live call is needed, so replay never imports ``openai``
            or ``torch``.
        rerun_hint: the command that re-runs the test (for the missing-recording
            message).
        secrets: values to redact from recordings (the API key in use).
        test: the test's node id, written into the recordings it makes.
        snapshot: the test takes a trace snapshot, so the commands that record it
            for it also update its snapshot (``--snapshot-update``).
    """

    def __init__(
        self,
        cassette: Cassette,
        mode: str,
        live: Callable[[list[Request]], list[RawResponse]],
        rerun_hint: str,
        secrets: tuple[str, ...] = (),
        test: str | None = None,
        snapshot: bool = False,
    ):
        self.cassette, self.mode, self.test = cassette, mode, test
        self._live, self._hint, self._secrets = live, rerun_hint, secrets
        self._update = " --snapshot-update" if snapshot else ""

    def run(self, requests: list[Request]) -> list[RawResponse]:
        """Responses for ``requests`` in order, replayed or live per the record mode.

        Raises:
            MissingRecording: a request has no recording and the mode forbids a call.
            CassetteError: the cassette is unreadable.
            BackendError: a live call failed (nothing is recorded for it).
        """
        if self.mode == "off":  # nothing kept, but what the test sees is redacted as a recording would be
            self.cassette.bypassed = True
            return [redacted(raw, self._secrets) for raw in self._live(requests)]
        self.cassette.interactions  # load (and validate) before deciding anything
        replayable = self.mode != "all"
        may_record = self.mode in ("new_episodes", "all") or (self.mode == "once" and not self.cassette.existed)
        out: list[RawResponse | None] = [self.cassette.lookup(r, self.test) if replayable else None for r in requests]
        missing = [i for i, raw in enumerate(out) if raw is None]
        if missing and not may_record:
            raise MissingRecording(self._missing_message(requests[missing[0]]))
        if missing:
            try:
                live = self._live([requests[i] for i in missing])
            except BackendError as e:  # keep the answers that did come (they were paid for)
                partial = getattr(e, "partial", None) or []
                if len(partial) == len(missing):
                    self._record([(i, raw) for i, raw in zip(missing, partial) if raw is not None], requests, out)
                raise
            self._record(list(zip(missing, live)), requests, out)
        return out  # type: ignore[return-value]

    def _record(
        self, answered: list[tuple[int, RawResponse]], requests: list[Request], out: list[RawResponse | None]
    ) -> None:
        """Record each ``(index, response)``, and put the recorded form in ``out``.

        Raises:
            BackendError: a response a replay could not read (then nothing is recorded).
        """
        for i, raw in answered:  # never record what a replay could not read
            try:
                to_trace(requests[i], raw)
            except Exception as e:
                raise BackendError(f"the {requests[i].backend} response to this request cannot be read "
                                   f"({_one_line(e)}); nothing was recorded") from None
        for i, raw in answered:
            self.cassette.record(requests[i], raw, self._secrets, self.test)
            out[i] = self.cassette.lookup(requests[i], self.test)  # as recorded (redacted): what a replay gives

    def unreadable_message(self, error: BaseException) -> str:
        """One line for a response the parser cannot read (a hand-edited or foreign
        recording): which cassette, and how to re-record it."""
        if self.mode == "off":
            return f"the response to this request cannot be read: {_one_line(error)}"
        return (f"a recording in {shown(self.cassette.path)} cannot be read ({_one_line(error)}); "
                f"re-record it with: {self._hint} --reasoning-record-mode=all{self._update}")

    def _missing_message(self, request: Request) -> str:
        diff = self.cassette.nearest_difference(request)
        why = f" (closest recording differs in: {diff})" if diff else ""
        versions = 0 if content_identified(request) else len(self.cassette.by_path_keys(request))
        if versions > 1:  # a local model folder that is not here: its path matches several contents
            why = f" ({versions} versions of this model folder match by its path; put the folder here to pick one)"
        mode = "new_episodes" if self.cassette.existed else "once"
        who = backend_and_model(request.backend, request.model)
        return (f"no recording for this {who} request in {shown(self.cassette.path)}{why}; "
                f"record it with: {self._hint} --reasoning-record-mode={mode}{self._update}")
