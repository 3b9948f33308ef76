"""64 chat completions against a local OpenAI-compatible server that sleeps 300 ms per
request, through the real OpenAIBackend ("vllm"): concurrency=1 vs concurrency=16.

Goal: concurrency 16 is >= 12x faster than sequential; responses come back in request order.

    python benchmarks/bench_api.py
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pytest_reasoning.backends.base import Request, to_trace
from pytest_reasoning.backends.openai_api import OpenAIBackend

N, DELAY_S, CONCURRENCY, GOAL = 64, 0.3, 16, 12.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server
    disable_nagle_algorithm = True  # else headers + body in two writes cost a 40 ms delayed ACK

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        time.sleep(DELAY_S)
        out = json.dumps({
            "id": "cmpl-" + prompt, "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant", "content": f"answer to {prompt}",
                "reasoning_content": f"Thinking about {prompt}. The answer follows."}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: object) -> None:
        pass


def timed(backend: OpenAIBackend, requests: list[Request]) -> tuple[float, list]:
    start = time.perf_counter()
    raws = backend.run(requests)
    return time.perf_counter() - start, raws


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    requests = [Request("vllm", "m", ({"role": "user", "content": f"prompt-{i}"},), {"thinking": True})
                for i in range(N)]

    seq = OpenAIBackend("vllm", "m", base_url=base_url, concurrency=1, max_retries=0)
    par = OpenAIBackend("vllm", "m", base_url=base_url, concurrency=CONCURRENCY, max_retries=0)
    seq.run(requests[:1]), par.run(requests[:1])  # warm up: import openai, build clients
    t_seq, raws_seq = timed(seq, requests)
    t_par, raws_par = timed(par, requests)
    server.shutdown()

    for raws in (raws_seq, raws_par):
        answers = [to_trace(r, raw).answer for r, raw in zip(requests, raws)]
        assert answers == [f"answer to prompt-{i}" for i in range(N)], "responses out of request order"
        assert all(to_trace(r, raw).reasoning for r, raw in zip(requests, raws))
    ratio = t_seq / t_par
    ideal = N * DELAY_S / -(-N // CONCURRENCY) / DELAY_S
    print(f"{N} calls, server sleeps {DELAY_S * 1000:.0f} ms each")
    print(f"  concurrency=1 : {t_seq:6.2f} s  ({t_seq / N * 1000:.0f} ms/call)")
    print(f"  concurrency={CONCURRENCY}: {t_par:6.2f} s  ({t_par / N * 1000:.0f} ms/call)")
    print(f"  speed-up      : {ratio:6.2f}x  (ideal {ideal:.0f}x; goal >= {GOAL:g}x) -> "
          f"{'MET' if ratio >= GOAL else 'MISSED'}")
    print("  order         : responses in request order at both concurrencies -> OK")


if __name__ == "__main__":
    main()
