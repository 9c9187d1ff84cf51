"""What streaming adds to the first token: `POST /chat/stream` through the local gateway.

A fake provider (FakeOpenAIServer, through the real langchain-openai client) sends its first
token 300 ms after the request and then 20 more, 20 ms apart. For each turn the script measures,
on the client's clock:

- time to the first `routing` event (from sending the request),
- our added latency to the first token: the first `token` event's arrival minus the moment the
  provider wrote its first token,
- the total time to `done`.

Two flows, `--turns` each (p50 / p95):
- supervisor: the supervisor answers itself, so its streamed reply is the paced one (the
  routing event comes with its first token);
- agent: the supervisor hands off at once (no content), the debt agent calls the ERP tool at once
  and streams its answer paced; routing is known before any paced token. Its answer is
  `{"text", "data"}` JSON, so the first token the user sees is the provider's second one, and
  that is the provider time the added latency is measured from.

Real PostgreSQL, Redis and demo business API, as in chat_turn.py (whose stack this reuses).

    uv run python bench/stream.py [--turns 50] [--warmup 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FIRST_TOKEN_S = 0.3
TOKEN_INTERVAL_S = 0.02
MORE_TOKENS = 20
AIM_ADDED_P95_MS = 50.0


@dataclass(frozen=True)
class Sample:
    routing_ms: float
    added_first_token_ms: float
    total_ms: float


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any], float]]:
    kind, data = "", ""
    for line in lines:
        if line.startswith("event:"):
            kind = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data = line.removeprefix("data:").strip()
        elif not line and data:
            yield kind, json.loads(data), time.perf_counter()
            kind, data = "", ""


def paced(reply: Any) -> Any:
    """The reply, paced, with exactly 1 + MORE_TOKENS content tokens when it has content: a
    supervisor's own answer of 21 words, or an agent's `{"text", "data"}` answer whose 21 chunks
    are `{"text":`, 18 words and `"data": null}` (the text then starts at the second token)."""
    from tests.support.fake_openai import PacedReply

    fields = {name: getattr(reply, name) for name in reply.__dataclass_fields__}
    content = fields.get("content")
    if content and content.lstrip().startswith("{"):
        words = " ".join(f"word{i}" for i in range(MORE_TOKENS - 2))
        fields["content"] = json.dumps({"text": words, "data": None})
    elif content:
        fields["content"] = " ".join(f"word{i}" for i in range(MORE_TOKENS + 1))
    return PacedReply(**fields).paced(FIRST_TOKEN_S, TOKEN_INTERVAL_S)


class Provider:
    """The scripted model's replies, each paced; remembers the replies of the current turn."""

    def __init__(self) -> None:
        from tests.support.scripted_model import ScriptedModel

        self._model = ScriptedModel()
        self.replies: list[Any] = []

    def __call__(self, body: dict[str, Any]) -> Any:
        reply = paced(self._model(body))
        self.replies.append(reply)
        return reply

    def first_token_at(self) -> float:
        """When the provider wrote the first token of text the user sees."""
        for reply in self.replies:
            if not reply.sent_at:
                continue
            # A JSON answer's first chunk is `{"text":`; the text starts with the next one.
            return float(reply.sent_at[1 if reply.content.lstrip().startswith("{") else 0])
        raise RuntimeError("the provider sent no token")


def one_turn(client: Any, token: str, message: str, provider: Provider) -> Sample:
    provider.replies.clear()
    started = time.perf_counter()
    arrived: dict[str, float] = {}
    with client.stream(
        "POST",
        "/api/acme/chat/stream",
        json={"message": message},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        if response.status_code != 200:
            response.read()
            raise RuntimeError(f"stream refused: {response.status_code} {response.text}")
        for kind, data, at in _events(response.iter_lines()):
            arrived.setdefault(kind, at)
            if kind == "error":
                raise RuntimeError(f"the turn failed: {data}")
    if "token" not in arrived or "answer" not in arrived:
        raise RuntimeError(f"incomplete stream: {sorted(arrived)}")
    return Sample(
        routing_ms=(arrived["routing"] - started) * 1000,
        added_first_token_ms=(arrived["token"] - provider.first_token_at()) * 1000,
        total_ms=(arrived["done"] - started) * 1000,
    )


def main() -> int:
    # bench/chat_turn.py: database, Redis, demo API, fake provider; logs to /dev/null
    import chat_turn
    import httpx
    from chat_turn import quiet_stdout, stack

    # The debt card's text is streamed from the model's JSON reply (prompt-and-parse); through
    # the provider's structured output (a tool call) a card sends no tokens, only its answer.
    chat_turn.LLM_EXTRA["structured_output"] = "prompt"

    from tests.integration.stream_support import serve_repo_gateway

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=50, help="measured turns per flow")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured turns per flow first")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")

    flows: dict[str, str] = {"supervisor": "hello there", "agent": "Debt for MST 0123456789"}
    results: dict[str, list[Sample]] = {}
    with (
        stack() as env,
        quiet_stdout() as out,
        serve_repo_gateway() as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        provider = Provider()
        env.fake.responder = provider

        def run(message: str) -> Sample:
            return one_turn(client, env.token, message, provider)

        for name, message in flows.items():
            for _ in range(args.warmup):
                run(message)
            results[name] = [run(message) for _ in range(args.turns)]
        report(results, turns=args.turns, out=out)
    return 0


def report(results: dict[str, list[Sample]], *, turns: int, out: TextIO) -> None:
    def print(text: str = "") -> None:  # the real stdout: the logs go to /dev/null
        out.write(text + "\n")

    print(
        f"\nstreamed chat turn through the local gateway: {turns} turns per flow; the "
        f"provider's first token after {FIRST_TOKEN_S * 1000:.0f} ms, then {MORE_TOKENS} "
        f"tokens {TOKEN_INTERVAL_S * 1000:.0f} ms apart (per model call)\n"
    )
    print(f"{'flow':<11} {'metric':<34} {'p50 ms':>8} {'p95 ms':>8}")
    worst_added = 0.0
    for name, samples in results.items():
        rows = {
            "time to first routing event": [s.routing_ms for s in samples],
            "first token: our added latency": [s.added_first_token_ms for s in samples],
            "total time (to done)": [s.total_ms for s in samples],
        }
        for metric, values in rows.items():
            print(f"{name:<11} {metric:<34} {statistics.median(values):>8.1f} {p95(values):>8.1f}")
        worst_added = max(worst_added, p95(rows["first token: our added latency"]))
    verdict = "met" if worst_added <= AIM_ADDED_P95_MS else "NOT met"
    print(f"\naim: added latency to the first token <= {AIM_ADDED_P95_MS:.0f} ms p95: {verdict}")


if __name__ == "__main__":
    raise SystemExit(main())
