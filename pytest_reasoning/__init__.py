"""pytest-reasoning: prompt regression tests for reasoning LLMs.

Public names only; nothing heavy (torch, transformers, unsloth, openai) is imported.
"""

import pytest

pytest.register_assert_rewrite("pytest_reasoning.assertions")

from .assertions import (  # noqa: E402
    assert_answer,
    assert_no_detour,
    assert_reasoning_budget,
    assert_rate_change,
    assert_reasoning_path,
    check_detours,
)
from .diff import diff_traces  # noqa: E402
from .text.detours import DEFAULT_HESITATION_MARKERS, Detour, DetourHit  # noqa: E402
from .wire import trace_from_openai, trace_from_openai_stream  # noqa: E402
from .sample import TraceSample, compare_samples  # noqa: E402
from .text.sentences import split_sentences  # noqa: E402
from .text.thinking import split_thinking  # noqa: E402
from .trace import BackendInfo, Trace, Usage  # noqa: E402

__all__ = [
    "Trace",
    "Usage",
    "BackendInfo",
    "trace_from_openai",
    "trace_from_openai_stream",
    "split_thinking",
    "split_sentences",
    "Detour",
    "DetourHit",
    "DEFAULT_HESITATION_MARKERS",
    "assert_answer",
    "assert_no_detour",
    "assert_reasoning_path",
    "assert_reasoning_budget",
    "check_detours",
    "diff_traces",
    "TraceSample",
    "compare_samples",
    "assert_rate_change",
]
__version__ = "0.1.0"
