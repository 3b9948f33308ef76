"""Make the example cassettes from the seed experiment's published traces.

Usage:  python scripts/make_seed_cassettes.py SEED_TRACES_DIR

SEED_TRACES_DIR holds ``deepseek-prompt{1,2}.json`` and ``qwen3max-prompt{1,2}.json``
(messages, reasoning and answer as published with the experiment, May 2025).  Each is
written into ``example_tests/cassettes/test_seed_experiment.json`` in its provider's
real wire format, keyed on the request that ``example_tests/test_seed_experiment.py``
makes:

- DeepSeek (``deepseek-reasoner``): a non-streamed chat completion whose message holds
  ``reasoning_content`` and ``content``;
- Qwen3-Max on DashScope (compatible mode, thinking needs ``stream=True``): streamed
  ``chat.completion.chunk`` objects, ``reasoning_content`` deltas then ``content``
  deltas, the last one with ``finish_reason: "stop"``.

Token counts, ids and timings were not published, so none are written: ``usage`` is
absent and the traces report ``None``; ids are the seed file names.  The stream's
chunk boundaries (every 24 characters) are this script's choice; the text is exact.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_reasoning.backends.base import RawResponse, Request  # noqa: E402
from pytest_reasoning.recording import Cassette  # noqa: E402

CASSETTE = ROOT / "example_tests" / "cassettes" / "test_seed_experiment.json"
#: The params the example tests pass (``reasoning_model(prompt, thinking=True)``).
PARAMS = {"thinking": True}
CHUNK_CHARS = 24


def deepseek_completion(seed: dict) -> dict:
    """A DeepSeek ``/chat/completions`` JSON body for a seed trace."""
    return {
        "id": seed["id"],
        "object": "chat.completion",
        "model": seed["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": seed["answer"], "reasoning_content": seed["reasoning"]},
                "finish_reason": "stop",
            }
        ],
    }


def dashscope_chunks(seed: dict) -> list[dict]:
    """DashScope compatible-mode stream chunks (the ``data:`` JSON objects) for a seed trace."""

    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {
            "id": seed["id"],
            "object": "chat.completion.chunk",
            "model": seed["model"],
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def pieces(text: str) -> list[str]:
        return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]

    chunks = [chunk({"role": "assistant", "content": None, "reasoning_content": ""})]
    chunks += [chunk({"content": None, "reasoning_content": p}) for p in pieces(seed["reasoning"])]
    chunks += [chunk({"content": p, "reasoning_content": None}) for p in pieces(seed["answer"])]
    chunks.append(chunk({"content": ""}, "stop"))
    return chunks


def main(seed_dir: Path) -> None:
    cassette = Cassette(CASSETTE)
    for name in ("deepseek-prompt1", "deepseek-prompt2", "qwen3max-prompt1", "qwen3max-prompt2"):
        seed = json.loads((seed_dir / f"{name}.json").read_text(encoding="utf-8"))
        if name.startswith("deepseek"):
            backend, raw = "deepseek", RawResponse("openai.chat.completion", deepseek_completion(seed))
        else:
            backend, raw = "dashscope", RawResponse("openai.chat.completion.chunks", dashscope_chunks(seed))
        request = Request(backend, seed["model"], tuple(seed["messages"]), dict(PARAMS))
        cassette.record(request, raw)
    cassette.save()
    print(f"wrote {CASSETTE.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: python scripts/make_seed_cassettes.py SEED_TRACES_DIR")
    main(Path(sys.argv[1]))
